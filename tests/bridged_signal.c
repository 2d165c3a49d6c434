/* The reference test signal through a bridged plugin, hashed the way the
 * in-process reference (ref_process.c) hashes its own output. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include "bridged_signal.h"

#include "ref_process.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The next pause of a fixed series, 100-400 µs. */
static void
pause_a_little(uint32_t* state)
{
  *state = *state * 1103515245u + 12345u;
  const struct timespec ts = { 0,
                               100000L + (long)(*state >> 16) % 300 * 1000L };
  (void)nanosleep(&ts, NULL);
}

uint64_t
pb_test_hash_bridged(pb_plugin_t* p,
                     uint32_t block,
                     uint32_t n_in,
                     uint32_t n_out,
                     uint32_t n_frames,
                     float rate,
                     int paused)
{
  uint32_t series = 1u;
  float* in[PB_REF_MAX_CHANNELS];
  float* out[PB_REF_MAX_CHANNELS];
  float* all = calloc((size_t)n_out * n_frames + 1u, sizeof(float));
  for (uint32_t c = 0; c < PB_REF_MAX_CHANNELS; ++c) {
    in[c] = calloc(block, sizeof(float));
    out[c] = calloc(block, sizeof(float));
  }
  uint64_t hash = 0;
  pb_process_t b;
  memset(&b, 0, sizeof(b));
  b.n_inputs = n_in;
  b.n_outputs = n_out;
  b.inputs = (const float* const*)in;
  b.outputs = (float* const*)out;
  for (uint32_t at = 0; at < n_frames; at += block) {
    b.n_frames = n_frames - at < block ? n_frames - at : block;
    for (uint32_t c = 0; c < n_in; ++c)
      for (uint32_t i = 0; i < b.n_frames; ++i)
        in[c][i] = (float)pb_ref_signal(c, at + i, rate);
    if (paused)
      pause_a_little(&series);
    if (pb_plugin_process(p, &b) != PB_OK)
      goto done;
    for (uint32_t c = 0; c < n_out; ++c)
      memcpy(
        all + (size_t)c * n_frames + at, out[c], b.n_frames * sizeof(float));
  }
  hash = pb_ref_hash(
    all, (size_t)n_out * n_frames * sizeof(float), PB_REF_HASH_SEED);
done:
  for (uint32_t c = 0; c < PB_REF_MAX_CHANNELS; ++c) {
    free(in[c]);
    free(out[c]);
  }
  free(all);
  return hash;
}

uint64_t
pb_test_hash_opened(pb_plugin_t* p,
                    int32_t n_in,
                    int32_t n_out,
                    uint32_t block,
                    uint32_t n_frames,
                    float rate,
                    int paused)
{
  const pb_info_t* info = pb_plugin_info(p);
  if (info->n_inputs != n_in || info->n_outputs != n_out ||
      pb_plugin_set_active(p, 1) != PB_OK ||
      pb_plugin_set_processing(p, 1) != PB_OK)
    return 0;
  return pb_test_hash_bridged(
    p, block, (uint32_t)n_in, (uint32_t)n_out, n_frames, rate, paused);
}
