/* Tests of the reference loader (ref_vst2.c) on the test plugins, whose
 * answers are known, and a census of the real plugins installed. */
#define _POSIX_C_SOURCE 200809L

#include "expect_info.h"
#include "ref_list.h"
#include "ref_vst2.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

static const char* const real_dirs[] = { "/usr/lib/vst",
                                         "/usr/lib/lxvst",
                                         NULL };

static char*
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

static int fds_before;

static int
setup(void** state)
{
  (void)state;
  fds_before = count_fds();
  return 0;
}

/* Every test ends with no fd and no child process left. */
static int
teardown(void** state)
{
  (void)state;
  assert_int_equal(count_fds(), fds_before);
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
  return 0;
}

typedef void (*expect_fn)(const pb_info_t* info);

static void
expect_described(const pb_ref_info_t* ref, expect_fn expect)
{
  assert_int_equal(ref->status, PB_REF_OK);
  pb_info_t view;
  assert_int_equal(pb_ref_view_init(ref, &view), 0);
  expect(&view);
  pb_ref_view_fini(&view);
}

static void
expect_in_process_and_child(const char* name, expect_fn expect)
{
  pb_ref_info_t here;
  pb_ref_info_t there;
  pb_ref_describe(plugin_path(name), &here);
  expect_described(&here, expect);
  pb_ref_describe_in_child(plugin_path(name), &there);
  expect_described(&there, expect);
  /* The child's description crossed the pipe whole. */
  pb_info_t view;
  char diff[1024];
  assert_int_equal(pb_ref_view_init(&there, &view), 0);
  const int n = pb_ref_compare(&here, &view, diff, sizeof(diff));
  if (n != 0)
    fail_msg("%s: %s", name, diff);
  pb_ref_view_fini(&view);
  pb_ref_info_fini(&here);
  pb_ref_info_fini(&there);
}

static void
gain_describes_as_known(void** state)
{
  (void)state;
  expect_in_process_and_child("pb_test_gain", pb_expect_gain);
}

static void
synth_describes_as_known(void** state)
{
  (void)state;
  expect_in_process_and_child("pb_test_synth", pb_expect_synth);
}

static void
odd_describes_as_known(void** state)
{
  (void)state;
  expect_in_process_and_child("pb_test_odd", pb_expect_odd);
}

static void
compare_finds_each_difference(void** state)
{
  (void)state;
  pb_ref_info_t ref;
  assert_int_equal(pb_ref_describe(plugin_path("pb_test_gain"), &ref),
                   PB_REF_OK);
  pb_info_t view;
  assert_int_equal(pb_ref_view_init(&ref, &view), 0);
  char diff[512];
  assert_int_equal(pb_ref_compare(&ref, &view, diff, sizeof(diff)), 0);
  assert_string_equal(diff, "");

  view.name = "plugbox test gai";
  pb_param_info_t* params = (pb_param_info_t*)(uintptr_t)view.params;
  params[1].value = -0.0f; /* equal as floats, not as bits */
  params[2].short_label = "Phas";
  ((const char**)(uintptr_t)view.program_names)[3] = NULL;
  assert_int_equal(pb_ref_compare(&ref, &view, diff, sizeof(diff)), 4);
  assert_non_null(strstr(diff, "name: ref \"plugbox test gain\""));
  assert_non_null(strstr(diff, "param[1].value"));
  assert_non_null(strstr(diff, "param[2].short_label"));
  assert_non_null(strstr(diff,
                         "program_names[3]: ref \"Inverted\" != "
                         "bridged NULL"));
  /* A small buffer is cut, not overrun. */
  char small[16];
  assert_int_equal(pb_ref_compare(&ref, &view, small, sizeof(small)), 4);
  assert_int_equal(strlen(small), sizeof(small) - 1);
  pb_ref_view_fini(&view);
  pb_ref_info_fini(&ref);
}

static void
expect_failure(const char* name, pb_ref_status_t status, const char* text)
{
  pb_ref_info_t here;
  pb_ref_info_t there;
  assert_int_equal(pb_ref_describe(plugin_path(name), &here), status);
  assert_int_equal(pb_ref_describe_in_child(plugin_path(name), &there), status);
  assert_non_null(strstr(here.message, text));
  assert_string_equal(there.message, here.message);
  pb_ref_info_fini(&here);
  pb_ref_info_fini(&there);
}

static void
noentry_has_no_entry(void** state)
{
  (void)state;
  expect_failure("pb_test_noentry", PB_REF_ERR_NO_ENTRY, "no VSTPluginMain");
}

static void
nullentry_gives_no_effect(void** state)
{
  (void)state;
  expect_failure("pb_test_nullentry", PB_REF_ERR_NULL_EFFECT, "NULL");
}

static void
badmagic_is_refused(void** state)
{
  (void)state;
  expect_failure("pb_test_badmagic", PB_REF_ERR_BAD_MAGIC, "0x50747356");
}

static void
missingdep_names_the_missing_library(void** state)
{
  (void)state;
  expect_failure("pb_test_missingdep",
                 PB_REF_ERR_LOAD,
                 "libpb_test_gone.so: cannot open shared object file");
}

static void
crash_in_entry_is_a_crash(void** state)
{
  (void)state;
  pb_ref_info_t info;
  assert_int_equal(
    pb_ref_describe_in_child(plugin_path("pb_test_crash_load"), &info),
    PB_REF_ERR_CRASHED);
  assert_non_null(strstr(info.message, "signal 11"));
  pb_ref_info_fini(&info);
}

static void
hang_in_entry_times_out(void** state)
{
  (void)state;
  pb_ref_info_t info;
  assert_int_equal(pb_ref_describe_in_child_timeout(
                     plugin_path("pb_test_hang_load"), 500, &info),
                   PB_REF_ERR_TIMEOUT);
  assert_non_null(strstr(info.message, "500 ms"));
  pb_ref_info_fini(&info);
}

static void
missing_file_is_a_load_error(void** state)
{
  (void)state;
  pb_ref_info_t info;
  assert_int_equal(pb_ref_describe_in_child("/nonexistent/x.so", &info),
                   PB_REF_ERR_LOAD);
  assert_non_null(strstr(info.message, "No such file"));
  pb_ref_info_fini(&info);
}

/* Every installed plugin loads in a child, but the LSP shared library,
 * which has no entry point. */
static void
real_plugins_describe(void** state)
{
  (void)state;
  pb_ref_list_t list;
  assert_int_equal(pb_ref_list_init(&list, real_dirs), 0);
  if (list.n_dirs_found == 0) {
    pb_ref_list_fini(&list);
    skip();
  }
  size_t loaded = 0;
  size_t no_entry = 0;
  for (size_t i = 0; i < list.n_paths; ++i) {
    pb_ref_info_t info;
    const pb_ref_status_t status =
      pb_ref_describe_in_child(list.paths[i], &info);
    if (status == PB_REF_OK) {
      ++loaded;
    } else if (status == PB_REF_ERR_NO_ENTRY &&
               pb_ref_list_name_starts(list.paths[i], "lsp-plugins-vst2-")) {
      ++no_entry;
    } else {
      print_error("%s: %s: %s\n",
                  list.paths[i],
                  pb_ref_status_name(status),
                  info.message);
    }
    pb_ref_info_fini(&info);
  }
  print_message("reference: %zu files, %zu loaded, %zu without entry\n",
                list.n_paths,
                loaded,
                no_entry);
  assert_int_equal(loaded + no_entry, list.n_paths);
  pb_ref_list_fini(&list);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(gain_describes_as_known, setup, teardown),
    cmocka_unit_test_setup_teardown(synth_describes_as_known, setup, teardown),
    cmocka_unit_test_setup_teardown(odd_describes_as_known, setup, teardown),
    cmocka_unit_test_setup_teardown(
      compare_finds_each_difference, setup, teardown),
    cmocka_unit_test_setup_teardown(noentry_has_no_entry, setup, teardown),
    cmocka_unit_test_setup_teardown(nullentry_gives_no_effect, setup, teardown),
    cmocka_unit_test_setup_teardown(badmagic_is_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(
      missingdep_names_the_missing_library, setup, teardown),
    cmocka_unit_test_setup_teardown(crash_in_entry_is_a_crash, setup, teardown),
    cmocka_unit_test_setup_teardown(hang_in_entry_times_out, setup, teardown),
    cmocka_unit_test_setup_teardown(
      missing_file_is_a_load_error, setup, teardown),
    cmocka_unit_test_setup_teardown(real_plugins_describe, setup, teardown),
  };
  return cmocka_run_group_tests_name("ref_vst2", tests, NULL, NULL);
}
