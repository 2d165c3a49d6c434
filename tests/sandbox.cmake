# The bridge's sandbox through libplugbox (test_sandbox.c): the hostile
# test plugin under each profile, real plugins confined and not.
pb_add_test(test_sandbox SOURCES test_sandbox.c host_fixture.c LIBS plugbox
  pb_proto
  TIMEOUT 180)
add_dependencies(test_sandbox pb_test_plugins plugbox-cli)

# Every installed real plugin under strict against off: same INFO, and
# bit-identical output of the test signal (test_sandbox_real.c).
pb_add_test(test_sandbox_real SOURCES test_sandbox_real.c
  LIBS plugbox pb_test_ref pb_test_ref_process TIMEOUT 300)
add_dependencies(test_sandbox_real plugbox-bridge)

# The allow list compiled at build time against libseccomp now
# (test_sandbox_bpf.c).
pb_add_test(test_sandbox_bpf SOURCES test_sandbox_bpf.c
  LIBS pb_bridge_sandbox)
target_include_directories(test_sandbox_bpf PRIVATE
  ${PROJECT_BINARY_DIR}/bridge)

# The same test with --i386: the hostile matrix under strict, basic and
# off through plugbox-bridge-32 and the -m32 hostile plugin
# (tests/bridge32_helpers.cmake); skips, saying why, without them.
add_test(NAME test_sandbox_i386 COMMAND test_sandbox --i386)
set_tests_properties(test_sandbox_i386 PROPERTIES TIMEOUT 120 ENVIRONMENT
  "PB_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/test-plugins;PB_BIN_DIR=${CMAKE_BINARY_DIR}/bin;PB_TEST_PLUGIN_DIR_32=${PB_TEST_PLUGIN_DIR_32}")
# Both make and remove /tmp/pb-hostile-marker (the see_host_tmp action):
# never at the same time under ctest -j.
set_tests_properties(test_sandbox test_sandbox_i386 PROPERTIES
  RESOURCE_LOCK pb_hostile_tmp_marker)
