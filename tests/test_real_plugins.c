/* Every real plugin installed under /usr/lib/vst and /usr/lib/lxvst, opened
 * through libplugbox in a bridge and described by the reference loader in a
 * child of this process: the two descriptions must be equal.  The LSP
 * shared library (lsp-plugins-vst2-<version>.so, a library the LSP plugins
 * load, with no entry point) must be "not a plugin" to both. */
#define _POSIX_C_SOURCE 200809L

#include "plugbox.h"
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

typedef struct
{
  pb_ref_list_t list;
  pb_ref_info_t* refs; /* one per list entry */
} fixture_t;

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

/* The references are taken first, before the library starts its thread:
 * forking a process that has threads is best avoided. */
static int
setup(void** state)
{
  fixture_t* f = calloc(1, sizeof(*f));
  if (!f || pb_ref_list_init(&f->list, real_dirs) != 0)
    return -1;
  f->refs = calloc(f->list.n_paths + 1, sizeof(pb_ref_info_t));
  if (!f->refs)
    return -1;
  for (size_t i = 0; i < f->list.n_paths; ++i)
    pb_ref_describe_in_child(f->list.paths[i], &f->refs[i]);
  *state = f;
  return 0;
}

static int
teardown(void** state)
{
  fixture_t* f = *state;
  for (size_t i = 0; f && i < f->list.n_paths; ++i)
    pb_ref_info_fini(&f->refs[i]);
  if (f) {
    free(f->refs);
    pb_ref_list_fini(&f->list);
  }
  free(f);
  return 0;
}

static int
is_lsp_library(const char* path)
{
  return pb_ref_list_name_starts(path, "lsp-plugins-vst2-");
}

/* 1 if the library and the reference agree on `path`. */
static int
check_one(pb_host_t* host,
          const char* path,
          const pb_ref_info_t* ref,
          size_t* not_plugins)
{
  pb_plugin_t* plugin = NULL;
  const pb_status_t status = pb_plugin_open(host, path, NULL, &plugin);
  if (is_lsp_library(path)) {
    pb_plugin_close(plugin);
    if (status == PB_ERR_NOT_PLUGIN && ref->status == PB_REF_ERR_NO_ENTRY) {
      ++*not_plugins;
      return 1;
    }
    print_error("%s: library %s, reference %s; both should say no entry\n",
                path,
                pb_status_name(status),
                pb_ref_status_name(ref->status));
    return 0;
  }
  if (status != PB_OK) {
    print_error("%s: open: %s: %s (reference: %s)\n",
                path,
                pb_status_name(status),
                pb_host_last_error(host),
                pb_ref_status_name(ref->status));
    return 0;
  }
  char diff[2048];
  const int n = pb_ref_compare(ref, pb_plugin_info(plugin), diff, sizeof(diff));
  if (n != 0)
    print_error("%s: %d differences: %s\n", path, n, diff);
  pb_plugin_close(plugin);
  return n == 0;
}

static void
every_real_plugin_matches_the_reference(void** state)
{
  fixture_t* f = *state;
  if (f->list.n_dirs_found == 0)
    skip();
  pb_host_t* host = NULL;
  assert_int_equal(pb_host_new(&host), PB_OK);
  size_t match = 0;
  size_t not_plugins = 0;
  int fds_before = 0;
  for (size_t i = 0; i < f->list.n_paths; ++i) {
    if (check_one(host, f->list.paths[i], &f->refs[i], &not_plugins) &&
        !is_lsp_library(f->list.paths[i]))
      ++match;
    /* Counted once the first bridge has come and gone: the library may
     * set up process-wide things (a signal pipe) on its first use. */
    if (i == 0)
      fds_before = count_fds();
  }
  print_message("real plugins: %zu files, %zu match, %zu not plugins\n",
                f->list.n_paths,
                match,
                not_plugins);
  assert_int_equal(count_fds(), fds_before);
  pb_host_free(host);
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
  assert_int_equal(match + not_plugins, f->list.n_paths);
  assert_true(not_plugins >= 1);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(
      every_real_plugin_matches_the_reference, setup, teardown),
  };
  return cmocka_run_group_tests_name("real_plugins", tests, NULL, NULL);
}
