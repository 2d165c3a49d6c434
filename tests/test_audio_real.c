/* Every installed real plugin (/usr/lib/vst, /usr/lib/lxvst) processes the
 * same test signal through the bridge and in a forked child of this
 * process: where the in-process output is identical on two runs, the
 * bridged output must be bit-identical to it, at 48 kHz in blocks of 512
 * and of 333 frames, and in blocks of 512 with a pause before each, where
 * the bridge's standby thread takes most blocks from its audio thread. */
#define _POSIX_C_SOURCE 200809L

#include "bridged_signal.h"
#include "cpu_pin.h"
#include "plugbox.h"
#include "ref_list.h"
#include "ref_process.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define RATE 48000.0f
#define MAX_BLOCK 512
#define N_FRAMES 48000u
#define CHILD_TIMEOUT_MS 30000u

static const char* const real_dirs[] = { "/usr/lib/vst",
                                         "/usr/lib/lxvst",
                                         NULL };
static const uint32_t block_sizes[] = { 512, 333 };
#define N_SIZES (sizeof(block_sizes) / sizeof(block_sizes[0]))

typedef struct
{
  pb_ref_result_t ref[N_SIZES];
  int deterministic;
} entry_t;

typedef struct
{
  pb_ref_list_t list;
  entry_t* entries;
} fixture_t;

static pb_ref_job_t
job_for(const char* path, uint32_t block)
{
  const pb_ref_job_t job = { path, RATE, MAX_BLOCK, block, N_FRAMES, 0 };
  return job;
}

/* The references come first, before the library starts its I/O thread:
 * forking a process that has threads is best avoided. */
static void
take_reference(const char* path, entry_t* e)
{
  pb_ref_result_t again;
  for (size_t s = 0; s < N_SIZES; ++s) {
    const pb_ref_job_t job = job_for(path, block_sizes[s]);
    (void)pb_ref_process_in_child(&job, CHILD_TIMEOUT_MS, &e->ref[s]);
  }
  const pb_ref_job_t job = job_for(path, block_sizes[0]);
  e->deterministic = e->ref[0].ok &&
                     pb_ref_process_in_child(&job, CHILD_TIMEOUT_MS, &again) &&
                     again.hash == e->ref[0].hash;
}

static int
setup(void** state)
{
  fixture_t* f = calloc(1, sizeof(*f));
  if (!f || pb_ref_list_init(&f->list, real_dirs) != 0)
    return -1;
  f->entries = calloc(f->list.n_paths + 1, sizeof(entry_t));
  if (!f->entries)
    return -1;
  for (size_t i = 0; i < f->list.n_paths; ++i)
    take_reference(f->list.paths[i], &f->entries[i]);
  *state = f;
  return 0;
}

static int
teardown(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_ref_list_fini(&f->list);
  free(f->entries);
  free(f);
  return 0;
}

/* The hash of all-zero outputs: a plugin that stays silent (a synth with
 * no notes) still counts, but the summary says how many did. */
static uint64_t
silence_hash(int32_t n_out)
{
  const float zero = 0.0f;
  uint64_t h = PB_REF_HASH_SEED;
  for (size_t i = 0; i < (size_t)n_out * N_FRAMES; ++i)
    h = pb_ref_hash(&zero, sizeof(zero), h);
  return h;
}

/* 1 if bridged equals the reference, 0 if not; prints why. */
static int
compare_one(pb_host_t* host,
            const char* path,
            const pb_ref_result_t* ref,
            uint32_t block,
            int how,
            uint64_t* standby)
{
  pb_open_opts_t opts;
  pb_open_opts_init(&opts);
  opts.max_block_frames = MAX_BLOCK;
  pb_plugin_t* p = NULL;
  if (pb_plugin_open(host, path, &opts, &p) != PB_OK) {
    print_message(
      "audio: %s: open failed: %s\n", path, pb_host_last_error(host));
    return 0;
  }
  const uint64_t hash =
    pb_test_hash_opened(p, ref->n_in, ref->n_out, block, N_FRAMES, RATE, how);
  pb_audio_stats_t st;
  if (pb_plugin_audio_stats(p, &st) == PB_OK)
    *standby += st.standby;
  pb_plugin_close(p);
  if (hash == ref->hash)
    return 1;
  print_message("audio: %s: block %u%s: bridged output differs\n",
                path,
                (unsigned)block,
                how == PB_TEST_PAUSED   ? " with pauses"
                : how == PB_TEST_QUEUED ? " queued"
                                        : "");
  return 0;
}

static void
bridged_output_is_bit_identical_to_in_process(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  if (f->list.n_dirs_found == 0)
    skip();
  pb_host_t* host = NULL;
  assert_int_equal(pb_host_new(&host), PB_OK);
  /* After the host: its bridges may use every CPU. */
  const int pinned = pb_test_pin_here();
  unsigned compared = 0, identical = 0, nondet = 0, unusable = 0;
  unsigned silent = 0;
  uint64_t standby = 0, paused_blocks = 0, unused = 0;
  for (size_t i = 0; i < f->list.n_paths; ++i) {
    const entry_t* e = &f->entries[i];
    if (!e->ref[0].ok) {
      ++unusable; /* not a plugin, no process function, too many pins */
      continue;
    }
    if (!e->deterministic) {
      ++nondet;
      continue;
    }
    ++compared;
    silent += e->ref[0].hash == silence_hash(e->ref[0].n_out);
    int same = 1;
    for (size_t s = 0; s < N_SIZES; ++s)
      same &= e->ref[s].ok && compare_one(host,
                                          f->list.paths[i],
                                          &e->ref[s],
                                          block_sizes[s],
                                          PB_TEST_CALLS,
                                          &unused);
    /* Submitted ahead, at the odd size: the bridge runs one block while
     * the next waits in the other slot. */
    same &= e->ref[1].ok && compare_one(host,
                                        f->list.paths[i],
                                        &e->ref[1],
                                        block_sizes[1],
                                        PB_TEST_QUEUED,
                                        &unused);
    if (pinned) {
      same &= compare_one(host,
                          f->list.paths[i],
                          &e->ref[0],
                          block_sizes[0],
                          PB_TEST_PAUSED,
                          &standby);
      paused_blocks += (N_FRAMES + block_sizes[0] - 1) / block_sizes[0];
    }
    identical += (unsigned)same;
  }
  pb_host_free(host);
  if (pinned)
    assert_int_equal(pb_test_unpin(), 0);
  print_message("audio: %u plugins compared (in calls at %u and %u frames, "
                "queued at %u), %u bit-identical, %u "
                "nondeterministic skipped (%u not processable, %u of the "
                "compared silent)\n",
                compared,
                (unsigned)block_sizes[0],
                (unsigned)block_sizes[1],
                (unsigned)block_sizes[1],
                identical,
                nondet,
                unusable,
                silent);
  if (pinned)
    print_message("audio: with pauses, the standby thread took %llu of %llu "
                  "blocks\n",
                  (unsigned long long)standby,
                  (unsigned long long)paused_blocks);
  else
    print_message("audio: one CPU allowed: no run with pauses (no standby)\n");
  assert_true(compared > 0);
  assert_int_equal(identical, compared);
  /* The pauses did put the standby to work: most blocks are its. */
  assert_true(!pinned || standby * 2 >= paused_blocks);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(bridged_output_is_bit_identical_to_in_process),
  };
  return cmocka_run_group_tests_name("audio_real", tests, setup, teardown);
}
