/* Blocks queued ahead (pb_plugin_submit, pb_plugin_collect): each comes
 * back in order, in its own buffers, exactly as process calls give it;
 * the queue checks its arguments, and a dead or stopped bridge fails every
 * queued block without a wait per block. */
#define _POSIX_C_SOURCE 200809L /* kill */

#include "cpu_pin.h"
#include "host_fixture.h"
#include "plugbox.h"
#include "ref_process.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000.0f
#define MAX_BLOCK 512u
#define N_FRAMES 4800u

static pb_plugin_t*
open_running(fixture_t* f, const char* path)
{
  assert_non_null(path);
  pb_plugin_t* p = NULL;
  f->opts.max_block_frames = MAX_BLOCK;
  assert_int_equal(pb_plugin_open(f->host, path, &f->opts, &p), PB_OK);
  assert_int_equal(pb_plugin_set_active(p, 1), PB_OK);
  assert_int_equal(pb_plugin_set_processing(p, 1), PB_OK);
  return p;
}

/* One queued block: its own stereo buffers, and where it goes. */
typedef struct
{
  pb_process_t b; /* first: collect returns its address */
  void* in[2];
  void* out[2];
  uint32_t at;
} slot_t;

typedef struct
{
  slot_t slot[PB_QUEUE_MAX];
  int dbl;
  size_t sample;
  uint32_t submitted, collected; /* blocks so far */
} queue_t;

static void
queue_init(queue_t* q, int dbl)
{
  memset(q, 0, sizeof(*q));
  q->dbl = dbl;
  q->sample = dbl ? sizeof(double) : sizeof(float);
  for (uint32_t k = 0; k < PB_QUEUE_MAX; ++k)
    for (int c = 0; c < 2; ++c) {
      /* One frame more: room for a block that is too long. */
      q->slot[k].in[c] = calloc(MAX_BLOCK + 1u, q->sample);
      q->slot[k].out[c] = calloc(MAX_BLOCK + 1u, q->sample);
      assert_true(q->slot[k].in[c] && q->slot[k].out[c]);
    }
}

static void
queue_fini(queue_t* q)
{
  for (uint32_t k = 0; k < PB_QUEUE_MAX; ++k)
    for (int c = 0; c < 2; ++c) {
      free(q->slot[k].in[c]);
      free(q->slot[k].out[c]);
    }
}

/* The next slot's block: `n` frames of the test signal from `at`, its
 * outputs filled with a value the plugin must overwrite. */
static slot_t*
next_block(queue_t* q, uint32_t at, uint32_t n)
{
  slot_t* s = &q->slot[q->submitted % PB_QUEUE_MAX];
  pb_process_t* b = &s->b;
  memset(b, 0, sizeof(*b));
  s->at = at;
  b->n_frames = n;
  b->n_inputs = 2;
  b->n_outputs = 2;
  for (uint32_t c = 0; c < 2; ++c)
    for (uint32_t i = 0; i < n; ++i) {
      const double v = pb_ref_signal(c, at + i, RATE);
      if (q->dbl) {
        ((double*)s->in[c])[i] = v;
        ((double*)s->out[c])[i] = 7.0;
      } else {
        ((float*)s->in[c])[i] = (float)v;
        ((float*)s->out[c])[i] = 7.0f;
      }
    }
  if (q->dbl) {
    b->inputs64 = (const double* const*)s->in;
    b->outputs64 = (double* const*)s->out;
  } else {
    b->inputs = (const float* const*)s->in;
    b->outputs = (float* const*)s->out;
  }
  return s;
}

static pb_status_t
submit(pb_plugin_t* p, queue_t* q, slot_t* s)
{
  const pb_status_t st =
    q->dbl ? pb_plugin_submit_double(p, &s->b) : pb_plugin_submit(p, &s->b);
  q->submitted += st == PB_OK;
  return st;
}

/* Collect the oldest block: it must be the oldest slot's. */
static slot_t*
collect(pb_plugin_t* p, queue_t* q, pb_status_t want)
{
  pb_process_t* got = NULL;
  assert_int_equal(pb_plugin_collect(p, &got), want);
  slot_t* s = &q->slot[q->collected++ % PB_QUEUE_MAX];
  assert_ptr_equal(got, &s->b);
  return s;
}

static void
keep(const queue_t* q, const slot_t* s, uint8_t* all)
{
  for (uint32_t c = 0; c < 2; ++c)
    memcpy(all + ((size_t)c * N_FRAMES + s->at) * q->sample,
           s->out[c],
           s->b.n_frames * q->sample);
}

/* The test signal through `p` in blocks of `block`, PB_QUEUE_MAX queued
 * ahead at all times; the outputs planar in `all`. */
static void
render_queued(pb_plugin_t* p, int dbl, uint32_t block, uint8_t* all)
{
  queue_t q;
  queue_init(&q, dbl);
  uint32_t at = 0;
  while (at < N_FRAMES || pb_plugin_queued(p) > 0) {
    if (at < N_FRAMES && pb_plugin_queued(p) < PB_QUEUE_MAX) {
      const uint32_t n = N_FRAMES - at < block ? N_FRAMES - at : block;
      assert_int_equal(submit(p, &q, next_block(&q, at, n)), PB_OK);
      at += n;
      continue;
    }
    keep(&q, collect(p, &q, PB_OK), all);
  }
  queue_fini(&q);
}

static uint8_t*
reference(const char* path, int dbl, uint32_t block)
{
  assert_non_null(path);
  const size_t sample = dbl ? sizeof(double) : sizeof(float);
  uint8_t* want = calloc(2u * N_FRAMES, sample);
  assert_non_null(want);
  const pb_ref_job_t job = { path,  RATE,     (int32_t)MAX_BLOCK,
                             block, N_FRAMES, dbl };
  pb_ref_result_t r;
  assert_true(pb_ref_process(&job, want, 2u * N_FRAMES, &r));
  return want;
}

/* ------------------------------------------------------------ output */

static void
queued_gain_is_bit_identical_to_in_process(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  static const uint32_t sizes[] = { 1, 64, 333, MAX_BLOCK };
  const char* path = fx_test_plugin("pb_test_gain");
  for (int dbl = 0; dbl < 2; ++dbl)
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
      const size_t sample = dbl ? sizeof(double) : sizeof(float);
      uint8_t* want = reference(path, dbl, sizes[i]);
      uint8_t* got = calloc(2u * N_FRAMES, sample);
      assert_non_null(got);
      pb_plugin_t* p = open_running(f, path);
      render_queued(p, dbl, sizes[i], got);
      pb_audio_stats_t st;
      assert_int_equal(pb_plugin_audio_stats(p, &st), PB_OK);
      assert_int_equal(st.blocks, (N_FRAMES + sizes[i] - 1) / sizes[i]);
      pb_plugin_close(p);
      assert_memory_equal(want, got, 2u * N_FRAMES * sample);
      /* Not trivially equal: unity gain passes the signal. */
      assert_true(dbl ? ((double*)got)[100] != 0.0
                      : ((float*)got)[100] != 0.0f);
      free(want);
      free(got);
    }
}

/* Two blocks queued at once, each with its own parameter changes: each
 * gets its own gain, so each read its own request. */
static void
queued_blocks_keep_their_own_changes(void** state)
{
  pb_plugin_t* p =
    open_running((fixture_t*)*state, fx_test_plugin("pb_test_gain"));
  queue_t q;
  queue_init(&q, 0);
  const pb_param_change_t half = { 0, 0, 0.25f }; /* half the amplitude */
  const pb_param_change_t unity = { 0, 0, 0.5f };
  slot_t* a = next_block(&q, 0, 256);
  a->b.param_changes = &half;
  a->b.n_param_changes = 1;
  assert_int_equal(submit(p, &q, a), PB_OK);
  slot_t* b = next_block(&q, 256, 256);
  b->b.param_changes = &unity;
  b->b.n_param_changes = 1;
  assert_int_equal(submit(p, &q, b), PB_OK);
  assert_int_equal(pb_plugin_queued(p), 2);
  collect(p, &q, PB_OK);
  collect(p, &q, PB_OK);
  assert_int_equal(pb_plugin_queued(p), 0);
  for (uint32_t i = 0; i < 256; ++i) {
    const float* in_a = (const float*)a->in[0];
    const float* in_b = (const float*)b->in[0];
    assert_true(((float*)a->out[0])[i] == (float)((double)in_a[i] * 0.5));
    assert_true(((float*)b->out[0])[i] == in_b[i]);
  }
  queue_fini(&q);
  pb_plugin_close(p);
}

/* A note in the first of two queued blocks: the synth sounds in both,
 * and the note comes back with the first only. */
static void
queued_blocks_keep_their_own_midi(void** state)
{
  pb_plugin_t* p =
    open_running((fixture_t*)*state, fx_test_plugin("pb_test_synth"));
  queue_t q;
  queue_init(&q, 0);
  const pb_midi_event_t note = { 10, 3, { 0x90, 69, 100, 0 }, NULL };
  pb_midi_event_t out[2][8];
  slot_t* s[2];
  for (int k = 0; k < 2; ++k) {
    s[k] = next_block(&q, 512u * (uint32_t)k, 512);
    s[k]->b.n_inputs = 0;
    s[k]->b.midi_in = k == 0 ? &note : NULL;
    s[k]->b.n_midi_in = k == 0 ? 1u : 0u;
    s[k]->b.midi_out = out[k];
    s[k]->b.midi_out_capacity = 8;
    assert_int_equal(submit(p, &q, s[k]), PB_OK);
    /* Written by the collect only. */
    s[k]->b.n_midi_out = 99;
  }
  for (int k = 0; k < 2; ++k) {
    collect(p, &q, PB_OK);
    double e = 0.0;
    for (uint32_t i = 0; i < 512; ++i)
      e += fabs((double)((float*)s[k]->out[0])[i]);
    assert_true(e > 1.0);
  }
  assert_int_equal(s[0]->b.n_midi_out, 1);
  assert_int_equal(out[0][0].data[0], 0x90);
  assert_int_equal(out[0][0].data[1], 69);
  assert_int_equal(s[1]->b.n_midi_out, 0);
  queue_fini(&q);
  pb_plugin_close(p);
}

/* ------------------------------------------------------------ misuse */

static void
queue_checks_its_arguments(void** state)
{
  pb_plugin_t* p =
    open_running((fixture_t*)*state, fx_test_plugin("pb_test_gain"));
  queue_t q;
  queue_init(&q, 0);
  pb_process_t* got = (pb_process_t*)&q;
  /* Nothing queued. */
  assert_int_equal(pb_plugin_collect(p, &got), PB_ERR_INVALID);
  assert_null(got);
  assert_int_equal(pb_plugin_collect(p, NULL), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_collect(NULL, &got), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_submit(NULL, &q.slot[0].b), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_submit(p, NULL), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_queued(NULL), 0);
  /* A bad block is not queued. */
  slot_t* s = next_block(&q, 0, MAX_BLOCK + 1);
  assert_int_equal(pb_plugin_submit(p, &s->b), PB_ERR_INVALID);
  s = next_block(&q, 0, 0);
  assert_int_equal(pb_plugin_submit(p, &s->b), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_queued(p), 0);
  /* Full at PB_QUEUE_MAX; process calls wait for the queue to empty. */
  assert_int_equal(submit(p, &q, next_block(&q, 0, 64)), PB_OK);
  assert_int_equal(submit(p, &q, next_block(&q, 64, 64)), PB_OK);
  pb_process_t third = q.slot[0].b;
  assert_int_equal(pb_plugin_submit(p, &third), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_process(p, &third), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_queued(p), 2);
  collect(p, &q, PB_OK);
  assert_int_equal(pb_plugin_process(p, &third), PB_ERR_INVALID);
  collect(p, &q, PB_OK);
  assert_int_equal(pb_plugin_collect(p, &got), PB_ERR_INVALID);
  /* Empty again: process calls work. */
  s = next_block(&q, 128, 64);
  assert_int_equal(pb_plugin_process(p, &s->b), PB_OK);
  assert_true(((float*)s->out[0])[5] == ((float*)s->in[0])[5]);
  queue_fini(&q);
  pb_plugin_close(p);
}

static int
silent(const slot_t* s)
{
  for (uint32_t c = 0; c < 2; ++c)
    for (uint32_t i = 0; i < s->b.n_frames; ++i)
      if (((const float*)s->out[c])[i] != 0.0f)
        return 0;
  return 1;
}

/* Every third block (process calls), or every first of two queued, the
 * plugin writes nothing: the block must come back silent, whatever its
 * slot held two blocks before (the bridge clears the outputs, on the
 * way or ahead of time). */
static void
arm_silent(pb_plugin_t* p)
{
  int32_t answer = 0;
  assert_int_equal(pb_plugin_can_do(p, "faulty:arm:silent:process", &answer),
                   PB_OK);
  assert_int_equal(answer, 1);
}

static void
outputs_the_plugin_leaves_alone_are_silence(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  pb_plugin_t* p = open_running(f, fx_test_plugin("pb_test_faulty"));
  queue_t q;
  queue_init(&q, 0);
  for (uint32_t k = 0; k < 30; ++k) {
    const int quiet = k % 3 == 2;
    if (quiet)
      arm_silent(p);
    slot_t* s = next_block(&q, 64u * k, 64);
    assert_int_equal(pb_plugin_process(p, &s->b), PB_OK);
    assert_int_equal(silent(s), quiet);
  }
  for (uint32_t k = 0; k < 10; ++k) {
    arm_silent(p);
    assert_int_equal(submit(p, &q, next_block(&q, 128u * k, 64)), PB_OK);
    assert_int_equal(submit(p, &q, next_block(&q, 128u * k + 64u, 64)), PB_OK);
    assert_true(silent(collect(p, &q, PB_OK)));
    assert_false(silent(collect(p, &q, PB_OK)));
  }
  queue_fini(&q);
  pb_plugin_close(p);
}

/* ------------------------------------------------------------ failures */

/* One block through, then the bridge stopped with two blocks queued
 * behind it, and killed. */
static void
kill_with_two_queued(pb_plugin_t* p, queue_t* q)
{
  assert_int_equal(submit(p, q, next_block(q, 0, 64)), PB_OK);
  collect(p, q, PB_OK);
  fx_stop_bridge(p);
  assert_int_equal(submit(p, q, next_block(q, 64, 64)), PB_OK);
  assert_int_equal(submit(p, q, next_block(q, 128, 64)), PB_OK);
  assert_int_equal(kill(pb_plugin_pid(p), SIGKILL), 0);
}

/* The queue flows: `first` submitted already, one more, both back with
 * the gain plugin's unity output. */
static void
expect_queue_flows(pb_plugin_t* p, queue_t* q, pb_status_t first)
{
  assert_int_equal(first, PB_OK);
  assert_int_equal(submit(p, q, next_block(q, 64, 64)), PB_OK);
  for (int k = 0; k < 2; ++k) {
    const slot_t* s = collect(p, q, PB_OK);
    assert_true(((float*)s->out[1])[9] == ((float*)s->in[1])[9]);
  }
}

static void
dead_bridge_fails_every_queued_block_at_once(void** state)
{
  pb_plugin_t* p =
    open_running((fixture_t*)*state, fx_test_plugin("pb_test_gain"));
  assert_int_equal(pb_plugin_set_process_timeout_us(p, 5000000), PB_OK);
  queue_t q;
  queue_init(&q, 0);
  kill_with_two_queued(p, &q);
  const double t0 = fx_now_ms();
  assert_true(silent(collect(p, &q, PB_ERR_CRASHED)));
  assert_true(silent(collect(p, &q, PB_ERR_CRASHED)));
  assert_true(fx_now_ms() - t0 < 2000.0);
  assert_int_equal(pb_plugin_queued(p), 0);
  assert_int_equal(submit(p, &q, next_block(&q, 192, 64)), PB_ERR_CRASHED);
  queue_fini(&q);
  pb_plugin_close(p);
}

static void
stopped_bridge_times_out_once_for_the_queue(void** state)
{
  pb_plugin_t* p =
    open_running((fixture_t*)*state, fx_test_plugin("pb_test_gain"));
  assert_int_equal(pb_plugin_set_process_timeout_us(p, 20000), PB_OK);
  queue_t q;
  queue_init(&q, 0);
  fx_stop_bridge(p);
  assert_int_equal(submit(p, &q, next_block(&q, 0, 64)), PB_OK);
  assert_int_equal(submit(p, &q, next_block(&q, 64, 64)), PB_OK);
  double t0 = fx_now_ms();
  assert_true(silent(collect(p, &q, PB_ERR_TIMEOUT)));
  assert_true(fx_now_ms() - t0 >= 19.0);
  /* The block behind it fails with it, without a wait of its own. */
  t0 = fx_now_ms();
  assert_true(silent(collect(p, &q, PB_ERR_TIMEOUT)));
  assert_true(fx_now_ms() - t0 < 15.0);
  /* Late: nothing is queued while the bridge owes a block. */
  assert_int_equal(pb_plugin_submit(p, &next_block(&q, 0, 64)->b),
                   PB_ERR_TIMEOUT);
  assert_int_equal(pb_plugin_queued(p), 0);
  assert_int_equal(kill(pb_plugin_pid(p), SIGCONT), 0);
  /* Once it caught up, the queue flows again. */
  pb_status_t st = PB_ERR_TIMEOUT;
  for (int i = 0; i < 200 && st != PB_OK; ++i) {
    fx_sleep_ms(5);
    st = submit(p, &q, next_block(&q, 0, 64));
  }
  expect_queue_flows(p, &q, st);
  queue_fini(&q);
  pb_plugin_close(p);
}

/* The bridge dies with two blocks queued and is restarted before they are
 * collected: the new bridge's words say they are answered, but they were
 * not; the queue then flows through the new bridge. */
static void
restart_fails_the_blocks_queued_to_the_old_bridge(void** state)
{
  pb_plugin_t* p =
    open_running((fixture_t*)*state, fx_test_plugin("pb_test_gain"));
  queue_t q;
  queue_init(&q, 0);
  kill_with_two_queued(p, &q);
  pb_crash_t cr;
  const double t0 = fx_now_ms();
  do {
    fx_sleep_ms(5);
    pb_plugin_crash(p, &cr);
  } while (!cr.crashed && fx_now_ms() - t0 < 3000.0);
  assert_int_equal(cr.crashed, 1);
  assert_int_equal(pb_plugin_restart(p), PB_OK);
  assert_true(silent(collect(p, &q, PB_ERR_CRASHED)));
  assert_true(silent(collect(p, &q, PB_ERR_CRASHED)));
  expect_queue_flows(p, &q, submit(p, &q, next_block(&q, 0, 64)));
  queue_fini(&q);
  pb_plugin_close(p);
}

/* Closing with blocks queued neither waits for them nor touches the
 * caller's buffers after (valgrind and ASan watch this too). */
static void
close_with_blocks_queued_returns_at_once(void** state)
{
  pb_plugin_t* p =
    open_running((fixture_t*)*state, fx_test_plugin("pb_test_gain"));
  queue_t q;
  queue_init(&q, 0);
  assert_int_equal(submit(p, &q, next_block(&q, 0, MAX_BLOCK)), PB_OK);
  assert_int_equal(submit(p, &q, next_block(&q, MAX_BLOCK, MAX_BLOCK)), PB_OK);
  const double t0 = fx_now_ms();
  pb_plugin_close(p);
  assert_true(fx_now_ms() - t0 < 2000.0);
  queue_fini(&q);
}

/* ------------------------------------------------------------ threads */

/* MVerb (a reverb: each block depends on all before) with the caller
 * pinned, so that the bridge's standby thread waits on its CPU: after
 * each pause, a process call or the first of two queued blocks goes to
 * the standby while the audio thread sleeps, and the block queued behind
 * it wakes the audio thread, which must wait its turn.  The output is
 * the in-process one. */
static void
standby_and_audio_thread_keep_the_queue_in_order(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  uint8_t* want = reference(MVERB, 0, MAX_BLOCK);
  if (!pb_test_pin_here()) {
    free(want);
    skip();
  }
  uint8_t* got = calloc(2u * N_FRAMES, sizeof(float));
  assert_non_null(got);
  pb_plugin_t* p = open_running(f, MVERB);
  queue_t q;
  queue_init(&q, 0);
  uint32_t at = 0;
  for (uint32_t k = 0; at < N_FRAMES; ++k) {
    fx_sleep_ms(k % 2 ? 9 : 13);
    const uint32_t n = N_FRAMES - at < MAX_BLOCK ? N_FRAMES - at : MAX_BLOCK;
    slot_t* s = next_block(&q, at, n);
    at += n;
    if (k % 3 == 0 || at >= N_FRAMES) { /* a process call */
      assert_int_equal(pb_plugin_process(p, &s->b), PB_OK);
      keep(&q, s, got);
      continue;
    }
    assert_int_equal(submit(p, &q, s), PB_OK);
    const uint32_t n2 = N_FRAMES - at < MAX_BLOCK ? N_FRAMES - at : MAX_BLOCK;
    assert_int_equal(submit(p, &q, next_block(&q, at, n2)), PB_OK);
    at += n2;
    keep(&q, collect(p, &q, PB_OK), got);
    keep(&q, collect(p, &q, PB_OK), got);
  }
  pb_audio_stats_t st;
  assert_int_equal(pb_plugin_audio_stats(p, &st), PB_OK);
  pb_plugin_close(p);
  assert_int_equal(pb_test_unpin(), 0);
  print_message("queue: %llu blocks, %llu to the standby\n",
                (unsigned long long)st.blocks,
                (unsigned long long)st.standby);
  assert_memory_equal(want, got, 2u * N_FRAMES * sizeof(float));
  /* The pauses did put the standby to work. */
  assert_true(st.standby >= 2);
  queue_fini(&q);
  free(got);
  free(want);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
  const struct CMUnitTest tests[] = {
    T(queued_gain_is_bit_identical_to_in_process),
    T(queued_blocks_keep_their_own_changes),
    T(queued_blocks_keep_their_own_midi),
    T(queue_checks_its_arguments),
    T(outputs_the_plugin_leaves_alone_are_silence),
    T(dead_bridge_fails_every_queued_block_at_once),
    T(stopped_bridge_times_out_once_for_the_queue),
    T(restart_fails_the_blocks_queued_to_the_old_bridge),
    T(close_with_blocks_queued_returns_at_once),
    T(standby_and_audio_thread_keep_the_queue_in_order),
  };
#undef T
  return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
