# The faults of tests/plugins/faulty.c, in the order of its enum fault
# (PB_FAULTY_OPEN=n is the n-th of this list); shared by the x86_64 build
# (tests/plugins/CMakeLists.txt) and the i386 one
# (tests/bridge32_helpers.cmake).
set(PB_FAULTY_FAULTS segv abort fpe ill bus exit _exit stack memory loop
  sleep close_fd garbage_fd shm_garbage lie long_string nan killpg stop)
