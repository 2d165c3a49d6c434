# The 32-bit bridge (cmake/bridge32.cmake); included from
# tests/CMakeLists.txt.
#   test_bridge32  the shared block's layout on both architectures, the
#                  i386 test plugins through plugbox-bridge-32 against the
#                  known answers and the i386 reference (pb_ref32), and
#                  the real i386 plugins of scripts/fetch-i386.sh.
# Without the i386 libraries (PB_BRIDGE32 OFF) the 32-bit cases skip.
add_executable(pb_shm_layout_dump shm_layout_dump.c)
target_link_libraries(pb_shm_layout_dump PRIVATE pb_common pb_warnings)

pb_add_test(test_bridge32 SOURCES test_bridge32.c bridged_signal.c
  LIBS plugbox pb_test_ref pb_test_ref_process TIMEOUT 900)
add_dependencies(test_bridge32 pb_shm_layout_dump)
if(PB_BRIDGE32)
  add_dependencies(test_bridge32 plugbox_i386)
endif()
set(pb_bridge32_env
  "PB_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/test-plugins"
  "PB_BIN_DIR=${CMAKE_BINARY_DIR}/bin"
  "PB_BRIDGE32=$<IF:$<BOOL:${PB_BRIDGE32}>,1,0>"
  "PB_TEST_PLUGIN_DIR_32=${PB_TEST_PLUGIN_DIR_32}"
  "PB_I386_ROOT=${PLUGBOX_I386_DEPS}/plugins")
set_tests_properties(test_bridge32 PROPERTIES ENVIRONMENT
  "${pb_bridge32_env}")
