/* Pinning the calling test thread to its CPU (test helper): the bridge's
 * standby thread waits on the caller's CPU, so a test that wants it at
 * work keeps the caller on one.  Threads made before keep their own
 * mask, so a host made before spawns bridges free to use every CPU. */
#ifndef PB_TESTS_CPU_PIN_H
#define PB_TESTS_CPU_PIN_H

/** Pin the calling thread to the CPU it runs on, the old set kept; 0,
 *  nothing changed, if fewer than two CPUs are allowed. */
int pb_test_pin_here(void);

/** Restore the set pb_test_pin_here() kept.  Returns 0 or -errno. */
int pb_test_unpin(void);

#endif /* PB_TESTS_CPU_PIN_H */
