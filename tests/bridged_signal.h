/* The reference test signal through a bridged plugin (test helper). */
#ifndef PB_TESTS_BRIDGED_SIGNAL_H
#define PB_TESTS_BRIDGED_SIGNAL_H

#include "plugbox.h"

#include <stdint.h>

/** How the blocks go to the bridge. */
enum
{
  PB_TEST_CALLS = 0,  /* pb_plugin_process() back to back */
  PB_TEST_PAUSED = 1, /* ... with a pause before each block */
  PB_TEST_QUEUED = 2, /* pb_plugin_submit(), PB_QUEUE_MAX ahead */
};

/** Process `n_frames` of pb_ref_signal() at `rate` through the open,
 *  processing plugin `p` in blocks of `block` frames, the way `how` says;
 *  the hash of the planar outputs (pb_ref_hash), or 0 on a failed call.
 *  PB_TEST_PAUSED: a pause of 100-400 µs (a fixed pseudo-random series)
 *  comes before every block: the bridge's audio thread is asleep at each,
 *  and its standby thread takes the block where there is one.
 *  PB_TEST_QUEUED: every block is submitted while the one before is still
 *  queued, each with its own buffers. */
uint64_t pb_test_hash_bridged(pb_plugin_t* p,
                              uint32_t block,
                              uint32_t n_in,
                              uint32_t n_out,
                              uint32_t n_frames,
                              float rate,
                              int how);

/** The same for a freshly opened plugin: 0 unless it has `n_in` inputs
 *  and `n_out` outputs (the reference's) and turns on and processing. */
uint64_t pb_test_hash_opened(pb_plugin_t* p,
                             int32_t n_in,
                             int32_t n_out,
                             uint32_t block,
                             uint32_t n_frames,
                             float rate,
                             int how);

#endif /* PB_TESTS_BRIDGED_SIGNAL_H */
