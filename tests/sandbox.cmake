# The bridge's sandbox through libplugbox (test_sandbox.c): the hostile
# test plugin under each profile, real plugins confined and not.
pb_add_test(test_sandbox SOURCES test_sandbox.c host_fixture.c LIBS plugbox
  pb_proto
  TIMEOUT 180)
add_dependencies(test_sandbox pb_test_plugins plugbox-cli)
