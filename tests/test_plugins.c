/* Each test plugin opened through libplugbox in a bridge: what it reports,
 * the calls that reach it, and each way a plugin can fail to load.  Every
 * test ends with no fd and no child process left behind. */
#define _POSIX_C_SOURCE 200809L

#include "expect_info.h"
#include "plugbox.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define GAIN_BANK_CHUNK_BYTES 164 /* 20-byte header + 4 × 36 */
#define GAIN_PROGRAM_CHUNK_BYTES 56

static pb_host_t* host;
static int fds_before;

/* What a test opened and has not closed: a failed assertion leaves the
 * test early, and teardown closes the rest so one failure stays one. */
static pb_plugin_t* opened[4];

static const char*
plugin_path(const char* name)
{
  static char path[4096];
  const char* dir = getenv("PB_TEST_PLUGIN_DIR");
  assert_non_null(dir);
  snprintf(path, sizeof(path), "%s/%s.so", dir, name);
  return path;
}

static int
count_fds(void)
{
  DIR* d = opendir("/proc/self/fd");
  assert_non_null(d);
  int n = 0;
  while (readdir(d))
    ++n;
  closedir(d);
  return n;
}

static pb_plugin_t*
open_plugin(const char* name)
{
  pb_plugin_t* plugin = NULL;
  const pb_status_t status =
    pb_plugin_open(host, plugin_path(name), NULL, &plugin);
  if (status != PB_OK)
    fail_msg(
      "%s: %s: %s", name, pb_status_name(status), pb_host_last_error(host));
  assert_non_null(plugin);
  for (size_t i = 0; i < sizeof(opened) / sizeof(opened[0]); ++i) {
    if (!opened[i]) {
      opened[i] = plugin;
      return plugin;
    }
  }
  fail_msg("a test opens at most %zu plugins at a time",
           sizeof(opened) / sizeof(opened[0]));
  return NULL;
}

static void
close_plugin(pb_plugin_t* plugin)
{
  for (size_t i = 0; i < sizeof(opened) / sizeof(opened[0]); ++i) {
    if (opened[i] == plugin)
      opened[i] = NULL;
  }
  pb_plugin_close(plugin);
}

/* The library may set up process-wide things (a signal pipe, a thread)
 * on its first bridge; open one first so each test starts from the steady
 * state. */
static int
group_setup(void** state)
{
  (void)state;
  if (pb_host_new(&host) != PB_OK)
    return -1;
  pb_plugin_t* plugin = NULL;
  if (pb_plugin_open(host, plugin_path("pb_test_gain"), NULL, &plugin) != PB_OK)
    return -1;
  pb_plugin_close(plugin);
  return 0;
}

static int
group_teardown(void** state)
{
  (void)state;
  pb_host_free(host);
  host = NULL;
  return 0;
}

static int
setup(void** state)
{
  (void)state;
  fds_before = count_fds();
  return 0;
}

static int
teardown(void** state)
{
  (void)state;
  for (size_t i = 0; i < sizeof(opened) / sizeof(opened[0]); ++i) {
    pb_plugin_close(opened[i]);
    opened[i] = NULL;
  }
  assert_int_equal(count_fds(), fds_before);
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
  return 0;
}

/* ------------------------------------------------------------- info */

static void
gain_reports_known_info(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_gain");
  const pb_info_t* info = pb_plugin_info(plugin);
  pb_expect_gain(info);
  assert_string_equal(info->path, plugin_path("pb_test_gain"));
  assert_true(pb_plugin_pid(plugin) > 0);
  assert_int_not_equal(pb_plugin_pid(plugin), getpid());
  close_plugin(plugin);
}

static void
synth_reports_known_info(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_synth");
  pb_expect_synth(pb_plugin_info(plugin));
  close_plugin(plugin);
}

static void
odd_reports_long_strings_and_unprintable_id(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_odd");
  pb_expect_odd(pb_plugin_info(plugin));
  close_plugin(plugin);
}

/* ------------------------------------------------------- parameters */

static void
expect_param(pb_plugin_t* plugin,
             int32_t index,
             float value,
             const char* display)
{
  float got = -1.0f;
  char text[64];
  assert_int_equal(pb_plugin_param_get(plugin, index, &got, text, sizeof(text)),
                   PB_OK);
  assert_true(got == value);
  assert_string_equal(text, display);
}

static void
gain_param_set_get_display_round_trip(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_gain");
  assert_int_equal(pb_plugin_param_set(plugin, 0, 0.25f), PB_OK);
  expect_param(plugin, 0, 0.25f, "-6.02");
  assert_int_equal(pb_plugin_param_set(plugin, 0, 1.5f), PB_OK);
  expect_param(plugin, 0, 1.0f, "6.02");
  assert_int_equal(pb_plugin_param_set(plugin, 0, 0.0f), PB_OK);
  expect_param(plugin, 0, 0.0f, "-inf");
  assert_int_equal(pb_plugin_param_set(plugin, 1, 0.0f), PB_OK);
  expect_param(plugin, 1, 0.0f, "-100");
  assert_int_equal(pb_plugin_param_set(plugin, 2, 1.0f), PB_OK);
  expect_param(plugin, 2, 1.0f, "On");
  float value = -1.0f;
  assert_int_equal(pb_plugin_param_get(plugin, 2, &value, NULL, 0), PB_OK);
  assert_true(value == 1.0f);
  /* A display buffer too small is cut, still terminated. */
  char small[3];
  assert_int_equal(pb_plugin_param_get(plugin, 1, &value, small, sizeof(small)),
                   PB_OK);
  assert_string_equal(small, "-1");
  close_plugin(plugin);
}

static void
param_calls_check_index_and_value(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_gain");
  float value = 0.0f;
  assert_int_equal(pb_plugin_param_set(plugin, 3, 0.5f), PB_ERR_RANGE);
  assert_int_equal(pb_plugin_param_set(plugin, -1, 0.5f), PB_ERR_RANGE);
  assert_int_equal(pb_plugin_param_get(plugin, 3, &value, NULL, 0),
                   PB_ERR_RANGE);
  assert_int_equal(pb_plugin_param_set(plugin, 0, NAN), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_param_from_string(plugin, 7, "1", NULL),
                   PB_ERR_RANGE);
  expect_param(plugin, 0, 0.5f, "0.00");
  close_plugin(plugin);

  plugin = open_plugin("pb_test_odd");
  assert_int_equal(pb_plugin_param_get(plugin, 0, &value, NULL, 0),
                   PB_ERR_RANGE);
  close_plugin(plugin);
}

static void
gain_parses_parameter_text(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_gain");
  float value = -1.0f;
  assert_int_equal(pb_plugin_param_from_string(plugin, 0, "-6.02", &value),
                   PB_OK);
  assert_true(fabsf(value - 0.25f) < 1e-3f);
  char text[64];
  assert_int_equal(pb_plugin_param_get(plugin, 0, &value, text, sizeof(text)),
                   PB_OK);
  assert_string_equal(text, "-6.02");
  assert_int_equal(pb_plugin_param_from_string(plugin, 0, "-inf", &value),
                   PB_OK);
  assert_true(value == 0.0f);
  assert_int_equal(pb_plugin_param_from_string(plugin, 1, "-100 %", &value),
                   PB_OK);
  assert_true(value == 0.0f);
  assert_int_equal(pb_plugin_param_from_string(plugin, 2, "On", NULL), PB_OK);
  expect_param(plugin, 2, 1.0f, "On");
  assert_int_equal(pb_plugin_param_from_string(plugin, 0, "loud", &value),
                   PB_ERR_REFUSED);
  assert_int_equal(pb_plugin_param_from_string(plugin, 2, "Maybe", &value),
                   PB_ERR_REFUSED);
  expect_param(plugin, 2, 1.0f, "On");
  close_plugin(plugin);
}

static void
synth_refuses_parameter_text(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_synth");
  assert_int_equal(pb_plugin_param_from_string(plugin, 2, "0.5", NULL),
                   PB_ERR_REFUSED);
  expect_param(plugin, 2, 0.5f, "-6.02");
  close_plugin(plugin);
}

/* --------------------------------------------------------- programs */

static void
expect_program_name(pb_plugin_t* plugin, int32_t index, const char* name)
{
  char text[64];
  assert_int_equal(pb_plugin_program_name(plugin, index, text, sizeof(text)),
                   PB_OK);
  assert_string_equal(text, name);
}

static void
gain_programs_select_and_rename(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_gain");
  int32_t index = -1;
  assert_int_equal(pb_plugin_program_get(plugin, &index), PB_OK);
  assert_int_equal(index, 0);
  assert_int_equal(pb_plugin_program_set(plugin, 1), PB_OK);
  assert_int_equal(pb_plugin_program_get(plugin, &index), PB_OK);
  assert_int_equal(index, 1);
  expect_param(plugin, 0, 0.25f, "-6.02"); /* Quiet */
  assert_int_equal(pb_plugin_program_set(plugin, 3), PB_OK);
  expect_param(plugin, 2, 1.0f, "On"); /* Inverted */
  expect_program_name(plugin, 2, "Hard Left");
  assert_int_equal(pb_plugin_program_rename(plugin, "Renamed Program"), PB_OK);
  expect_program_name(plugin, 3, "Renamed Program");
  expect_program_name(plugin, 0, "Unity");
  assert_int_equal(pb_plugin_program_set(plugin, 4), PB_ERR_RANGE);
  assert_int_equal(pb_plugin_program_set(plugin, -1), PB_ERR_RANGE);
  char text[64];
  assert_int_equal(pb_plugin_program_name(plugin, 4, text, sizeof(text)),
                   PB_ERR_RANGE);
  assert_int_equal(pb_plugin_program_get(plugin, &index), PB_OK);
  assert_int_equal(index, 3);
  close_plugin(plugin);
}

/* ----------------------------------------------------------- chunks */

/* A chunk the plugin rejects (its effSetChunk returned 0).  The library
 * may report that as PB_ERR_REFUSED, or pass PB_OK because many plugins
 * return 0 on success too; either way the plugin must be as it was, which
 * the callers check. */
static void
expect_chunk_refused(pb_plugin_t* plugin,
                     int program,
                     const void* data,
                     size_t size)
{
  const pb_status_t status = pb_plugin_chunk_set(plugin, program, data, size);
  if (status != PB_ERR_REFUSED && status != PB_OK)
    fail_msg("a refused chunk gave %s", pb_status_name(status));
}

static void
gain_bank_chunk_round_trips(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_gain");
  void* bank = NULL;
  size_t size = 0;
  assert_int_equal(pb_plugin_chunk_get(plugin, 0, &bank, &size), PB_OK);
  assert_non_null(bank);
  assert_int_equal(size, GAIN_BANK_CHUNK_BYTES);
  assert_memory_equal(bank, "cGbP", 4); /* magic, little-endian */

  assert_int_equal(pb_plugin_param_set(plugin, 0, 0.75f), PB_OK);
  assert_int_equal(pb_plugin_program_set(plugin, 2), PB_OK);
  assert_int_equal(pb_plugin_program_rename(plugin, "Changed"), PB_OK);

  assert_int_equal(pb_plugin_chunk_set(plugin, 0, bank, size), PB_OK);
  int32_t index = -1;
  assert_int_equal(pb_plugin_program_get(plugin, &index), PB_OK);
  assert_int_equal(index, 0);
  expect_param(plugin, 0, 0.5f, "0.00");
  expect_program_name(plugin, 2, "Hard Left");

  void* again = NULL;
  size_t again_size = 0;
  assert_int_equal(pb_plugin_chunk_get(plugin, 0, &again, &again_size), PB_OK);
  assert_int_equal(again_size, size);
  assert_memory_equal(again, bank, size);
  pb_free(again);
  pb_free(bank);
  close_plugin(plugin);
}

static void
gain_program_chunk_round_trips(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_gain");
  assert_int_equal(pb_plugin_program_set(plugin, 1), PB_OK);
  void* program = NULL;
  size_t size = 0;
  assert_int_equal(pb_plugin_chunk_get(plugin, 1, &program, &size), PB_OK);
  assert_int_equal(size, GAIN_PROGRAM_CHUNK_BYTES);
  /* Quiet's settings and name, loaded into program 3. */
  assert_int_equal(pb_plugin_program_set(plugin, 3), PB_OK);
  assert_int_equal(pb_plugin_chunk_set(plugin, 1, program, size), PB_OK);
  expect_param(plugin, 0, 0.25f, "-6.02");
  expect_param(plugin, 2, 0.0f, "Off");
  expect_program_name(plugin, 3, "Quiet");
  /* A program chunk is not a bank. */
  expect_chunk_refused(plugin, 0, program, size);
  expect_param(plugin, 0, 0.25f, "-6.02");
  expect_program_name(plugin, 0, "Unity");
  expect_program_name(plugin, 3, "Quiet");
  int32_t index = -1;
  assert_int_equal(pb_plugin_program_get(plugin, &index), PB_OK);
  assert_int_equal(index, 3);
  pb_free(program);
  close_plugin(plugin);
}

static void
gain_refuses_malformed_chunks(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_gain");
  void* bank = NULL;
  size_t size = 0;
  assert_int_equal(pb_plugin_chunk_get(plugin, 0, &bank, &size), PB_OK);
  assert_int_equal(pb_plugin_param_set(plugin, 0, 0.125f), PB_OK);

  unsigned char* bad = malloc(size);
  assert_non_null(bad);
  memcpy(bad, bank, size);
  bad[0] ^= 0xff; /* magic */
  expect_chunk_refused(plugin, 0, bad, size);
  memcpy(bad, bank, size);
  expect_chunk_refused(plugin, 0, bad, size - 1);
  memset(bad + 20 + 24, 0xff, 4); /* a NaN value */
  expect_chunk_refused(plugin, 0, bad, size);
  expect_chunk_refused(plugin, 0, "garbage", 7);
  /* Nothing of it was applied. */
  float value = 0.0f;
  assert_int_equal(pb_plugin_param_get(plugin, 0, &value, NULL, 0), PB_OK);
  assert_true(value == 0.125f);
  free(bad);
  pb_free(bank);
  close_plugin(plugin);
}

static void
chunks_unsupported_without_the_flag(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_synth");
  void* data = NULL;
  size_t size = 0;
  assert_int_equal(pb_plugin_chunk_get(plugin, 0, &data, &size),
                   PB_ERR_UNSUPPORTED);
  assert_null(data);
  close_plugin(plugin);
}

/* ---------------------------------------------------- other queries */

static void
bypass_only_where_the_plugin_can(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_gain");
  assert_int_equal(pb_plugin_set_bypass(plugin, 1), PB_OK);
  assert_int_equal(pb_plugin_set_bypass(plugin, 0), PB_OK);
  close_plugin(plugin);
  plugin = open_plugin("pb_test_synth");
  assert_int_equal(pb_plugin_set_bypass(plugin, 1), PB_ERR_UNSUPPORTED);
  close_plugin(plugin);
}

static void
expect_can_do(pb_plugin_t* plugin, const char* what, int32_t answer)
{
  int32_t got = 99;
  assert_int_equal(pb_plugin_can_do(plugin, what, &got), PB_OK);
  assert_int_equal(got, answer);
}

static void
can_do_answers_yes_no_and_unknown(void** state)
{
  (void)state;
  pb_plugin_t* plugin = open_plugin("pb_test_gain");
  expect_can_do(plugin, "bypass", 1);
  expect_can_do(plugin, "receiveVstMidiEvent", -1);
  expect_can_do(plugin, "somethingNobodyAsks", 0);
  int32_t tail = -1;
  assert_int_equal(pb_plugin_tail_size(plugin, &tail), PB_OK);
  assert_int_equal(tail, 0);
  close_plugin(plugin);

  plugin = open_plugin("pb_test_synth");
  expect_can_do(plugin, "receiveVstMidiEvent", 1);
  expect_can_do(plugin, "sendVstMidiEvent", 1);
  close_plugin(plugin);

  plugin = open_plugin("pb_test_odd");
  expect_can_do(plugin, "bypass", 0);
  assert_int_equal(pb_plugin_tail_size(plugin, &tail), PB_OK);
  assert_int_equal(tail, 48000);
  close_plugin(plugin);
}

/* ---------------------------------------------------- load failures */

static void
expect_open_fails(const char* name,
                  const pb_open_opts_t* opts,
                  pb_status_t status,
                  const char* text)
{
  pb_plugin_t* plugin = (pb_plugin_t*)&plugin; /* must be reset to NULL */
  const pb_status_t got = pb_plugin_open(
    host, name[0] == '/' ? name : plugin_path(name), opts, &plugin);
  if (got != status)
    fail_msg("%s: %s, expected %s: %s",
             name,
             pb_status_name(got),
             pb_status_name(status),
             pb_host_last_error(host));
  assert_null(plugin);
  const char* error = pb_host_last_error(host);
  assert_non_null(error);
  assert_true(error[0] != '\0');
  if (text && !strstr(error, text))
    fail_msg("%s: \"%s\" does not mention \"%s\"", name, error, text);
}

static void
missing_entry_is_not_a_plugin(void** state)
{
  (void)state;
  expect_open_fails("pb_test_noentry", NULL, PB_ERR_NOT_PLUGIN, NULL);
}

static void
null_effect_is_not_a_plugin(void** state)
{
  (void)state;
  expect_open_fails("pb_test_nullentry", NULL, PB_ERR_NOT_PLUGIN, NULL);
}

static void
bad_magic_is_not_a_plugin(void** state)
{
  (void)state;
  expect_open_fails("pb_test_badmagic", NULL, PB_ERR_NOT_PLUGIN, NULL);
}

static void
missing_library_is_a_load_error_naming_it(void** state)
{
  (void)state;
  expect_open_fails(
    "pb_test_missingdep", NULL, PB_ERR_LOAD, "libpb_test_gone.so");
}

static void
crash_in_entry_is_reported(void** state)
{
  (void)state;
#if defined(PB_TEST_SANITIZED)
  /* A sanitized bridge reports the fault itself and exits. */
  expect_open_fails("pb_test_crash_load", NULL, PB_ERR_CRASHED, NULL);
#else
  expect_open_fails("pb_test_crash_load", NULL, PB_ERR_CRASHED, "SIGSEGV");
#endif
}

static int64_t
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
hang_in_entry_times_out(void** state)
{
  (void)state;
  pb_open_opts_t opts;
  pb_open_opts_init(&opts);
  opts.load_timeout_ms = 1000;
  const int64_t start = now_ms();
  expect_open_fails("pb_test_hang_load", &opts, PB_ERR_TIMEOUT, NULL);
  const int64_t took = now_ms() - start;
  assert_true(took >= 900);
  assert_true(took < 5000);
}

static void
missing_file_and_non_elf_are_named(void** state)
{
  (void)state;
  expect_open_fails(
    "/nonexistent/pb_test_none.so", NULL, PB_ERR_NOT_FOUND, "pb_test_none.so");
  char path[] = "/tmp/pb_test_plugins_XXXXXX";
  const int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "not a plugin\n", 13), 13);
  assert_int_equal(close(fd), 0);
  expect_open_fails(path, NULL, PB_ERR_NOT_ELF, NULL);
  assert_int_equal(unlink(path), 0);
}

static void
close_and_free_accept_null(void** state)
{
  (void)state;
  pb_plugin_close(NULL);
  pb_host_free(NULL);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
  const struct CMUnitTest tests[] = {
    TEST(gain_reports_known_info),
    TEST(synth_reports_known_info),
    TEST(odd_reports_long_strings_and_unprintable_id),
    TEST(gain_param_set_get_display_round_trip),
    TEST(param_calls_check_index_and_value),
    TEST(gain_parses_parameter_text),
    TEST(synth_refuses_parameter_text),
    TEST(gain_programs_select_and_rename),
    TEST(gain_bank_chunk_round_trips),
    TEST(gain_program_chunk_round_trips),
    TEST(gain_refuses_malformed_chunks),
    TEST(chunks_unsupported_without_the_flag),
    TEST(bypass_only_where_the_plugin_can),
    TEST(can_do_answers_yes_no_and_unknown),
    TEST(missing_entry_is_not_a_plugin),
    TEST(null_effect_is_not_a_plugin),
    TEST(bad_magic_is_not_a_plugin),
    TEST(missing_library_is_a_load_error_naming_it),
    TEST(crash_in_entry_is_reported),
    TEST(hang_in_entry_times_out),
    TEST(missing_file_and_non_elf_are_named),
    TEST(close_and_free_accept_null),
  };
  return cmocka_run_group_tests_name(
    "plugins", tests, group_setup, group_teardown);
}
