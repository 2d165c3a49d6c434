# Tests of libplugbox (host/); included from tests/CMakeLists.txt.
#   test_host          no real bridge: statuses, checks before the load,
#                      fake bridges (shell scripts) speaking the protocol;
#                      it links pb_proto to build their frames
#   test_host_plugins  the real bridge with real and test plugins
#   test_host_static   the same against the static library, which finds
#                      the bridge next to the executable
pb_add_test(test_host SOURCES test_host.c host_fixture.c LIBS plugbox pb_proto
  TIMEOUT 120)
pb_add_test(test_host_plugins SOURCES test_host_plugins.c host_fixture.c
  LIBS plugbox TIMEOUT 120)
pb_add_test(test_host_static SOURCES test_host_plugins.c host_fixture.c
  LIBS plugbox_static TIMEOUT 120)
if(TARGET pb_test_plugins)
  add_dependencies(test_host_plugins pb_test_plugins)
  add_dependencies(test_host_static pb_test_plugins)
endif()
