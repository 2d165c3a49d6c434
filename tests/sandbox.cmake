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
