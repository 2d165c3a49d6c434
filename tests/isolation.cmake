# Crashes, hangs and lies (tests/plugins/faulty.c) and restarts; included
# from tests/CMakeLists.txt.
# host/crash_note.c is pure code the library hides; the test compiles it
# in to feed the note parser garbage directly.
pb_add_test(test_isolation SOURCES test_isolation.c host_fixture.c
  ${PROJECT_SOURCE_DIR}/host/crash_note.c LIBS plugbox m TIMEOUT 240)
if(TARGET pb_test_plugins)
  add_dependencies(test_isolation pb_test_plugins)
endif()
