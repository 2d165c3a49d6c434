/* What the strict sandbox costs over `off`, as ratios measured in one run:
 *
 *   bench_sandbox [--runs N] [--blocks N] PLUGIN...
 *
 * For each plugin:
 *   load   median of N pb_plugin_open() + pb_plugin_close() (default 31)
 *          under off, basic and strict;
 *   block  median time of one pb_plugin_process() call of 512 frames over
 *          N blocks (default 2000) after 200 warm-up blocks, off and
 *          strict, each in its own bridge.
 * First the strict profile's layers one by one, each run in a fresh
 * forked child (the fork not timed), median per layer, and the seccomp
 * allow list loaded both ways: built by libseccomp at start, and the
 * program compiled at build time.  The bridge is found next to this
 * program or in $PLUGBOX_BRIDGE.  Prints figures; never fails on time. */
#define _GNU_SOURCE

#include "bridge/sandbox.h"
#include "common/clock.h"
#include "plugbox.h"

#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCK 512u
#define WARM_BLOCKS 200
#define MAX_CHANNELS 32

static char bridge_path[PATH_MAX];
static int n_runs = 31;
static int n_blocks = 2000;

static int
cmp_u64(const void* a, const void* b)
{
  const uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static uint64_t
median(uint64_t* ns, int n)
{
  qsort(ns, (size_t)n, sizeof(*ns), cmp_u64);
  return ns[n / 2];
}

static pb_open_opts_t
opts_for(int profile)
{
  pb_open_opts_t o;
  pb_open_opts_init(&o);
  o.bridge_path = bridge_path;
  o.max_block_frames = BLOCK;
  o.sandbox = profile;
  return o;
}

/* Median open + close in ns, or 0 if an open failed. */
static uint64_t
load_ns(pb_host_t* host, const char* path, int profile)
{
  const pb_open_opts_t o = opts_for(profile);
  uint64_t* ns = calloc((size_t)n_runs, sizeof(*ns));
  uint64_t result = 0;
  int i = 0;
  for (; ns && i < n_runs; ++i) {
    pb_plugin_t* p = NULL;
    const uint64_t t0 = pb_clock_now_ns();
    if (pb_plugin_open(host, path, &o, &p) != PB_OK)
      break;
    pb_plugin_close(p);
    ns[i] = pb_clock_now_ns() - t0;
  }
  if (ns && i == n_runs)
    result = median(ns, n_runs);
  free(ns);
  return result;
}

static void
fill(float in[][BLOCK], uint32_t n_in, uint32_t at)
{
  for (uint32_t c = 0; c < n_in; ++c)
    for (uint32_t i = 0; i < BLOCK; ++i)
      in[c][i] = 0.25f * (float)((at + i + c * 7u) % 97u) / 97.0f - 0.125f;
}

/* Median ns of one process call, or 0 if the plugin cannot run. */
static uint64_t
block_ns(pb_host_t* host, const char* path, int profile)
{
  static float in[MAX_CHANNELS][BLOCK];
  static float out[MAX_CHANNELS][BLOCK];
  float* ins[MAX_CHANNELS];
  float* outs[MAX_CHANNELS];
  const pb_open_opts_t o = opts_for(profile);
  pb_plugin_t* p = NULL;
  uint64_t result = 0;
  if (pb_plugin_open(host, path, &o, &p) != PB_OK)
    return 0;
  const pb_info_t* info = pb_plugin_info(p);
  uint64_t* ns = calloc((size_t)n_blocks, sizeof(*ns));
  if (!ns || info->n_inputs > MAX_CHANNELS || info->n_outputs > MAX_CHANNELS ||
      pb_plugin_set_active(p, 1) != PB_OK ||
      pb_plugin_set_processing(p, 1) != PB_OK)
    goto done;
  for (int c = 0; c < MAX_CHANNELS; ++c) {
    ins[c] = in[c];
    outs[c] = out[c];
  }
  pb_process_t b;
  memset(&b, 0, sizeof b);
  b.n_inputs = (uint32_t)info->n_inputs;
  b.n_outputs = (uint32_t)info->n_outputs;
  b.inputs = (const float* const*)ins;
  b.outputs = (float* const*)outs;
  b.n_frames = BLOCK;
  int i = -WARM_BLOCKS;
  for (; i < n_blocks; ++i) {
    fill(in, b.n_inputs, (uint32_t)(i + WARM_BLOCKS) * BLOCK);
    const uint64_t t0 = pb_clock_now_ns();
    if (pb_plugin_process(p, &b) != PB_OK)
      break;
    if (i >= 0)
      ns[i] = pb_clock_now_ns() - t0;
  }
  if (i == n_blocks)
    result = median(ns, n_blocks);
done:
  free(ns);
  pb_plugin_close(p);
  return result;
}

/* -------------------------------------------------------------- layers */

/* The strict profile's layers one by one, in pb_sandbox_apply()'s order,
 * each timed into t[]; `fd` stays open. */
enum
{
  N_LAYERS = 13
};
static const char* const layer_names[N_LAYERS] = {
  "fds",          "env",      "rlimit",  "uid",  "user+net+ipc ns",
  "pid ns",       "mount",    "nproc",   "caps", "pdeathsig",
  "no_new_privs", "landlock", "seccomp",
};

static void
strict_layers(int fd, uint64_t* t)
{
  pb_sandbox_config_t cfg;
  pb_sandbox_report_t r;
  memset(&cfg, 0, sizeof cfg);
  cfg.profile = PB_SANDBOX_STRICT;
  cfg.keep_fd_max = fd;
  cfg.parent = getppid();
  r.len = 0;
  uint64_t t0 = pb_clock_now_ns();
#define STEP(i, call)                                                          \
  do {                                                                         \
    (void)(call);                                                              \
    const uint64_t now_ = pb_clock_now_ns();                                   \
    t[i] = now_ - t0;                                                          \
    t0 = now_;                                                                 \
  } while (0)
  STEP(0, pb_sandbox_close_fds(&cfg, &r));
  STEP(1, pb_sandbox_clean_env(&cfg, &r));
  STEP(2, pb_sandbox_rlimits(&cfg, &r));
  STEP(3, pb_sandbox_drop_uid(&r));
  STEP(4, pb_sandbox_namespaces(&r));
  /* From here on in the worker, pid 2 (the clock is the machine's). */
  STEP(5, pb_sandbox_pid_namespace(&cfg, &r));
  STEP(6, pb_sandbox_mount_view(&cfg, &r));
  STEP(7, pb_sandbox_rlimit_nproc(&r));
  STEP(8, pb_sandbox_drop_caps(&r));
  STEP(9,
       pb_sandbox_parent_death(pb_sandbox_in_pid_namespace() ? 1 : cfg.parent,
                               &r));
  STEP(10, pb_sandbox_no_new_privs(&r));
  STEP(11, pb_sandbox_landlock(&cfg, &r));
  STEP(12, pb_sandbox_seccomp(&r));
#undef STEP
}

/* Medians over n_runs fresh children of the layer times. */
static int
layer_medians(uint64_t* med)
{
  uint64_t* ns = calloc((size_t)n_runs * N_LAYERS, sizeof(*ns));
  uint64_t* one = calloc((size_t)n_runs, sizeof(*one));
  int i = 0;
  for (; ns && one && i < n_runs; ++i) {
    int fds[2];
    uint64_t* t = ns + (size_t)i * N_LAYERS;
    if (pipe(fds) < 0)
      break;
    const pid_t pid = fork();
    if (pid == 0) {
      (void)close(fds[0]);
      strict_layers(fds[1], t);
      const ssize_t len = (ssize_t)(N_LAYERS * sizeof *t);
      _exit(write(fds[1], t, (size_t)len) == len ? 0 : 1);
    }
    (void)close(fds[1]);
    const ssize_t got = pid < 0 ? -1 : read(fds[0], t, N_LAYERS * sizeof *t);
    (void)close(fds[0]);
    if (pid > 0)
      (void)waitpid(pid, NULL, 0);
    if (got != (ssize_t)(N_LAYERS * sizeof *t))
      break;
  }
  const int ok = ns && one && i == n_runs;
  for (int l = 0; ok && l < N_LAYERS; ++l) {
    for (int k = 0; k < n_runs; ++k)
      one[k] = ns[(size_t)k * N_LAYERS + (size_t)l];
    med[l] = median(one, n_runs);
  }
  free(one);
  free(ns);
  return ok ? 0 : -1;
}

/* The allow list loaded the two ways: built by libseccomp now, or the
 * program compiled at build time.  In a child each; ns, or 0. */
static uint64_t
allow_once(int prebuilt)
{
  int fds[2];
  uint64_t ns = 0;
  if (pipe(fds) < 0)
    return 0;
  const pid_t pid = fork();
  if (pid == 0) {
    (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    void* ctx = NULL;
    const uint64_t t0 = pb_clock_now_ns();
    int err = 0;
    if (prebuilt) {
      err = pb_sandbox_seccomp_allow();
    } else {
      err = pb_sandbox_seccomp_allow_build(&ctx);
      if (!err)
        err = seccomp_load(ctx);
    }
    uint64_t t = err ? 0 : pb_clock_now_ns() - t0;
    _exit(write(fds[1], &t, sizeof t) == (ssize_t)sizeof t ? 0 : 1);
  }
  (void)close(fds[1]);
  if (pid < 0 || read(fds[0], &ns, sizeof ns) != (ssize_t)sizeof ns)
    ns = 0;
  (void)close(fds[0]);
  if (pid > 0)
    (void)waitpid(pid, NULL, 0);
  return ns;
}

static uint64_t
allow_median(int prebuilt)
{
  uint64_t ns[101];
  const int n = n_runs < 101 ? n_runs : 101;
  for (int i = 0; i < n; ++i)
    if ((ns[i] = allow_once(prebuilt)) == 0)
      return 0;
  return median(ns, n);
}

/* ---------------------------------------------------------------- main */

static int
find_bridge(void)
{
  const char* env = getenv("PLUGBOX_BRIDGE");
  if (env) {
    (void)snprintf(bridge_path, sizeof bridge_path, "%s", env);
    return access(bridge_path, X_OK);
  }
  const ssize_t n =
    readlink("/proc/self/exe", bridge_path, sizeof(bridge_path) - 32);
  if (n <= 0)
    return -1;
  bridge_path[n] = '\0';
  char* slash = strrchr(bridge_path, '/');
  (void)snprintf(slash + 1,
                 sizeof(bridge_path) - (size_t)(slash + 1 - bridge_path),
                 "plugbox-bridge");
  return access(bridge_path, X_OK);
}

static double
ms(uint64_t ns)
{
  return (double)ns / 1e6;
}

static double
ratio(uint64_t a, uint64_t b)
{
  return b ? (double)a / (double)b : 0.0;
}

static void
bench_plugin(pb_host_t* host, const char* path)
{
  const uint64_t off = load_ns(host, path, PB_SANDBOX_OFF);
  const uint64_t basic = load_ns(host, path, PB_SANDBOX_BASIC);
  const uint64_t strict = load_ns(host, path, PB_SANDBOX_STRICT);
  printf("%s\n  load  off %.2f ms, basic %.2f ms, strict %.2f ms: "
         "strict/off %.2f (+%.2f ms)\n",
         path,
         ms(off),
         ms(basic),
         ms(strict),
         ratio(strict, off),
         ms(strict) - ms(off));
  const uint64_t b_off = block_ns(host, path, PB_SANDBOX_OFF);
  const uint64_t b_strict = block_ns(host, path, PB_SANDBOX_STRICT);
  printf("  block off %.1f us, strict %.1f us: strict/off %.2f\n",
         (double)b_off / 1e3,
         (double)b_strict / 1e3,
         ratio(b_strict, b_off));
}

int
main(int argc, char** argv)
{
  int first = 1;
  for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
    if (!strcmp(argv[first], "--runs"))
      n_runs = atoi(argv[first + 1]);
    else if (!strcmp(argv[first], "--blocks"))
      n_blocks = atoi(argv[first + 1]);
    else
      break;
  }
  if (first >= argc || n_runs < 1 || n_blocks < 1) {
    fprintf(stderr, "usage: bench_sandbox [--runs N] [--blocks N] PLUGIN...\n");
    return 2;
  }
  if (find_bridge() != 0) {
    fprintf(stderr, "bench_sandbox: no plugbox-bridge at %s\n", bridge_path);
    return 1;
  }
  pb_host_t* host = NULL;
  printf("bench_sandbox: %d loads, %d blocks of %u frames\n",
         n_runs,
         n_blocks,
         BLOCK);
  /* Children first, before the host starts its thread. */
  uint64_t med[N_LAYERS];
  if (layer_medians(med) == 0) {
    uint64_t sum = 0;
    printf("strict layers in a fresh process, median ms:");
    for (int l = 0; l < N_LAYERS; ++l) {
      printf(" %s %.3f", layer_names[l], ms(med[l]));
      sum += med[l];
    }
    printf("; sum %.3f\n", ms(sum));
  }
  const uint64_t built = allow_median(0);
  const uint64_t prebuilt = allow_median(1);
  printf("allow list: built by libseccomp at start %.3f ms, compiled at "
         "build time %.3f ms\n",
         ms(built),
         ms(prebuilt));
  if (pb_host_new(&host) != PB_OK)
    return 1;
  for (int i = first; i < argc; ++i)
    bench_plugin(host, argv[i]);
  pb_host_free(host);
  return 0;
}
