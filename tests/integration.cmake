# Integration tests: the test plugins and the installed real plugins opened
# through libplugbox, checked against known values and against the
# in-process reference loader (ref_vst2.c), which shares no code with the
# bridge.

# The reference loader and the known answers of the test plugins.
add_library(pb_test_ref STATIC ref_vst2.c ref_vst2_child.c ref_vst2_compare.c
  ref_list.c expect_info.c)
target_include_directories(pb_test_ref PUBLIC ${PROJECT_SOURCE_DIR}
  ${PROJECT_SOURCE_DIR}/host)
target_link_libraries(pb_test_ref PUBLIC PkgConfig::CMOCKA ${CMAKE_DL_LIBS}
  PRIVATE pb_warnings)

# The reference loader itself, on the test plugins and the real ones.
pb_add_test(test_ref_vst2 SOURCES test_ref_vst2.c LIBS pb_test_ref
  TIMEOUT 300)

# Each test plugin through the library: known answers, calls, failures.
pb_add_test(test_plugins SOURCES test_plugins.c LIBS plugbox pb_test_ref
  TIMEOUT 180)
if(PLUGBOX_SANITIZE)
  # A sanitized bridge reports a plugin's fault itself and exits.
  target_compile_definitions(test_plugins PRIVATE PB_TEST_SANITIZED=1)
endif()

# Every installed real plugin, bridged and in-process, must agree.
pb_add_test(test_real_plugins SOURCES test_real_plugins.c
  LIBS plugbox pb_test_ref TIMEOUT 600)

foreach(t test_ref_vst2 test_plugins test_real_plugins)
  add_dependencies(${t} pb_test_plugins)
endforeach()
