# The 32-bit sub-build's test helpers (cmake/bridge32.cmake), written to
# the main build's bin/ folder (PLUGBOX_OUTPUT_DIR):
#   pb_ref32               the reference loader and audio reference, i386
#   pb_shm_layout_dump-32  the shared block's layout as i386 sees it
# and, in its own test-plugins/ folder, the i386 builds of the test plugins
# test_bridge32, test_isolation_i386 (faulty) and test_sandbox_i386
# (hostile) use (without sanitizers, as in tests/plugins).
set(pb_t ${PROJECT_SOURCE_DIR}/tests)
add_executable(pb_ref32 ${pb_t}/ref32_main.c ${pb_t}/ref_vst2.c
  ${pb_t}/ref_vst2_child.c ${pb_t}/ref_process.c)
target_include_directories(pb_ref32 PRIVATE ${PROJECT_SOURCE_DIR}
  ${PROJECT_SOURCE_DIR}/host)
target_link_libraries(pb_ref32 PRIVATE ${CMAKE_DL_LIBS} m pb_warnings)

add_executable(pb_shm_layout_dump ${pb_t}/shm_layout_dump.c)
set_target_properties(pb_shm_layout_dump PROPERTIES
  OUTPUT_NAME pb_shm_layout_dump-32)
target_link_libraries(pb_shm_layout_dump PRIVATE pb_common pb_warnings)

set(pb_tp ${pb_t}/plugins)
add_library(pb_test_plugin_base STATIC ${pb_tp}/plugin_base.c)
target_include_directories(pb_test_plugin_base PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(pb_test_plugin_base PRIVATE pb_warnings m)
set(pb_tp_targets pb_test_plugin_base)
foreach(name gain synth odd delay crash_load noentry faulty hostile)
  add_library(pb_test_${name} MODULE ${pb_tp}/${name}.c)
  set_target_properties(pb_test_${name} PROPERTIES PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/test-plugins)
  target_link_libraries(pb_test_${name} PRIVATE pb_test_plugin_base
    pb_warnings m)
  list(APPEND pb_tp_targets pb_test_${name})
endforeach()
# Faults at open need a copy per fault (tests/plugins/CMakeLists.txt); the
# i386 isolation run (test_isolation --i386) uses these few.
include(${pb_tp}/faults.cmake)
set(n 1)
foreach(fault ${PB_FAULTY_FAULTS})
  if(fault MATCHES "^(segv|abort|exit|stack|loop|garbage_fd)$")
    add_library(pb_test_faulty_open_${fault} MODULE ${pb_tp}/faulty.c)
    set_target_properties(pb_test_faulty_open_${fault} PROPERTIES
      PREFIX "" LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/test-plugins)
    target_compile_definitions(pb_test_faulty_open_${fault} PRIVATE
      PB_FAULTY_OPEN=${n})
    target_link_libraries(pb_test_faulty_open_${fault} PRIVATE
      pb_test_plugin_base pb_warnings m)
    list(APPEND pb_tp_targets pb_test_faulty_open_${fault})
  endif()
  math(EXPR n "${n} + 1")
endforeach()
set_target_properties(${pb_tp_targets} PROPERTIES COMPILE_OPTIONS ""
  LINK_OPTIONS "")
