/* Events a plugin raises, through the bridge to pb_plugin_poll_event():
 * latency changes, whether the plugin says so (audioMasterIOChanged) or
 * not (a new initial delay once resumed); automation and edits from its
 * audio thread (through shared memory, bounded per block) and from its
 * other threads (through the pipe), in order.  The plugin is
 * tests/plugins/events.c. */
#include "host_fixture.h"
#include "plugbox.h"

#include <pthread.h>
#include <string.h>

#define MAINS_DELAY 64         /* = events.c: the delay once resumed */
#define START_DELAY 128        /* = events.c: once processing */
#define AUTOMATE_SCALE 1000.0f /* = events.c */

enum /* = events.c */
{
  P_LATENCY,
  P_AUTOMATE,
  P_TARGET,
  P_ECHO,
};

static pb_plugin_t*
open_events(fixture_t* f)
{
  pb_plugin_t* p = NULL;
  assert_int_equal(fx_open(f, fx_test_plugin("pb_test_events"), &p), PB_OK);
  return p;
}

/* The next event is a latency event of `latency` frames. */
static void
expect_latency_event(pb_plugin_t* p, int32_t latency)
{
  pb_plugin_event_t ev;
  assert_int_equal(pb_plugin_poll_event(p, &ev), PB_OK);
  assert_int_equal(ev.kind, PB_EVENT_LATENCY);
  assert_int_equal(ev.latency, latency);
  assert_int_equal(pb_plugin_latency(p), latency);
}

static void
expect_no_event(pb_plugin_t* p)
{
  pb_plugin_event_t ev;
  assert_int_equal(pb_plugin_poll_event(p, &ev), PB_ERR_RANGE);
}

static void
expect_event(pb_plugin_t* p,
             pb_plugin_event_kind_t kind,
             int32_t index,
             float value,
             uint32_t frame)
{
  pb_plugin_event_t ev;
  assert_int_equal(pb_plugin_poll_event(p, &ev), PB_OK);
  assert_int_equal(ev.kind, kind);
  assert_int_equal(ev.index, index);
  assert_true(ev.value == value);
  assert_int_equal(ev.frame, frame);
}

/* Open, active, processing, the latency events taken. */
static pb_plugin_t*
open_running(fixture_t* f)
{
  pb_plugin_t* p = open_events(f);
  assert_int_equal(pb_plugin_set_active(p, 1), PB_OK);
  expect_latency_event(p, MAINS_DELAY);
  assert_int_equal(pb_plugin_set_processing(p, 1), PB_OK);
  expect_latency_event(p, START_DELAY);
  expect_no_event(p);
  return p;
}

/* The plugin passes audio through: bit for bit, events or not.  A block
 * of a ramp, with `n` timed changes. */
static void
process_ok(pb_plugin_t* p, const pb_param_change_t* changes, uint32_t n)
{
  fx_audio_t a;
  pb_process_t* b = fx_audio_block(&a, 0.0f);
  for (int c = 0; c < 2; ++c)
    for (unsigned i = 0; i < FX_FRAMES; ++i)
      a.in[c][i] = (float)(c + 1) * (float)i / 7.0f;
  b->param_changes = changes;
  b->n_param_changes = n;
  assert_int_equal(pb_plugin_process(p, b), PB_OK);
  assert_memory_equal(a.out, a.in, sizeof a.in);
}

/* ----------------------------------------------------------- latency */

static void
latency_set_silently_on_resume_is_reported(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_events"));
  pb_plugin_t* p = open_events(f);
  assert_int_equal(pb_plugin_latency(p), 0);
  expect_no_event(p);
  assert_int_equal(pb_plugin_set_active(p, 1), PB_OK);
  expect_latency_event(p, MAINS_DELAY);
  expect_no_event(p);
  assert_int_equal(pb_plugin_set_processing(p, 1), PB_OK);
  expect_latency_event(p, START_DELAY);
  expect_no_event(p);
  /* Stopping and starting again leaves it where it was: no event. */
  assert_int_equal(pb_plugin_set_processing(p, 0), PB_OK);
  assert_int_equal(pb_plugin_set_processing(p, 1), PB_OK);
  expect_no_event(p);
  assert_int_equal(pb_plugin_latency(p), START_DELAY);
  /* Suspended and resumed: the resume's delay again. */
  assert_int_equal(pb_plugin_set_processing(p, 0), PB_OK);
  assert_int_equal(pb_plugin_set_active(p, 0), PB_OK);
  expect_no_event(p);
  assert_int_equal(pb_plugin_set_active(p, 1), PB_OK);
  expect_latency_event(p, MAINS_DELAY);
  expect_no_event(p);
  pb_plugin_close(p);
}

static void
latency_announced_with_io_changed_is_reported(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_events"));
  pb_plugin_t* p = open_events(f);
  assert_int_equal(pb_plugin_set_active(p, 1), PB_OK);
  expect_latency_event(p, MAINS_DELAY);
  /* "Latency" 0.25: 250 frames, announced with audioMasterIOChanged. */
  assert_int_equal(pb_plugin_param_set(p, 0, 0.25f), PB_OK);
  pb_plugin_event_t ev;
  assert_int_equal(pb_plugin_poll_event(p, &ev), PB_OK);
  assert_int_equal(ev.kind, PB_EVENT_IO_CHANGED);
  assert_int_equal(ev.n_inputs, 2);
  assert_int_equal(ev.n_outputs, 2);
  assert_int_equal(ev.latency, 250);
  assert_int_equal(pb_plugin_latency(p), 250);
  expect_no_event(p);
  /* The re-read after a suspend finds the announced delay: no repeat. */
  assert_int_equal(pb_plugin_set_active(p, 0), PB_OK);
  expect_no_event(p);
  assert_int_equal(pb_plugin_latency(p), 250);
  /* A new one replaces it. */
  assert_int_equal(pb_plugin_param_set(p, 0, 0.5f), PB_OK);
  assert_int_equal(pb_plugin_poll_event(p, &ev), PB_OK);
  assert_int_equal(ev.kind, PB_EVENT_IO_CHANGED);
  assert_int_equal(ev.latency, 500);
  assert_int_equal(pb_plugin_latency(p), 500);
  expect_no_event(p);
  pb_plugin_close(p);
}

/* -------------------------------------------------------- automation */

/* Begin, `n` automations, end, as events.c raises them at `frame`. */
static void
expect_gesture(pb_plugin_t* p, uint32_t n, uint32_t frame)
{
  expect_event(p, PB_EVENT_BEGIN_EDIT, P_TARGET, 0.0f, frame);
  for (uint32_t k = 0; k < n; ++k)
    expect_event(p, PB_EVENT_AUTOMATE, P_TARGET, (float)k / 1024.0f, frame);
  expect_event(p, PB_EVENT_END_EDIT, P_TARGET, 0.0f, frame);
}

static void
automation_in_a_block_comes_back_at_its_frame(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_events"));
  pb_plugin_t* p = open_running(f);
  assert_int_equal(pb_plugin_param_set(p, P_AUTOMATE, 3.0f / AUTOMATE_SCALE),
                   PB_OK);
  expect_no_event(p);
  /* A change at frame 32 splits the block: one gesture per part. */
  const pb_param_change_t split = { 32, P_TARGET, 0.5f };
  process_ok(p, &split, 1);
  expect_gesture(p, 3, 0);
  expect_gesture(p, 3, 32);
  expect_no_event(p);
  process_ok(p, NULL, 0);
  expect_gesture(p, 3, 0);
  expect_no_event(p);
  assert_int_equal(pb_plugin_events_dropped(p), 0);
  pb_plugin_close(p);
}

static void
automation_over_the_bound_is_dropped_and_counted(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_events"));
  pb_plugin_t* p = open_running(f);
  /* 300 automations between begin and end: 302 events, 256 kept. */
  assert_int_equal(pb_plugin_param_set(p, P_AUTOMATE, 300.0f / AUTOMATE_SCALE),
                   PB_OK);
  process_ok(p, NULL, 0);
  expect_event(p, PB_EVENT_BEGIN_EDIT, P_TARGET, 0.0f, 0);
  for (uint32_t k = 0; k < PB_BLOCK_PARAM_EVENTS_MAX - 1u; ++k)
    expect_event(p, PB_EVENT_AUTOMATE, P_TARGET, (float)k / 1024.0f, 0);
  expect_no_event(p);
  assert_int_equal(pb_plugin_events_dropped(p), 302 - 256);
  /* The next block starts afresh. */
  assert_int_equal(pb_plugin_param_set(p, P_AUTOMATE, 1.0f / AUTOMATE_SCALE),
                   PB_OK);
  process_ok(p, NULL, 0);
  expect_gesture(p, 1, 0);
  expect_no_event(p);
  assert_int_equal(pb_plugin_events_dropped(p), 302 - 256);
  assert_int_equal(pb_plugin_events_dropped(NULL), 0);
  pb_plugin_close(p);
}

/* "Echo" automates itself in setParameter: through the pipe when a
 * control call sets it, through shared memory when a timed change in a
 * block does; each comes out in the order it happened. */
static void
automation_from_both_paths_comes_in_order(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_events"));
  pb_plugin_t* p = open_running(f);
  assert_int_equal(pb_plugin_param_set(p, P_ECHO, 0.25f), PB_OK);
  const pb_param_change_t echo = { 16, P_ECHO, 0.75f };
  process_ok(p, &echo, 1);
  assert_int_equal(pb_plugin_param_set(p, P_ECHO, 0.5f), PB_OK);
  expect_event(p, PB_EVENT_AUTOMATE, P_ECHO, 0.25f, 0);
  expect_event(p, PB_EVENT_AUTOMATE, P_ECHO, 0.75f, 16);
  expect_event(p, PB_EVENT_AUTOMATE, P_ECHO, 0.5f, 0);
  expect_no_event(p);
  pb_plugin_close(p);
}

/* ------------------------------------------------------- the callback */

enum
{
  MAX_SEEN = 64
};

typedef struct
{
  pthread_mutex_t mutex; /* the I/O thread and the test's write at once */
  pb_plugin_event_t events[MAX_SEEN];
  pthread_t threads[MAX_SEEN];
  int n;
  int bad_user;
} seen_t;

static seen_t* seen_user; /* the pointer the callback must get */

static void
on_event(void* user, const pb_plugin_event_t* ev)
{
  seen_t* s = (seen_t*)user;
  pthread_mutex_lock(&s->mutex);
  s->bad_user |= s != seen_user;
  if (s->n < MAX_SEEN) {
    s->events[s->n] = *ev;
    s->threads[s->n] = pthread_self();
    ++s->n;
  }
  pthread_mutex_unlock(&s->mutex);
}

/* Event `i` has `kind`, `index`, `value`, `frame` (LATENCY: `latency` in
 * `frame`) and came on the test's thread (`here`) or another. */
static void
expect_seen(seen_t* s,
            int i,
            pb_plugin_event_kind_t kind,
            int32_t index,
            float value,
            uint32_t frame,
            int here)
{
  pthread_mutex_lock(&s->mutex);
  assert_true(i < s->n);
  const pb_plugin_event_t ev = s->events[i];
  const int on_this_thread = pthread_equal(s->threads[i], pthread_self());
  pthread_mutex_unlock(&s->mutex);
  assert_int_equal(ev.kind, kind);
  if (kind == PB_EVENT_LATENCY) {
    assert_int_equal(ev.latency, (int32_t)frame);
  } else {
    assert_int_equal(ev.index, index);
    assert_true(ev.value == value);
    assert_int_equal(ev.frame, frame);
  }
  assert_int_equal(on_this_thread, here);
}

static int
n_seen(seen_t* s)
{
  pthread_mutex_lock(&s->mutex);
  const int n = s->n;
  pthread_mutex_unlock(&s->mutex);
  return n;
}

static void
callback_gets_events_of_both_paths_on_their_threads(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_events"));
  seen_t s;
  memset(&s, 0, sizeof s);
  assert_int_equal(pthread_mutex_init(&s.mutex, NULL), 0);
  seen_user = &s;
  f->opts.on_event = on_event;
  f->opts.on_event_user = &s;
  pb_plugin_t* p = open_events(f);
  /* Pipe events reach the callback before the call returns. */
  assert_int_equal(pb_plugin_set_active(p, 1), PB_OK);
  assert_int_equal(n_seen(&s), 1);
  expect_seen(&s, 0, PB_EVENT_LATENCY, 0, 0.0f, MAINS_DELAY, 0);
  assert_int_equal(pb_plugin_latency(p), MAINS_DELAY);
  assert_int_equal(pb_plugin_set_processing(p, 1), PB_OK);
  assert_int_equal(pb_plugin_param_set(p, P_ECHO, 0.25f), PB_OK);
  assert_int_equal(n_seen(&s), 3);
  expect_seen(&s, 1, PB_EVENT_LATENCY, 0, 0.0f, START_DELAY, 0);
  expect_seen(&s, 2, PB_EVENT_AUTOMATE, P_ECHO, 0.25f, 0, 0);
  /* Block events before pb_plugin_process() returns, on its thread. */
  assert_int_equal(pb_plugin_param_set(p, P_AUTOMATE, 1.0f / AUTOMATE_SCALE),
                   PB_OK);
  const pb_param_change_t echo = { 16, P_ECHO, 0.75f };
  process_ok(p, &echo, 1);
  assert_int_equal(n_seen(&s), 10);
  expect_seen(&s, 3, PB_EVENT_BEGIN_EDIT, P_TARGET, 0.0f, 0, 1);
  expect_seen(&s, 4, PB_EVENT_AUTOMATE, P_TARGET, 0.0f, 0, 1);
  expect_seen(&s, 5, PB_EVENT_END_EDIT, P_TARGET, 0.0f, 0, 1);
  expect_seen(&s, 6, PB_EVENT_AUTOMATE, P_ECHO, 0.75f, 16, 1);
  expect_seen(&s, 7, PB_EVENT_BEGIN_EDIT, P_TARGET, 0.0f, 16, 1);
  expect_seen(&s, 8, PB_EVENT_AUTOMATE, P_TARGET, 0.0f, 16, 1);
  expect_seen(&s, 9, PB_EVENT_END_EDIT, P_TARGET, 0.0f, 16, 1);
  /* Nothing is left for polling. */
  expect_no_event(p);
  assert_int_equal(s.bad_user, 0);
  pb_plugin_close(p);
  assert_int_equal(n_seen(&s), 10);
  pthread_mutex_destroy(&s.mutex);
}

static void
callback_is_off_by_default(void** state)
{
  (void)state;
  pb_open_opts_t o;
  pb_open_opts_init(&o);
  assert_null(o.on_event);
  assert_null(o.on_event_user);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    T(latency_set_silently_on_resume_is_reported),
    T(latency_announced_with_io_changed_is_reported),
    T(automation_in_a_block_comes_back_at_its_frame),
    T(automation_over_the_bound_is_dropped_and_counted),
    T(automation_from_both_paths_comes_in_order),
    T(callback_gets_events_of_both_paths_on_their_threads),
    T(callback_is_off_by_default),
#undef T
  };
  return cmocka_run_group_tests_name(
    "audio_events", tests, fx_group_setup, NULL);
}
