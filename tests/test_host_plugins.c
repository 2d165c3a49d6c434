/* libplugbox with the real bridge: real plugins (MVerb, an LSP library
 * that is not a plugin) and the test plugins when built; calls, their
 * argument checks, and a bridge that dies, hangs or is killed at each
 * moment.  Tests skip when their plugin is not installed. */
#define _POSIX_C_SOURCE 200809L

#include "host_fixture.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --------------------------------------------------------------- helpers */

static pb_plugin_t*
open_ok(fixture_t* f, const char* path)
{
  pb_plugin_t* p = NULL;
  const pb_status_t st = fx_open(f, path, &p);
  if (st != PB_OK)
    print_error("open %s: %s: %s\n",
                path,
                pb_status_name(st),
                pb_host_last_error(f->host));
  assert_int_equal(st, PB_OK);
  assert_non_null(p);
  return p;
}

/* The I/O thread reaps a dead bridge on its own. */
static void
wait_reaped(pb_plugin_t* p)
{
  for (int i = 0; i < 400 && pb_plugin_pid(p) != 0; ++i)
    fx_sleep_ms(5);
  assert_int_equal(pb_plugin_pid(p), 0);
}

/* ----------------------------------------------------------------- MVerb */

static void
mverb_opens_with_a_full_description(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  const double t0 = fx_now_ms();
  pb_plugin_t* p = open_ok(f, MVERB);
  const double ready = fx_now_ms() - t0;
  print_message("MVerb open-to-ready: %.1f ms\n", ready);

  const pb_info_t* info = pb_plugin_info(p);
  assert_non_null(info);
  assert_string_equal(info->path, MVERB);
  assert_string_equal(info->arch, "x86_64");
  assert_string_equal(info->name, "MVerb");
  assert_string_equal(info->unique_id_text, "MVrb");
  assert_int_equal(info->n_params, 9);
  assert_string_equal(info->params[0].name, "Damping");
  assert_string_equal(info->params[8].name, "Early/Late Mix");
  assert_int_equal(info->n_programs, 1);
  assert_string_equal(info->program_names[0], "Default");
  for (int32_t i = 0; i < info->n_params; ++i) {
    assert_non_null(info->params[i].name);
    assert_true(strlen(info->params[i].name) > 0);
    assert_true(info->params[i].value >= 0.0f && info->params[i].value <= 1.0f);
  }
  assert_int_equal(info->n_outputs, 2);
  for (int32_t i = 0; i < info->n_programs; ++i)
    assert_non_null(info->program_names[i]);
  assert_true(pb_plugin_pid(p) > 0);
  assert_string_equal(pb_plugin_last_error(p), "");
  pb_crash_t crash;
  pb_plugin_crash(p, &crash);
  assert_int_equal(crash.crashed, 0);
  pb_plugin_close(p);
}

static void
mverb_param_set_get_round_trip(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  pb_plugin_t* p = open_ok(f, MVERB);
  char low[64];
  char high[64];
  float v = -1.0f;
  assert_int_equal(pb_plugin_param_set(p, 0, 0.125f), PB_OK);
  assert_int_equal(pb_plugin_param_get(p, 0, &v, low, sizeof(low)), PB_OK);
  assert_true(fabsf(v - 0.125f) < 1e-3f);
  assert_int_equal(pb_plugin_param_set(p, 0, 0.875f), PB_OK);
  assert_int_equal(pb_plugin_param_get(p, 0, &v, high, sizeof(high)), PB_OK);
  assert_true(fabsf(v - 0.875f) < 1e-3f);
  assert_string_not_equal(low, high);
  assert_true(fx_contains(high, "87.5"));
  /* Out of 0..1 is clamped, not refused. */
  assert_int_equal(pb_plugin_param_set(p, 0, 7.0f), PB_OK);
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_OK);
  assert_true(fabsf(v - 1.0f) < 1e-3f);
  pb_plugin_close(p);
}

static void
mverb_rejects_bad_arguments_without_crashing(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  pb_plugin_t* p = open_ok(f, MVERB);
  const int32_t n = pb_plugin_info(p)->n_params;
  float v = 0.0f;
  char text[32];
  assert_int_equal(pb_plugin_param_get(p, n, &v, NULL, 0), PB_ERR_RANGE);
  (void)snprintf(text, sizeof(text), "index %d", (int)n);
  assert_true(fx_contains(pb_plugin_last_error(p), text));
  assert_int_equal(pb_plugin_param_set(p, -1, 0.5f), PB_ERR_RANGE);
  assert_int_equal(pb_plugin_param_set(p, 0, NAN), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_program_set(p, pb_plugin_info(p)->n_programs),
                   PB_ERR_RANGE);
  assert_int_equal(pb_plugin_param_from_string(p, 0, NULL, NULL),
                   PB_ERR_INVALID);
  assert_int_equal(pb_plugin_chunk_set(p, 0, NULL, 5), PB_ERR_INVALID);
  assert_int_equal(
    pb_plugin_chunk_set(p, 0, "x", (size_t)PB_CHUNK_MAX_BYTES + 1u),
    PB_ERR_TOO_BIG);
  assert_int_equal(pb_plugin_set_sample_rate(p, 0.0), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_set_block_size(p, 0), PB_ERR_INVALID);
  /* Still alive and answering. */
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_OK);
  pb_plugin_close(p);
}

static void
mverb_programs_select_and_name(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  pb_plugin_t* p = open_ok(f, MVERB);
  const pb_info_t* info = pb_plugin_info(p);
  int32_t current = -1;
  char name[64];
  assert_int_equal(pb_plugin_program_get(p, &current), PB_OK);
  assert_int_equal(current, info->current_program);
  if (info->n_programs > 1) {
    assert_int_equal(pb_plugin_program_set(p, 1), PB_OK);
    assert_int_equal(pb_plugin_program_get(p, &current), PB_OK);
    assert_int_equal(current, 1);
    assert_int_equal(pb_plugin_program_name(p, 1, name, sizeof(name)), PB_OK);
    assert_string_equal(name, info->program_names[1]);
  }
  pb_plugin_close(p);
}

static void
mverb_answers_setup_calls(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  pb_plugin_t* p = open_ok(f, MVERB);
  int32_t answer = 99;
  int32_t tail = -1;
  assert_int_equal(pb_plugin_set_active(p, 0), PB_OK);
  assert_int_equal(pb_plugin_set_sample_rate(p, 44100.0), PB_OK);
  assert_int_equal(pb_plugin_set_block_size(p, 256), PB_OK);
  assert_int_equal(pb_plugin_set_active(p, 1), PB_OK);
  assert_int_equal(pb_plugin_set_processing(p, 1), PB_OK);
  assert_int_equal(pb_plugin_set_processing(p, 0), PB_OK);
  assert_int_equal(pb_plugin_set_active(p, 0), PB_OK);
  assert_int_equal(pb_plugin_tail_size(p, &tail), PB_OK);
  assert_true(tail >= 0);
  assert_int_equal(pb_plugin_can_do(p, "receiveVstEvents", &answer), PB_OK);
  assert_true(answer >= -1 && answer <= 1);
  pb_plugin_close(p);
}

static void
lsp_library_is_not_a_plugin(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  FX_NEED(LSP_LIBRARY);
  assert_int_equal(fx_open(f, LSP_LIBRARY, &p), PB_ERR_NOT_PLUGIN);
  assert_null(p);
  assert_true(strlen(pb_host_last_error(f->host)) > 0);
}

static void
several_instances_live_side_by_side(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  pb_plugin_t* p[3];
  for (int i = 0; i < 3; ++i)
    p[i] = open_ok(f, MVERB);
  for (int i = 0; i < 3; ++i)
    assert_int_equal(pb_plugin_param_set(p[i], 1, 0.1f * (float)(i + 1)),
                     PB_OK);
  for (int i = 0; i < 3; ++i) {
    float v = 0.0f;
    assert_int_equal(pb_plugin_param_get(p[i], 1, &v, NULL, 0), PB_OK);
    assert_true(fabsf(v - 0.1f * (float)(i + 1)) < 1e-3f);
  }
  assert_int_not_equal(pb_plugin_pid(p[0]), pb_plugin_pid(p[1]));
  for (int i = 0; i < 3; ++i)
    pb_plugin_close(p[i]);
}

static void*
hammer(void* arg)
{
  pb_plugin_t* p = (pb_plugin_t*)arg;
  for (int i = 0; i < 100; ++i) {
    float v = 0.0f;
    if (pb_plugin_param_set(p, 0, (float)(i % 10) / 10.0f) != PB_OK ||
        pb_plugin_param_get(p, 0, &v, NULL, 0) != PB_OK)
      return (void*)1;
  }
  return NULL;
}

static void
calls_from_two_threads_are_serialized(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  pb_plugin_t* p = open_ok(f, MVERB);
  pthread_t t[2];
  void* result[2] = { (void*)1, (void*)1 };
  for (int i = 0; i < 2; ++i)
    assert_int_equal(pthread_create(&t[i], NULL, hammer, p), 0);
  for (int i = 0; i < 2; ++i)
    assert_int_equal(pthread_join(t[i], &result[i]), 0);
  assert_null(result[0]);
  assert_null(result[1]);
  pb_plugin_close(p);
}

/* -------------------------------------------------------------- crashes */

static void
bridge_killed_while_idle_is_crashed(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  pb_plugin_t* p = open_ok(f, MVERB);
  float v = 0.0f;
  pb_crash_t crash;
  assert_int_equal(kill(pb_plugin_pid(p), SIGABRT), 0);
  wait_reaped(p);
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_ERR_CRASHED);
  pb_plugin_crash(p, &crash);
  assert_int_equal(crash.crashed, 1);
  assert_int_equal(crash.signal, SIGABRT);
  assert_string_equal(crash.signal_name, "SIGABRT");
  assert_int_equal(crash.exit_code, -1);
  assert_string_equal(crash.call, "");
  assert_true(fx_contains(crash.reason, "died of SIGABRT while idle"));
  /* Every later call fails at once. */
  const double t0 = fx_now_ms();
  assert_int_equal(pb_plugin_param_set(p, 0, 0.5f), PB_ERR_CRASHED);
  assert_int_equal(pb_plugin_set_active(p, 1), PB_ERR_CRASHED);
  assert_true(fx_now_ms() - t0 < 100.0);
  pb_plugin_close(p);
}

static void
crash_record_is_current_without_a_call(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  pb_plugin_t* p = open_ok(f, MVERB);
  pb_crash_t crash;
  assert_int_equal(kill(pb_plugin_pid(p), SIGKILL), 0);
  wait_reaped(p);
  pb_plugin_crash(p, &crash);
  assert_int_equal(crash.crashed, 1);
  assert_string_equal(crash.signal_name, "SIGKILL");
  pb_plugin_close(p);
}

static void
crash_is_detected_without_pidfd(void** state)
{
  assert_int_equal(setenv("PLUGBOX_NO_PIDFD", "1", 1), 0);
  bridge_killed_while_idle_is_crashed(state);
  assert_int_equal(unsetenv("PLUGBOX_NO_PIDFD"), 0);
}

static void
hung_bridge_times_out_and_is_killed(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  f->opts.call_timeout_ms = 300;
  pb_plugin_t* p = open_ok(f, MVERB);
  float v = 0.0f;
  pb_crash_t crash;
  fx_stop_bridge(p);
  const double t0 = fx_now_ms();
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_ERR_TIMEOUT);
  const double took = fx_now_ms() - t0;
  assert_true(took >= 290.0 && took < 3000.0);
  /* The time the request waited: the call's 300 ms less what passed
   * before it began (a ms or more under load). */
  const char* within = strstr(pb_plugin_last_error(p), "within ");
  assert_non_null(within);
  unsigned waited = 0;
  assert_int_equal(sscanf(within, "within %u ms", &waited), 1);
  assert_true(waited >= 290 && waited <= 300);
  pb_plugin_crash(p, &crash);
  assert_int_equal(crash.crashed, 1);
  assert_string_equal(crash.call, "param_get");
  assert_string_equal(crash.reason, "timeout in param_get");
  assert_int_equal(crash.signal, SIGKILL);
  assert_int_equal(pb_plugin_pid(p), 0);
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_ERR_CRASHED);
  pb_plugin_close(p);
}

/* SIGKILL, not a catchable signal: the bridge's crash handler would let
 * its main thread answer the pending request before the re-raised signal
 * ends the process, and the test is about a death during the call. */
static void*
kill_stopped(void* arg)
{
  const int pid = *(const int*)arg;
  fx_sleep_ms(200);
  (void)kill(pid, SIGKILL);
  return NULL;
}

static void
bridge_dying_during_a_call_is_crashed(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  pb_plugin_t* p = open_ok(f, MVERB);
  float v = 0.0f;
  pb_crash_t crash;
  pthread_t killer;
  int pid = pb_plugin_pid(p);
  fx_stop_bridge(p);
  assert_int_equal(pthread_create(&killer, NULL, kill_stopped, &pid), 0);
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_ERR_CRASHED);
  assert_int_equal(pthread_join(killer, NULL), 0);
  pb_plugin_crash(p, &crash);
  assert_int_equal(crash.signal, SIGKILL);
  assert_string_equal(crash.call, "param_get");
  assert_true(fx_contains(crash.reason, "died of SIGKILL in param_get"));
  pb_plugin_close(p);
}

/* Closing a hung bridge must not wait for the full call timeout. */
static void
close_of_hung_bridge_is_bounded(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(MVERB);
  f->opts.call_timeout_ms = 60000;
  pb_plugin_t* p = open_ok(f, MVERB);
  fx_stop_bridge(p);
  const double t0 = fx_now_ms();
  pb_plugin_close(p);
  assert_true(fx_now_ms() - t0 < 6000.0);
}

/* -------------------------------------------------------- test plugins */

static void
expect_open_failure(fixture_t* f,
                    const char* name,
                    pb_status_t want,
                    const char* text)
{
  const char* path = fx_test_plugin(name);
  pb_plugin_t* p = NULL;
  FX_NEED(path);
  const pb_status_t st = fx_open(f, path, &p);
  if (st != want)
    print_error("%s: %s\n", name, pb_host_last_error(f->host));
  assert_int_equal(st, want);
  assert_null(p);
  if (text)
    assert_true(fx_contains(pb_host_last_error(f->host), text));
}

static void
missing_library_is_a_load_error(void** state)
{
  expect_open_failure((fixture_t*)*state,
                      "pb_test_missingdep",
                      PB_ERR_LOAD,
                      "libpb_test_gone.so");
}

static void
missing_entry_point_is_not_a_plugin(void** state)
{
  expect_open_failure(
    (fixture_t*)*state, "pb_test_noentry", PB_ERR_NOT_PLUGIN, NULL);
  expect_open_failure(
    (fixture_t*)*state, "pb_test_nullentry", PB_ERR_NOT_PLUGIN, NULL);
  expect_open_failure(
    (fixture_t*)*state, "pb_test_badmagic", PB_ERR_NOT_PLUGIN, NULL);
}

static void
crash_in_entry_point_is_reported(void** state)
{
  expect_open_failure(
    (fixture_t*)*state, "pb_test_crash_load", PB_ERR_CRASHED, "while loading");
}

static void
hang_in_entry_point_times_out(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  f->opts.load_timeout_ms = 500;
  expect_open_failure(
    f, "pb_test_hang_load", PB_ERR_TIMEOUT, "did not load within 500 ms");
}

static void
gain_plugin_round_trips_its_state(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* path = fx_test_plugin("pb_test_gain");
  FX_NEED(path);
  pb_plugin_t* p = open_ok(f, path);
  const pb_info_t* info = pb_plugin_info(p);
  assert_string_equal(info->name, "plugbox test gain");
  assert_string_equal(info->vendor, "plugbox tests");
  assert_int_equal(info->n_params, 3);
  assert_string_equal(info->params[0].name, "Output Gain");
  assert_string_equal(info->params[0].label, "dB");
  assert_int_equal(info->n_programs, 4);
  assert_string_equal(info->program_names[1], "Quiet");

  float v = 0.0f;
  assert_int_equal(pb_plugin_param_from_string(p, 0, "-inf", &v), PB_OK);
  assert_true(v == 0.0f);
  assert_int_equal(pb_plugin_param_from_string(p, 2, "Maybe", &v),
                   PB_ERR_REFUSED);
  void* chunk = NULL;
  size_t size = 0;
  assert_int_equal(pb_plugin_chunk_get(p, 0, &chunk, &size), PB_OK);
  assert_true(size > 20);
  assert_int_equal(pb_plugin_param_set(p, 0, 0.9f), PB_OK);
  assert_int_equal(pb_plugin_chunk_set(p, 0, chunk, size), PB_OK);
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_OK);
  assert_true(v == 0.0f); /* back to the chunk's value */
  pb_free(chunk);
  int32_t answer = 0;
  assert_int_equal(pb_plugin_can_do(p, "bypass", &answer), PB_OK);
  assert_int_equal(answer, 1);
  assert_int_equal(pb_plugin_set_bypass(p, 1), PB_OK);
  pb_plugin_close(p);
}

static void
gain_plugin_selects_and_renames_programs(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* path = fx_test_plugin("pb_test_gain");
  FX_NEED(path);
  pb_plugin_t* p = open_ok(f, path);
  int32_t current = -1;
  char name[32];
  float v = 0.0f;
  assert_int_equal(pb_plugin_program_set(p, 1), PB_OK);
  assert_int_equal(pb_plugin_program_get(p, &current), PB_OK);
  assert_int_equal(current, 1);
  assert_int_equal(pb_plugin_param_get(p, 0, &v, name, sizeof(name)), PB_OK);
  assert_true(v == 0.25f); /* "Quiet" */
  assert_string_equal(name, "-6.02");
  assert_int_equal(pb_plugin_program_name(p, 3, name, sizeof(name)), PB_OK);
  assert_string_equal(name, "Inverted");
  assert_int_equal(pb_plugin_program_rename(p, "Mine"), PB_OK);
  assert_int_equal(pb_plugin_program_name(p, 1, name, sizeof(name)), PB_OK);
  assert_string_equal(name, "Mine");
  /* A short buffer gets a cut, terminated string. */
  assert_int_equal(pb_plugin_program_name(p, 3, name, 4), PB_OK);
  assert_string_equal(name, "Inv");
  assert_int_equal(pb_plugin_program_name(p, 4, name, sizeof(name)),
                   PB_ERR_RANGE);
  pb_plugin_close(p);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    T(mverb_opens_with_a_full_description),
    T(mverb_param_set_get_round_trip),
    T(mverb_rejects_bad_arguments_without_crashing),
    T(mverb_programs_select_and_name),
    T(mverb_answers_setup_calls),
    T(lsp_library_is_not_a_plugin),
    T(several_instances_live_side_by_side),
    T(calls_from_two_threads_are_serialized),
    T(bridge_killed_while_idle_is_crashed),
    T(crash_record_is_current_without_a_call),
    T(crash_is_detected_without_pidfd),
    T(hung_bridge_times_out_and_is_killed),
    T(bridge_dying_during_a_call_is_crashed),
    T(close_of_hung_bridge_is_bounded),
    T(missing_library_is_a_load_error),
    T(missing_entry_point_is_not_a_plugin),
    T(crash_in_entry_point_is_reported),
    T(hang_in_entry_point_times_out),
    T(gain_plugin_round_trips_its_state),
    T(gain_plugin_selects_and_renames_programs),
#undef T
  };
  return cmocka_run_group_tests_name(
    "host_plugins", tests, fx_group_setup, NULL);
}
