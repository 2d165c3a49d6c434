# The audio path (shared block, futex doorbells, bridge audio thread);
# included from tests/CMakeLists.txt.
#   test_audio       test plugins, bridged vs in-process, and failures
#   test_audio_real  every installed real plugin, bridged vs in-process
#   test_audio_queue blocks queued ahead (pb_plugin_submit / collect)
#   test_audio_events  events the plugins raise (latency, automation)
#   test_anticipate  the bridge's model of a steady host, on synthetic rings
add_library(pb_test_ref_process STATIC ref_process.c)
target_include_directories(pb_test_ref_process PUBLIC ${PROJECT_SOURCE_DIR}
  ${PROJECT_SOURCE_DIR}/host)
target_link_libraries(pb_test_ref_process PUBLIC ${CMAKE_DL_LIBS} m
  PRIVATE pb_warnings)

pb_add_test(test_audio SOURCES test_audio.c host_fixture.c cpu_pin.c
  LIBS plugbox pb_test_ref_process pb_common m TIMEOUT 120)
if(TARGET pb_test_plugins)
  add_dependencies(test_audio pb_test_plugins)
endif()

pb_add_test(test_audio_queue SOURCES test_audio_queue.c host_fixture.c
  cpu_pin.c LIBS plugbox pb_test_ref_process m TIMEOUT 120)
if(TARGET pb_test_plugins)
  add_dependencies(test_audio_queue pb_test_plugins)
endif()

pb_add_test(test_audio_real SOURCES test_audio_real.c bridged_signal.c
  cpu_pin.c
  LIBS plugbox pb_test_ref pb_test_ref_process TIMEOUT 900)

pb_add_test(test_shm SOURCES test_shm.c LIBS pb_common)
pb_add_test(test_anticipate SOURCES test_anticipate.c
  ${PROJECT_SOURCE_DIR}/bridge/anticipate.c LIBS pb_common)

pb_add_test(test_audio_events SOURCES test_audio_events.c host_fixture.c
  LIBS plugbox Threads::Threads TIMEOUT 120)
if(TARGET pb_test_plugins)
  add_dependencies(test_audio_events pb_test_plugins)
endif()
