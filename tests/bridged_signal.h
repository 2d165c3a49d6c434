/* The reference test signal through a bridged plugin (test helper). */
#ifndef PB_TESTS_BRIDGED_SIGNAL_H
#define PB_TESTS_BRIDGED_SIGNAL_H

#include "plugbox.h"

#include <stdint.h>

/** Process `n_frames` of pb_ref_signal() at `rate` through the open,
 *  processing plugin `p` in blocks of `block` frames; the hash of the
 *  planar outputs (pb_ref_hash), or 0 on a failed call.  With `paused`,
 *  a pause of 100-400 µs (a fixed pseudo-random series) comes before
 *  every block: the bridge's audio thread is asleep at each, and its
 *  standby thread takes the block where there is one. */
uint64_t pb_test_hash_bridged(pb_plugin_t* p,
                              uint32_t block,
                              uint32_t n_in,
                              uint32_t n_out,
                              uint32_t n_frames,
                              float rate,
                              int paused);

/** The same for a freshly opened plugin: 0 unless it has `n_in` inputs
 *  and `n_out` outputs (the reference's) and turns on and processing. */
uint64_t pb_test_hash_opened(pb_plugin_t* p,
                             int32_t n_in,
                             int32_t n_out,
                             uint32_t block,
                             uint32_t n_frames,
                             float rate,
                             int paused);

#endif /* PB_TESTS_BRIDGED_SIGNAL_H */
