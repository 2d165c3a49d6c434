/* Per-block processing cost: a plugin bridged by plugbox (shared block and
 * futex doorbells) against the same plugin run in this process.  Prints
 * median, p99 and p99.9 per call and their ratios; never fails on time.
 *
 *   bench_process [--calls N] PLUGIN
 *
 * Stereo blocks of 64, 512 and 4096 frames at 48 kHz, each measured
 * back-to-back (the next call as soon as the last returns) and paced (one
 * call per block period, so the bridge's audio thread is asleep on its
 * futex when the call comes, as in a real host). */
#define _GNU_SOURCE

#include "common/clock.h"
#include "common/vst2_abi.h"
#include "plugbox.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 48000.0
#define MAX_FRAMES 4096u

static const uint32_t sizes[] = { 64, 512, 4096 };

typedef struct
{
  pb_vst_effect_t* fx; /* in process, or NULL */
  pb_plugin_t* plugin; /* bridged, or NULL */
  float* in[2];
  float* out[2];
} subject_t;

static intptr_t
host_cb(pb_vst_effect_t* e,
        int32_t op,
        int32_t index,
        intptr_t value,
        void* ptr,
        float opt)
{
  (void)e, (void)index, (void)value, (void)ptr, (void)opt;
  switch (op) {
    case PB_VST_HOST_VERSION:
      return 2400;
    case PB_VST_HOST_GET_SAMPLE_RATE:
      return (intptr_t)RATE;
    case PB_VST_HOST_GET_BLOCK_SIZE:
      return MAX_FRAMES;
    default:
      return 0;
  }
}

static pb_vst_effect_t*
load_in_process(const char* path)
{
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  void* sym = lib ? dlsym(lib, "VSTPluginMain") : NULL;
  if (!sym && lib)
    sym = dlsym(lib, "main");
  if (!sym)
    return NULL;
  pb_vst_entry_fn_t entry = NULL;
  memcpy(&entry, &sym, sizeof(entry));
  pb_vst_effect_t* fx = entry(host_cb);
  if (!fx || fx->magic != PB_VST_MAGIC || !fx->process_replacing)
    return NULL;
  fx->dispatcher(fx, PB_VST_EFF_OPEN, 0, 0, NULL, 0.0f);
  fx->dispatcher(fx, PB_VST_EFF_SET_SAMPLE_RATE, 0, 0, NULL, (float)RATE);
  fx->dispatcher(fx, PB_VST_EFF_SET_BLOCK_SIZE, 0, MAX_FRAMES, NULL, 0.0f);
  fx->dispatcher(fx, PB_VST_EFF_MAINS_CHANGED, 0, 1, NULL, 0.0f);
  fx->dispatcher(fx, PB_VST_EFF_START_PROCESS, 0, 0, NULL, 0.0f);
  return fx;
}

static int
call(subject_t* s, uint32_t frames)
{
  if (s->fx) {
    s->fx->process_replacing(s->fx, s->in, s->out, (int32_t)frames);
    return 0;
  }
  pb_process_t b;
  memset(&b, 0, sizeof(b));
  b.n_frames = frames;
  b.n_inputs = b.n_outputs = 2;
  b.inputs = (const float* const*)s->in;
  b.outputs = (float* const*)s->out;
  return pb_plugin_process(s->plugin, &b) == PB_OK ? 0 : -1;
}

static int
cmp_u64(const void* a, const void* b)
{
  const uint64_t x = *(const uint64_t*)a;
  const uint64_t y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

typedef struct
{
  double median_us, p99_us, p999_us;
} stats_t;

static stats_t
stats_of(uint64_t* ns, size_t n)
{
  qsort(ns, n, sizeof(ns[0]), cmp_u64);
  const stats_t s = { (double)ns[n / 2] / 1e3,
                      (double)ns[(n * 99) / 100] / 1e3,
                      (double)ns[(n * 999) / 1000] / 1e3 };
  return s;
}

static void
sleep_until(uint64_t ns)
{
  const struct timespec ts = { (time_t)(ns / 1000000000u),
                               (long)(ns % 1000000000u) };
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
}

/* Time `n` calls; `paced` waits one block period between starts. */
static int
measure(subject_t* s, uint32_t frames, size_t n, int paced, stats_t* out)
{
  uint64_t* ns = calloc(n, sizeof(uint64_t));
  if (!ns)
    return -1;
  const uint64_t period = (uint64_t)((double)frames / RATE * 1e9);
  uint64_t next = pb_clock_now_ns();
  for (size_t i = 0; i < n; ++i) {
    if (paced) {
      next += period;
      sleep_until(next);
    }
    const uint64_t t0 = pb_clock_now_ns();
    if (call(s, frames)) {
      free(ns);
      return -1;
    }
    ns[i] = pb_clock_now_ns() - t0;
  }
  *out = stats_of(ns, n);
  free(ns);
  return 0;
}

static void
report(uint32_t frames, const char* mode, stats_t a, stats_t b)
{
  printf("%5u  %-12s  %8.2f %8.2f %8.2f   %8.2f %8.2f %8.2f   x%6.2f "
         "x%6.2f x%6.2f\n",
         (unsigned)frames,
         mode,
         a.median_us,
         a.p99_us,
         a.p999_us,
         b.median_us,
         b.p99_us,
         b.p999_us,
         b.median_us / a.median_us,
         b.p99_us / a.p99_us,
         b.p999_us / a.p999_us);
}

static int
run_size(subject_t* local, subject_t* bridged, uint32_t frames, size_t calls)
{
  static const char* const modes[] = { "back-to-back", "paced" };
  for (int paced = 0; paced < 2; ++paced) {
    /* Paced runs last calls × period: fewer calls for long blocks. */
    const size_t n = paced ? (frames >= 4096 ? calls / 20 : calls / 5) : calls;
    stats_t a, b;
    if (measure(local, frames, n, paced, &a) ||
        measure(bridged, frames, n, paced, &b))
      return -1;
    report(frames, modes[paced], a, b);
  }
  return 0;
}

static int
open_bridged(const char* path, subject_t* s)
{
  pb_host_t* host = NULL;
  pb_open_opts_t opts;
  pb_open_opts_init(&opts);
  opts.max_block_frames = MAX_FRAMES;
  if (pb_host_new(&host) || pb_plugin_open(host, path, &opts, &s->plugin)) {
    fprintf(stderr,
            "bench_process: cannot open %s: %s\n",
            path,
            host ? pb_host_last_error(host) : "no host");
    return -1;
  }
  if (pb_plugin_set_active(s->plugin, 1) ||
      pb_plugin_set_processing(s->plugin, 1))
    return -1;
  return 0;
}

int
main(int argc, char** argv)
{
  size_t calls = 2000;
  int i = 1;
  if (argc > 3 && !strcmp(argv[1], "--calls")) {
    calls = (size_t)strtoul(argv[2], NULL, 10);
    i = 3;
  }
  if (i != argc - 1 || calls < 100) {
    fprintf(stderr, "usage: bench_process [--calls N>=100] PLUGIN\n");
    return 2;
  }
  subject_t local = { 0 }, bridged = { 0 };
  for (int c = 0; c < 2; ++c) {
    local.in[c] = bridged.in[c] = calloc(MAX_FRAMES, sizeof(float));
    local.out[c] = bridged.out[c] = calloc(MAX_FRAMES, sizeof(float));
  }
  local.fx = load_in_process(argv[i]);
  if (!local.fx || open_bridged(argv[i], &bridged)) {
    fprintf(stderr, "bench_process: %s does not run\n", argv[i]);
    return 1;
  }
  printf(
    "%s, stereo, 48 kHz, %zu calls; microseconds per call\n", argv[i], calls);
  printf("frames mode          in-process: median  p99   p99.9      "
         "bridged: median  p99   p99.9     ratios\n");
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); ++k)
    if (run_size(&local, &bridged, sizes[k], calls))
      return 1;
  return 0;
}
