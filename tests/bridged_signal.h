/* The reference test signal through a bridged plugin (test helper). */
#ifndef PB_TESTS_BRIDGED_SIGNAL_H
#define PB_TESTS_BRIDGED_SIGNAL_H

#include "plugbox.h"

#include <stdint.h>

/** Process `n_frames` of pb_ref_signal() at `rate` through the open,
 *  processing plugin `p` in blocks of `block` frames; the hash of the
 *  planar outputs (pb_ref_hash), or 0 on a failed call. */
uint64_t pb_test_hash_bridged(pb_plugin_t* p,
                              uint32_t block,
                              uint32_t n_in,
                              uint32_t n_out,
                              uint32_t n_frames,
                              float rate);

#endif /* PB_TESTS_BRIDGED_SIGNAL_H */
