# Crashes, hangs and lies (tests/plugins/faulty.c) and restarts; included
# from tests/CMakeLists.txt.
# host/crash_note.c is pure code the library hides; the test compiles it
# in to feed the note parser garbage directly.
pb_add_test(test_isolation SOURCES test_isolation.c host_fixture.c cpu_pin.c
  ${PROJECT_SOURCE_DIR}/host/crash_note.c LIBS plugbox m TIMEOUT 240)
if(TARGET pb_test_plugins)
  add_dependencies(test_isolation pb_test_plugins)
endif()

# The same test with --i386: a subset of the fault matrix, a death during
# process and a restart through plugbox-bridge-32 and the -m32 faulty
# plugin (tests/bridge32_helpers.cmake); skips, saying why, without them.
add_test(NAME test_isolation_i386 COMMAND test_isolation --i386)
set_tests_properties(test_isolation_i386 PROPERTIES TIMEOUT 120 ENVIRONMENT
  "PB_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/test-plugins;PB_BIN_DIR=${CMAKE_BINARY_DIR}/bin;PB_TEST_PLUGIN_DIR_32=${PB_TEST_PLUGIN_DIR_32}")
