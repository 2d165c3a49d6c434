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

/* One block's buffers and where it goes in the output. */
typedef struct
{
  pb_process_t b;
  float* in[PB_REF_MAX_CHANNELS];
  float* out[PB_REF_MAX_CHANNELS];
  uint32_t at;
} block_t;

static int
block_init(block_t* k, uint32_t block, uint32_t n_in, uint32_t n_out)
{
  memset(k, 0, sizeof(*k));
  int ok = 1;
  for (uint32_t c = 0; c < PB_REF_MAX_CHANNELS; ++c) {
    k->in[c] = calloc(block, sizeof(float));
    k->out[c] = calloc(block, sizeof(float));
    ok &= k->in[c] && k->out[c];
  }
  k->b.n_inputs = n_in;
  k->b.n_outputs = n_out;
  k->b.inputs = (const float* const*)k->in;
  k->b.outputs = (float* const*)k->out;
  return ok;
}

static void
block_fini(block_t* k)
{
  for (uint32_t c = 0; c < PB_REF_MAX_CHANNELS; ++c) {
    free(k->in[c]);
    free(k->out[c]);
  }
}

/* Fill `k` with the frames from `at`. */
static void
block_fill(block_t* k,
           uint32_t at,
           uint32_t block,
           uint32_t n_frames,
           float rate)
{
  k->at = at;
  k->b.n_frames = n_frames - at < block ? n_frames - at : block;
  for (uint32_t c = 0; c < k->b.n_inputs; ++c)
    for (uint32_t i = 0; i < k->b.n_frames; ++i)
      k->in[c][i] = (float)pb_ref_signal(c, at + i, rate);
}

static void
block_keep(const block_t* k, float* all, uint32_t n_frames)
{
  for (uint32_t c = 0; c < k->b.n_outputs; ++c)
    memcpy(all + (size_t)c * n_frames + k->at,
           k->out[c],
           k->b.n_frames * sizeof(float));
}

/* The signal through pb_plugin_submit(): the next block is queued before
 * the last one is collected.  1 if every call succeeded. */
static int
run_queued(pb_plugin_t* p,
           block_t* q,
           uint32_t block,
           uint32_t n_frames,
           float rate,
           float* all)
{
  uint32_t next = 0;
  for (uint32_t k = 0; next < n_frames || pb_plugin_queued(p) > 0;) {
    if (next < n_frames && pb_plugin_queued(p) < PB_QUEUE_MAX) {
      block_t* one = &q[k++ % PB_QUEUE_MAX];
      block_fill(one, next, block, n_frames, rate);
      if (pb_plugin_submit(p, &one->b) != PB_OK)
        return 0;
      next += one->b.n_frames;
      continue;
    }
    pb_process_t* done = NULL;
    if (pb_plugin_collect(p, &done) != PB_OK)
      return 0;
    /* The oldest block comes back, in its own buffers. */
    const block_t* one = (const block_t*)(const void*)done;
    if (one != &q[(k - pb_plugin_queued(p) - 1u) % PB_QUEUE_MAX])
      return 0;
    block_keep(one, all, n_frames);
  }
  return 1;
}

uint64_t
pb_test_hash_bridged(pb_plugin_t* p,
                     uint32_t block,
                     uint32_t n_in,
                     uint32_t n_out,
                     uint32_t n_frames,
                     float rate,
                     int how)
{
  uint32_t series = 1u;
  float* all = calloc((size_t)n_out * n_frames + 1u, sizeof(float));
  block_t q[PB_QUEUE_MAX];
  int ok = all != NULL;
  for (uint32_t i = 0; i < PB_QUEUE_MAX; ++i)
    ok &= block_init(&q[i], block, n_in, n_out);
  if (ok && how == PB_TEST_QUEUED)
    ok = run_queued(p, q, block, n_frames, rate, all);
  for (uint32_t at = 0; ok && how != PB_TEST_QUEUED && at < n_frames;
       at += block) {
    block_fill(&q[0], at, block, n_frames, rate);
    if (how == PB_TEST_PAUSED)
      pause_a_little(&series);
    ok = pb_plugin_process(p, &q[0].b) == PB_OK;
    if (ok)
      block_keep(&q[0], all, n_frames);
  }
  const uint64_t hash =
    ok ? pb_ref_hash(
           all, (size_t)n_out * n_frames * sizeof(float), PB_REF_HASH_SEED)
       : 0;
  for (uint32_t i = 0; i < PB_QUEUE_MAX; ++i)
    block_fini(&q[i]);
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
                    int how)
{
  const pb_info_t* info = pb_plugin_info(p);
  if (info->n_inputs != n_in || info->n_outputs != n_out ||
      pb_plugin_set_active(p, 1) != PB_OK ||
      pb_plugin_set_processing(p, 1) != PB_OK)
    return 0;
  return pb_test_hash_bridged(
    p, block, (uint32_t)n_in, (uint32_t)n_out, n_frames, rate, how);
}
