/* 32-bit plugins from this 64-bit host, through plugbox-bridge-32: the
 * shared block has one layout on both architectures; the i386 builds of
 * the test plugins describe and process as their x86_64 builds and as the
 * i386 reference (pb_ref32) say; the real i386 plugins that
 * scripts/fetch-i386.sh unpacked agree with pb_ref32 on their description
 * and, where pb_ref32's output is reproducible, bit for bit on audio.
 * Without the i386 libraries (PB_BRIDGE32=0) every case skips, saying so. */
#define _XOPEN_SOURCE 700 /* realpath */

#include "expect_info.h"
#include "bridged_signal.h"
#include "plugbox.h"
#include "ref_list.h"
#include "ref_process.h"
#include "ref_vst2.h"

#include <errno.h>
#include <limits.h>
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
#define HELPER_TIMEOUT_MS 30000u

typedef struct
{
  char bin[1024];    /* PB_BIN_DIR */
  char dir32[1024];  /* PB_TEST_PLUGIN_DIR_32 */
  char root[1024];   /* PB_I386_ROOT: the unpacked i386 packages */
  char helper[1100]; /* bin/pb_ref32 */
  char signal[1100]; /* the test signal for pb_ref32 */
} fixture_t;

static const char*
env_or(const char* name, const char* fallback)
{
  const char* v = getenv(name);
  return v && v[0] ? v : fallback;
}

static int
have_bridge32(void)
{
  if (strcmp(env_or("PB_BRIDGE32", "0"), "1") == 0)
    return 1;
  print_message("i386 libraries absent (see scripts/install-deps.sh): "
                "plugbox-bridge-32 was not built, 32-bit case skipped\n");
  return 0;
}

/* The real i386 plugins need runtime libraries that were unpacked, not
 * installed; the bridge and pb_ref32 inherit this environment.  Set before
 * any thread exists. */
static int
setup(void** state)
{
  fixture_t* f = calloc(1, sizeof(*f));
  if (!f)
    return -1;
  snprintf(f->bin, sizeof(f->bin), "%s", env_or("PB_BIN_DIR", "bin"));
  snprintf(
    f->dir32, sizeof(f->dir32), "%s", env_or("PB_TEST_PLUGIN_DIR_32", ""));
  snprintf(f->root, sizeof(f->root), "%s", env_or("PB_I386_ROOT", ""));
  snprintf(f->helper, sizeof(f->helper), "%s/pb_ref32", f->bin);
  char libs[4200];
  snprintf(libs,
           sizeof(libs),
           "%s/usr/lib/i386-linux-gnu:%s/lib/i386-linux-gnu",
           f->root,
           f->root);
  if (setenv("LD_LIBRARY_PATH", libs, 1) != 0)
    return -1;
  /* pb_ref32 reads the signal this process feeds the bridge. */
  snprintf(f->signal, sizeof(f->signal), "%s/pb_ref32_signal.f64", f->bin);
  if (pb_ref_signal_save(f->signal, N_FRAMES, RATE) != 0 ||
      setenv("PB_REF_SIGNAL", f->signal, 1) != 0)
    return -1;
  pb_expect_arch = "i386";
  *state = f;
  return 0;
}

static int
teardown(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  (void)remove(f->signal);
  free(f);
  return 0;
}

/* All of what `cmd` prints, malloc'd. */
static char*
run_capture(const char* cmd)
{
  FILE* p = popen(cmd, "r");
  assert_non_null(p);
  size_t cap = 65536, len = 0;
  char* text = malloc(cap);
  assert_non_null(text);
  size_t n;
  while ((n = fread(text + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (cap - len < 2) {
      cap *= 2;
      text = realloc(text, cap);
      assert_non_null(text);
    }
  }
  text[len] = '\0';
  assert_int_equal(pclose(p), 0);
  return text;
}

static void
shm_layout_is_identical_on_both_architectures(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  if (!have_bridge32())
    skip();
  char cmd[1200];
  snprintf(cmd, sizeof(cmd), "'%s/pb_shm_layout_dump'", f->bin);
  char* x86_64 = run_capture(cmd);
  snprintf(cmd, sizeof(cmd), "'%s/pb_shm_layout_dump-32'", f->bin);
  char* i386 = run_capture(cmd);
  assert_non_null(strstr(x86_64, "pb_shm_header.request_seq 32 4\n"));
  assert_non_null(strstr(x86_64, "sizeof pb_shm_block "));
  assert_true(strlen(x86_64) > 1000);
  assert_string_equal(i386, x86_64);
  free(x86_64);
  free(i386);
}

static pb_status_t
open_plugin(pb_host_t* host, const char* path, int sandbox, pb_plugin_t** p)
{
  pb_open_opts_t opts;
  pb_open_opts_init(&opts);
  opts.max_block_frames = MAX_BLOCK;
  opts.sample_rate = RATE;
  if (sandbox >= 0)
    opts.sandbox = sandbox;
  return pb_plugin_open(host, path, &opts, p);
}

/* The i386 test plugin `name` through the 64-bit library: the known
 * answers of tests/expect_info.c, and the i386 reference's description. */
static void
check_test_plugin(fixture_t* f,
                  pb_host_t* host,
                  const char* name,
                  void (*expect)(const pb_info_t*))
{
  char path[1200];
  snprintf(path, sizeof(path), "%s/%s", f->dir32, name);
  pb_ref_info_t ref;
  assert_int_equal(
    pb_ref_describe_exec(f->helper, path, HELPER_TIMEOUT_MS, &ref), PB_REF_OK);
  assert_string_equal(ref.arch, "i386");
  pb_plugin_t* p = NULL;
  if (open_plugin(host, path, -1, &p) != PB_OK)
    fail_msg("%s: %s", path, pb_host_last_error(host));
  const pb_info_t* info = pb_plugin_info(p);
  assert_string_equal(info->arch, "i386");
  expect(info);
  char diff[1024];
  if (pb_ref_compare(&ref, info, diff, sizeof(diff)) != 0)
    fail_msg("%s: bridged differs from pb_ref32: %s", path, diff);
  pb_plugin_close(p);
  pb_ref_info_fini(&ref);
}

static void
i386_test_plugins_describe_as_on_x86_64(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  if (!have_bridge32())
    skip();
  pb_host_t* host = NULL;
  assert_int_equal(pb_host_new(&host), PB_OK);
  check_test_plugin(f, host, "pb_test_gain.so", pb_expect_gain);
  check_test_plugin(f, host, "pb_test_synth.so", pb_expect_synth);
  check_test_plugin(f, host, "pb_test_odd.so", pb_expect_odd);
  pb_host_free(host);
}

/* Open, process the signal (`how`: see pb_test_hash_bridged()), close:
 * the hash, or 0 on any failure (said). */
static uint64_t
process_bridged(pb_host_t* host,
                const char* path,
                int sandbox,
                const pb_ref_result_t* ref,
                uint32_t block,
                int how)
{
  pb_plugin_t* p = NULL;
  if (open_plugin(host, path, sandbox, &p) != PB_OK) {
    print_message("%s: open failed: %s\n", path, pb_host_last_error(host));
    return 0;
  }
  const uint64_t hash =
    pb_test_hash_opened(p, ref->n_in, ref->n_out, block, N_FRAMES, RATE, how);
  pb_plugin_close(p);
  return hash;
}

static pb_ref_job_t
job_for(const char* path, uint32_t block)
{
  const pb_ref_job_t job = { path, RATE, MAX_BLOCK, block, N_FRAMES, 0 };
  return job;
}

static void
i386_test_plugins_process_as_the_i386_reference(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  if (!have_bridge32())
    skip();
  static const char* const names[] = { "pb_test_gain.so",
                                       "pb_test_delay.so",
                                       "pb_test_synth.so" };
  pb_host_t* host = NULL;
  assert_int_equal(pb_host_new(&host), PB_OK);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", f->dir32, names[i]);
    pb_ref_result_t ref;
    const pb_ref_job_t job = job_for(path, 333);
    if (!pb_ref_process_exec(f->helper, &job, HELPER_TIMEOUT_MS, &ref))
      fail_msg("%s: pb_ref32: %s", path, ref.message);
    /* Strict: seccomp and Landlock as an i386 process sees them. */
    const int sandbox = i == 0 ? PB_SANDBOX_STRICT : -1;
    assert_true(process_bridged(
                  host, path, sandbox, &ref, 333, PB_TEST_CALLS) == ref.hash);
    /* With a pause before each block, the i386 bridge's standby thread
     * takes the blocks that find it on the caller's CPU: the same output
     * (tests/test_audio_real.c counts them, on x86_64). */
    assert_true(process_bridged(host, path, -1, &ref, 333, PB_TEST_PAUSED) ==
                ref.hash);
    /* Queued ahead: the i386 bridge reads the same two slots. */
    assert_true(process_bridged(
                  host, path, sandbox, &ref, 333, PB_TEST_QUEUED) == ref.hash);
  }
  pb_host_free(host);
}

static void
i386_crash_while_loading_is_reported(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  if (!have_bridge32())
    skip();
  pb_host_t* host = NULL;
  assert_int_equal(pb_host_new(&host), PB_OK);
  char path[1200];
  snprintf(path, sizeof(path), "%s/pb_test_crash_load.so", f->dir32);
  pb_plugin_t* p = NULL;
  const pb_status_t st = open_plugin(host, path, -1, &p);
  assert_null(p);
  assert_int_equal(st, PB_ERR_CRASHED);
  snprintf(path, sizeof(path), "%s/pb_test_noentry.so", f->dir32);
  assert_int_equal(open_plugin(host, path, -1, &p), PB_ERR_NOT_PLUGIN);
  pb_host_free(host);
}

/* --------------------------------------------------- real i386 plugins */

typedef struct
{
  unsigned files, info_match, compared, identical, nondet;
} counts_t;

/* The reference runs a second time only when the bridged output differs:
 * a plugin whose own output changes from run to run is skipped, not
 * failed. */
static void
check_real_audio(fixture_t* f, pb_host_t* host, const char* path, counts_t* n)
{
  const pb_ref_job_t job = job_for(path, MAX_BLOCK);
  pb_ref_result_t ref, again;
  if (!pb_ref_process_exec(f->helper, &job, HELPER_TIMEOUT_MS, &ref))
    return; /* no process function, too many pins... */
  if (process_bridged(host, path, -1, &ref, MAX_BLOCK, PB_TEST_CALLS) ==
      ref.hash) {
    ++n->compared;
    ++n->identical;
    return;
  }
  if (!pb_ref_process_exec(f->helper, &job, HELPER_TIMEOUT_MS, &again) ||
      again.hash != ref.hash) {
    ++n->nondet;
    return;
  }
  ++n->compared;
  print_message("i386 audio: %s: bridged output differs\n", path);
}

static void
check_real(fixture_t* f, pb_host_t* host, const char* file, counts_t* n)
{
  ++n->files;
  char path[PATH_MAX];
  if (!realpath(file, path))
    fail_msg("%s: %s", file, strerror(errno));
  pb_ref_info_t ref;
  const pb_ref_status_t rs =
    pb_ref_describe_exec(f->helper, path, HELPER_TIMEOUT_MS, &ref);
  pb_plugin_t* p = NULL;
  const pb_status_t st = open_plugin(host, path, -1, &p);
  if (rs != PB_REF_OK) {
    /* Not a plugin to the reference (the LSP core library): not one
     * bridged either. */
    if (st == PB_OK)
      print_message("i386: %s: pb_ref32 says %s, the bridge opened it\n",
                    path,
                    ref.message);
    else
      ++n->info_match;
  } else if (st != PB_OK) {
    print_message(
      "i386: %s: open failed: %s\n", path, pb_host_last_error(host));
  } else {
    char diff[1024];
    if (pb_ref_compare(&ref, pb_plugin_info(p), diff, sizeof(diff)) == 0)
      ++n->info_match;
    else
      print_message("i386: %s: description differs: %s\n", path, diff);
  }
  pb_plugin_close(p);
  if (rs == PB_REF_OK && st == PB_OK)
    check_real_audio(f, host, path, n);
  pb_ref_info_fini(&ref);
}

static void
real_i386_plugins_match_the_i386_reference(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  if (!have_bridge32())
    skip();
  char vst[1100];
  snprintf(vst, sizeof(vst), "%s/usr/lib/vst", f->root);
  const char* const dirs[] = { vst, NULL };
  pb_ref_list_t list;
  assert_int_equal(pb_ref_list_init(&list, dirs), 0);
  if (list.n_paths == 0) {
    print_message("i386 real plugins: none under %s "
                  "(scripts/fetch-i386.sh unpacks them)\n",
                  vst);
    pb_ref_list_fini(&list);
    skip();
  }
  pb_host_t* host = NULL;
  assert_int_equal(pb_host_new(&host), PB_OK);
  counts_t n = { 0 };
  for (size_t i = 0; i < list.n_paths; ++i)
    check_real(f, host, list.paths[i], &n);
  pb_host_free(host);
  pb_ref_list_fini(&list);
  print_message("i386 real plugins: %u files, %u info match, %u audio "
                "bit-identical (of %u compared; %u nondeterministic "
                "skipped)\n",
                n.files,
                n.info_match,
                n.identical,
                n.compared,
                n.nondet);
  assert_true(n.files > 0);
  assert_int_equal(n.info_match, n.files);
  assert_true(n.compared > 0);
  assert_int_equal(n.identical, n.compared);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(shm_layout_is_identical_on_both_architectures),
    cmocka_unit_test(i386_test_plugins_describe_as_on_x86_64),
    cmocka_unit_test(i386_test_plugins_process_as_the_i386_reference),
    cmocka_unit_test(i386_crash_while_loading_is_reported),
    cmocka_unit_test(real_i386_plugins_match_the_i386_reference),
  };
  return cmocka_run_group_tests_name("bridge32", tests, setup, teardown);
}
