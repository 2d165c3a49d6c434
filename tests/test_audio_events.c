/* Events a plugin raises, through the bridge to pb_plugin_poll_event():
 * latency changes, whether the plugin says so (audioMasterIOChanged) or
 * not (a new initial delay once resumed).  The plugin is
 * tests/plugins/events.c. */
#include "host_fixture.h"
#include "plugbox.h"

#include <string.h>

#define MAINS_DELAY 64  /* = events.c: the delay once resumed */
#define START_DELAY 128 /* = events.c: once processing */

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

int
main(void)
{
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    T(latency_set_silently_on_resume_is_reported),
    T(latency_announced_with_io_changed_is_reported),
#undef T
  };
  return cmocka_run_group_tests_name(
    "audio_events", tests, fx_group_setup, NULL);
}
