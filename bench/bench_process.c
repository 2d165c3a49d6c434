/* Per-block processing cost of one plugin, four ways, in one run:
 *
 *   in-process  the plugin loaded in this process (its own time)
 *   raw futex   a forked child copying inputs to outputs over a memfd,
 *               woken and answered with FUTEX_WAKE/FUTEX_WAIT only: the
 *               naive two-process transport, no plugin
 *   default     plugbox, default options
 *   hot         plugbox with hot_mode = 1
 *   queued      offline only: the default and hot bridges fed through
 *               pb_plugin_submit(), the next block queued while one runs
 *
 * at 64, 512 and 4096 stereo frames, back to back (the next call as soon
 * as the last returns) and paced (one call per block period at 48 kHz, as
 * a host driven by its audio device).  Then 512-frame back-to-back calls
 * with the caller pinned to CPU 0 and the other side free (it may take
 * the other CPU), or confined to CPU 0 too; 64 frames paced against a
 * bridge without its standby thread (one_audio_thread); then offline
 * throughput.
 * Prints median, p99 and p99.9 per call in microseconds, and the overhead
 * over in-process (same percentile).  The subjects of a row take turns
 * (100 calls each), and offline they take turns of 3 s of audio (the caller on
 * CPU 0 and 1 in turn), so that all meet the same changes of the VM's speed.
 * Never fails on time.
 *
 *   bench_process [--calls N] [--pin CPU] [--rt PRIORITY] [--offline-only]
 *                 PLUGIN
 *
 * --pin pins the caller to CPU for the first table too (the bridges stay
 * free to choose).  --rt runs the caller (so the in-process plugin and the
 * raw child) SCHED_FIFO at PRIORITY and opens the bridges with
 * audio_rt_priority = PRIORITY, as a real-time host would. */
#define _GNU_SOURCE

#include "common/clock.h"
#include "common/vst2_abi.h"
#include "plugbox.h"

#include <dlfcn.h>
#include <pthread.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RATE 48000.0
#define MAX_FRAMES 4096u
#define OFFLINE_SECONDS 60u
#define OFFLINE_FRAMES 512u
#define OFFLINE_TURN_S 3.0

static const uint32_t sizes[] = { 64, 512, 4096 };

/* ------------------------------------------------------------ subjects */

/* The raw ping-pong's shared page: two futex words, then the buffers. */
struct raw_block
{
  uint32_t request_seq;
  uint32_t done_seq;
  uint32_t n_frames; /* 0: exit */
  uint32_t pad[13];
  float audio[4][MAX_FRAMES]; /* in L, in R, out L, out R */
};

typedef struct
{
  const char* name;
  pb_vst_effect_t* fx;   /* in process, or NULL */
  pb_plugin_t* plugin;   /* bridged, or NULL */
  struct raw_block* raw; /* raw ping-pong, or NULL */
  pid_t child;           /* of the raw ping-pong */
  int hot;               /* hot mode while measured */
  int queued;            /* offline: PB_QUEUE_MAX blocks queued ahead */
  uint32_t raw_seq;
} subject_t;

static float* ins[2];
static float* outs[2];
static float* outs2[2]; /* the second queued block's */

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

/* --rt N: the caller's and the bridges' audio threads run SCHED_FIFO N. */
static int rt_priority;

static int
open_bridged(pb_host_t* host,
             const char* path,
             int hot,
             int one_thread,
             pb_plugin_t** out)
{
  pb_open_opts_t opts;
  pb_open_opts_init(&opts);
  opts.max_block_frames = MAX_FRAMES;
  opts.hot_mode = hot;
  opts.one_audio_thread = one_thread;
  opts.audio_rt_priority = rt_priority;
  if (pb_plugin_open(host, path, &opts, out)) {
    fprintf(stderr,
            "bench_process: cannot open %s: %s\n",
            path,
            pb_host_last_error(host));
    return -1;
  }
  if (pb_plugin_set_active(*out, 1) || pb_plugin_set_processing(*out, 1))
    return -1;
  return 0;
}

/* ------------------------------------------------------------ raw futex */

static void
futex_wait(uint32_t* word, uint32_t expected)
{
  (void)syscall(SYS_futex, word, FUTEX_WAIT, expected, NULL, NULL, 0);
}

static void
futex_wake(uint32_t* word)
{
  (void)syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void
raw_child(struct raw_block* r)
{
  uint32_t seen = 0;
  for (;;) {
    uint32_t seq;
    while ((seq = __atomic_load_n(&r->request_seq, __ATOMIC_ACQUIRE)) == seen)
      futex_wait(&r->request_seq, seen);
    seen = seq;
    const uint32_t n = r->n_frames;
    if (n == 0 || n > MAX_FRAMES)
      _exit(0);
    memcpy(r->audio[2], r->audio[0], n * sizeof(float));
    memcpy(r->audio[3], r->audio[1], n * sizeof(float));
    __atomic_store_n(&r->done_seq, seq, __ATOMIC_RELEASE);
    futex_wake(&r->done_seq);
  }
}

static int
raw_start(subject_t* s)
{
  const int fd = memfd_create("bench-raw", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, sizeof(struct raw_block)) < 0)
    return -1;
  s->raw = mmap(
    NULL, sizeof(struct raw_block), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  (void)close(fd);
  if (s->raw == MAP_FAILED)
    return -1;
  memset(s->raw, 0, sizeof(*s->raw));
  s->child = fork();
  if (s->child < 0)
    return -1;
  if (s->child == 0)
    raw_child(s->raw);
  return 0;
}

static void
raw_stop(subject_t* s)
{
  if (!s->raw)
    return;
  s->raw->n_frames = 0;
  __atomic_store_n(&s->raw->request_seq, ++s->raw_seq, __ATOMIC_RELEASE);
  futex_wake(&s->raw->request_seq);
  (void)waitpid(s->child, NULL, 0);
  (void)munmap(s->raw, sizeof(*s->raw));
  s->raw = NULL;
}

static void
raw_call(subject_t* s, uint32_t frames)
{
  struct raw_block* r = s->raw;
  memcpy(r->audio[0], ins[0], frames * sizeof(float));
  memcpy(r->audio[1], ins[1], frames * sizeof(float));
  r->n_frames = frames;
  const uint32_t seq = ++s->raw_seq;
  __atomic_store_n(&r->request_seq, seq, __ATOMIC_RELEASE);
  futex_wake(&r->request_seq);
  uint32_t now;
  while ((now = __atomic_load_n(&r->done_seq, __ATOMIC_ACQUIRE)) != seq)
    futex_wait(&r->done_seq, now);
  memcpy(outs[0], r->audio[2], frames * sizeof(float));
  memcpy(outs[1], r->audio[3], frames * sizeof(float));
}

/* ------------------------------------------------------------ calls */

static int
call(subject_t* s, uint32_t frames)
{
  if (s->fx) {
    s->fx->process_replacing(s->fx, ins, outs, (int32_t)frames);
    return 0;
  }
  if (s->raw) {
    raw_call(s, frames);
    return 0;
  }
  pb_process_t b;
  memset(&b, 0, sizeof(b));
  b.n_frames = frames;
  b.n_inputs = b.n_outputs = 2;
  b.inputs = (const float* const*)ins;
  b.outputs = (float* const*)outs;
  return pb_plugin_process(s->plugin, &b) == PB_OK ? 0 : -1;
}

static int
cmp_double(const void* a, const void* b)
{
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
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
  /* Bridged subjects: % of calls whose bridge had to be woken, and of
   * the slowest 1 %; -1 for the others. */
  double woken_pct, slow_woken_pct;
  /* Bridged subjects: the call's time less the plugin's own in the bridge
   * for the same block (pb_audio_stats_t.plugin_ns), median and p99; and
   * of the slowest 1 % by that, the % whose caller saw the answer late
   * (pb_audio_stats_t.caller_paused: its own thread did not run). */
  double transport_median_us, transport_p99_us, slow_paused_pct;
} stats_t;

/* `calls[i]`: the call's time in ns shifted left once, its low bit 1 when
 * the bridge had to be woken for it; `rest[i]`: its time less the
 * plugin's own in ns, shifted left once, its low bit 1 when the caller saw
 * the answer late (bridged subjects; else NULL). */
static stats_t
stats_of(uint64_t* calls, uint64_t* rest, size_t n)
{
  qsort(calls, n, sizeof(calls[0]), cmp_u64);
  stats_t s = { (double)(calls[n / 2] >> 1) / 1e3,
                (double)(calls[(n * 99) / 100] >> 1) / 1e3,
                (double)(calls[(n * 999) / 1000] >> 1) / 1e3,
                -1.0,
                -1.0,
                -1.0,
                -1.0,
                -1.0 };
  if (!rest)
    return s;
  qsort(rest, n, sizeof(rest[0]), cmp_u64);
  s.transport_median_us = (double)(rest[n / 2] >> 1) / 1e3;
  s.transport_p99_us = (double)(rest[(n * 99) / 100] >> 1) / 1e3;
  size_t woken = 0, slow_woken = 0, slow_paused = 0;
  const size_t slow_from = (n * 99) / 100;
  for (size_t i = 0; i < n; ++i) {
    woken += calls[i] & 1u;
    if (i >= slow_from) {
      slow_woken += calls[i] & 1u;
      slow_paused += rest[i] & 1u;
    }
  }
  s.slow_paused_pct = 100.0 * (double)slow_paused / (double)(n - slow_from);
  s.woken_pct = 100.0 * (double)woken / (double)n;
  s.slow_woken_pct = 100.0 * (double)slow_woken / (double)(n - slow_from);
  return s;
}

/* The audio counters of `s` so far (zeros when not bridged). */
static pb_audio_stats_t
stats_so_far(const subject_t* s)
{
  pb_audio_stats_t st;
  if (!s->plugin || pb_plugin_audio_stats(s->plugin, &st) != PB_OK)
    memset(&st, 0, sizeof(st));
  return st;
}

static void
sleep_until(uint64_t ns)
{
  const struct timespec ts = { (time_t)(ns / 1000000000u),
                               (long)(ns % 1000000000u) };
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
}

/* Time `n` calls into `ns` after `warm` unmeasured ones (and, when
 * `warm_ns`, at least that long); `paced` waits one block period between
 * starts.  Hot mode only while its subject is measured: an idle hot
 * bridge spins for a while and would take a CPU from the others. */
static int
measure(subject_t* s,
        uint32_t frames,
        int paced,
        size_t warm,
        uint64_t warm_ns,
        uint64_t* ns,
        uint64_t* rest,
        size_t n)
{
  if (s->hot && pb_plugin_set_hot_mode(s->plugin, 1))
    return -1;
  const uint64_t period = (uint64_t)((double)frames / RATE * 1e9);
  const uint64_t warm_until = pb_clock_now_ns() + warm_ns;
  uint64_t next = pb_clock_now_ns();
  for (size_t i = 0; i < n;) {
    if (paced) {
      next += period;
      sleep_until(next);
    }
    const pb_audio_stats_t before = stats_so_far(s);
    const uint64_t t0 = pb_clock_now_ns();
    if (call(s, frames))
      return -1;
    const uint64_t t1 = pb_clock_now_ns();
    const pb_audio_stats_t after = stats_so_far(s);
    if (warm > 0 || t1 < warm_until) {
      warm -= warm > 0;
      continue;
    }
    const uint64_t own = after.plugin_ns - before.plugin_ns;
    /* Woken: the audio thread, or the standby thread instead. */
    ns[i] = (t1 - t0) << 1 | (after.bridge_woken != before.bridge_woken ||
                              after.standby != before.standby);
    rest[i++] = (t1 - t0 > own ? t1 - t0 - own : 0u) << 1 |
                (after.caller_paused != before.caller_paused);
  }
  if (s->hot && pb_plugin_set_hot_mode(s->plugin, 0))
    return -1;
  return 0;
}

/* ------------------------------------------------------------ report */

static void
header(const char* title)
{
  printf("\n%s (microseconds per call)\n", title);
  printf("frames  mode     subject      median      p99    p99.9   |  "
         "overhead: median      p99    p99.9   | woken%%: all, slowest 1%% "
         "| transport: median     p99 | caller paused%%: slowest 1%%\n");
}

static void
row(uint32_t frames, const char* mode, const char* name, stats_t s, stats_t ref)
{
  printf("%6u  %-7s  %-10s %8.2f %8.2f %8.2f   |  %16.2f %8.2f %8.2f",
         (unsigned)frames,
         mode,
         name,
         s.median_us,
         s.p99_us,
         s.p999_us,
         s.median_us - ref.median_us,
         s.p99_us - ref.p99_us,
         s.p999_us - ref.p999_us);
  if (s.woken_pct >= 0.0)
    printf("   | %5.1f %5.1f           |         %7.2f %7.2f | %5.1f",
           s.woken_pct,
           s.slow_woken_pct,
           s.transport_median_us,
           s.transport_p99_us,
           s.slow_paused_pct);
  printf("\n");
}

/* Back to back, the subjects take turns, CHUNK calls each after
 * CHUNK_WARM unmeasured ones: the VM's speed changes by up to 1.6x every
 * few hundred ms (a plugin's own in-process time flips between two
 * levels), and whole runs one after the other would compare those moods,
 * not the transports.  Paced, each subject makes all its calls in one
 * turn after PACED_WARM (a real paced host does not pause, and the bridge
 * learns its period and phase).  The first turn of each also warms up
 * for 100 ms.  subjects[0] is in-process: the reference of the
 * overheads. */
static int
run_rows(subject_t* subjects,
         size_t n_subjects,
         uint32_t frames,
         int paced,
         size_t n)
{
  enum
  {
    MAX_SUBJECTS = 4,
    CHUNK = 100,     /* calls per turn back to back */
    CHUNK_WARM = 10, /* ... after these */
    PACED_WARM = 30, /* paced: one turn, after these */
    FIRST_WARM_NS = 100000000,
  };
  static const char* const modes[] = { "b2b", "paced" };
  uint64_t* ns[MAX_SUBJECTS] = { NULL };
  uint64_t* rest[MAX_SUBJECTS] = { NULL };
  int err = n_subjects > MAX_SUBJECTS ? -1 : 0;
  for (size_t k = 0; !err && k < n_subjects; ++k) {
    ns[k] = calloc(n, sizeof(uint64_t));
    rest[k] = calloc(n, sizeof(uint64_t));
    err = ns[k] && rest[k] ? 0 : -1;
  }
  const size_t chunk = paced ? n : CHUNK;
  for (size_t done = 0; !err && done < n; done += chunk) {
    const size_t take = n - done < chunk ? n - done : chunk;
    for (size_t k = 0; !err && k < n_subjects; ++k)
      err = measure(&subjects[k],
                    frames,
                    paced,
                    paced ? PACED_WARM : CHUNK_WARM,
                    done ? 0u : FIRST_WARM_NS,
                    ns[k] + done,
                    rest[k] + done,
                    take);
  }
  if (!err) {
    const stats_t ref = stats_of(ns[0], NULL, n);
    for (size_t k = 0; k < n_subjects; ++k)
      row(frames,
          modes[paced],
          subjects[k].name,
          k ? stats_of(ns[k], subjects[k].plugin ? rest[k] : NULL, n) : ref,
          ref);
  }
  for (size_t k = 0; k < n_subjects; ++k) {
    free(ns[k]);
    free(rest[k]);
  }
  return err;
}

static int
run_sizes(subject_t* subjects, size_t n_subjects, size_t calls, long pin)
{
  char title[96];
  if (pin < 0)
    (void)snprintf(title, sizeof(title), "All four, caller not pinned");
  else
    (void)snprintf(title, sizeof(title), "All four, caller on CPU %ld", pin);
  header(title);
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); ++k) {
    const uint32_t f = sizes[k];
    /* Paced runs last calls x period: fewer calls for long blocks. */
    const size_t paced = f >= 4096 ? calls / 16 : f >= 512 ? calls / 4 : calls;
    if (run_rows(subjects, n_subjects, f, 0, calls) ||
        run_rows(subjects, n_subjects, f, 1, paced))
      return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ placement */

static int
pin_pid(pid_t pid, unsigned cpu)
{
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(pid, sizeof(set), &set);
}

/* 512-frame back-to-back calls with the caller on CPU 0: the other side
 * free to take the other CPU, then confined to CPU 0 too (a bridge that
 * inherits the mask: its host is made while this thread is pinned). */
static int
run_placement(subject_t* subjects,
              size_t n_subjects,
              const char* path,
              size_t calls)
{
  enum
  {
    F = 512
  };
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    printf("\n(one CPU online: no placement figures)\n");
    return 0;
  }
  header("512 frames back to back, caller on CPU 0, other side free "
         "(raw child on CPU 1)");
  cpu_set_t all;
  if (sched_getaffinity(0, sizeof(all), &all) || pin_pid(0, 0) ||
      pin_pid(subjects[1].child, 1) ||
      run_rows(subjects, n_subjects, F, 0, calls))
    return -1;

  header("512 frames back to back, everything on CPU 0");
  pb_host_t* host = NULL;
  subject_t one[3] = { subjects[0], subjects[1], { .name = "default" } };
  if (pb_host_new(&host) || open_bridged(host, path, 0, 0, &one[2].plugin) ||
      pin_pid(subjects[1].child, 0))
    return -1;
  const int err = run_rows(one, 3, F, 0, calls);
  pb_plugin_close(one[2].plugin);
  pb_host_free(host);
  (void)sched_setaffinity(0, sizeof(all), &all);
  return err;
}

/* ------------------------------------------------------------ standby */

/* 64 frames paced, the default bridge against one opened with
 * one_audio_thread (no standby thread), on the caller's CPU as in the
 * first table: what the standby does to the tail. */
static int
run_standby(subject_t* subjects,
            pb_host_t* host,
            const char* path,
            size_t calls)
{
  header("64 frames paced, default against one_audio_thread (no standby)");
  subject_t three[3] = { subjects[0], subjects[2], { .name = "one thread" } };
  if (open_bridged(host, path, 0, 1, &three[2].plugin))
    return -1;
  const int err = run_rows(three, 3, 64, 1, calls);
  pb_plugin_close(three[2].plugin);
  return err;
}

/* ------------------------------------------------------------ offline */

/* `blocks` blocks of OFFLINE_FRAMES through the queue, each in its own
 * output buffers; 0 or -1. */
static int
render_queued(subject_t* s, uint32_t blocks)
{
  pb_process_t b[PB_QUEUE_MAX];
  memset(b, 0, sizeof(b));
  for (uint32_t k = 0; k < PB_QUEUE_MAX; ++k) {
    b[k].n_frames = OFFLINE_FRAMES;
    b[k].n_inputs = b[k].n_outputs = 2;
    b[k].inputs = (const float* const*)ins;
    b[k].outputs = (float* const*)(k ? outs2 : outs);
  }
  uint32_t sent = 0;
  for (uint32_t got = 0; got < blocks;) {
    if (sent < blocks && pb_plugin_queued(s->plugin) < PB_QUEUE_MAX) {
      if (pb_plugin_submit(s->plugin, &b[sent++ % PB_QUEUE_MAX]))
        return -1;
      continue;
    }
    pb_process_t* done = NULL;
    if (pb_plugin_collect(s->plugin, &done))
      return -1;
    ++got;
  }
  return 0;
}

/* Seconds to render `blocks` blocks of OFFLINE_FRAMES, or -1. */
static double
render_s(subject_t* s, uint32_t blocks)
{
  if (s->hot && pb_plugin_set_hot_mode(s->plugin, 1))
    return -1.0;
  const uint64_t t0 = pb_clock_now_ns();
  if (s->queued && render_queued(s, blocks))
    return -1.0;
  for (uint32_t i = 0; !s->queued && i < blocks; ++i)
    if (call(s, OFFLINE_FRAMES))
      return -1.0;
  const double t = (double)(pb_clock_now_ns() - t0) / 1e9;
  if (s->hot && pb_plugin_set_hot_mode(s->plugin, 0))
    return -1.0;
  return t;
}

/* The subjects take turns of OFFLINE_TURN_S of audio: the
 * VM's speed changes by up to 1.6x every few hundred ms (a plugin's own
 * in-process time flips between two levels), so whole renders one after
 * the other compare the VM's moods, not the transports.  In turns, every
 * subject meets the same moods; the totals are compared.  The vCPUs are
 * not equal either (one spends more time in the slow level than the
 * other: the ratio moved from 0.73-0.83 to 1.13-1.24 with --pin 0 or 1),
 * so with two CPUs the caller runs its turns on CPU 0 and 1 by turns:
 * the in-process plugin runs half its time on each, and so does
 * the bridged one (on the CPU the caller leaves).  Besides the totals'
 * ratio, the median of the turns' own ratios (each against the
 * in-process turn just before it): a slow spell that hits some turns of
 * one subject moves the totals, not the median. */
static int
run_offline(subject_t* subjects, int n)
{
  const uint32_t blocks = (uint32_t)(OFFLINE_TURN_S * RATE) / OFFLINE_FRAMES;
  const int n_cpus = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
  printf("\nOffline: %u s of audio in %u-frame blocks, in turns of %.1f s "
         "(%s); throughput relative to in-process\n",
         OFFLINE_SECONDS,
         OFFLINE_FRAMES,
         OFFLINE_TURN_S,
         n_cpus == 2 ? "the caller on CPU 0 and 1 in turn" : "one CPU");
  cpu_set_t all;
  if (sched_getaffinity(0, sizeof(all), &all))
    return -1;
  enum
  {
    MAX_TURNS = 64
  };
  enum
  {
    MAX_SUBJECTS = 6
  };
  if (n > MAX_SUBJECTS)
    return -1;
  double total[MAX_SUBJECTS] = { 0.0 };
  double ratio[MAX_SUBJECTS][MAX_TURNS];
  const int turns = (int)(OFFLINE_SECONDS / OFFLINE_TURN_S) < MAX_TURNS
                      ? (int)(OFFLINE_SECONDS / OFFLINE_TURN_S)
                      : MAX_TURNS;
  uint64_t own_ns[MAX_SUBJECTS] = { 0 };
  for (int turn = 0; turn < turns; ++turn) {
    if (n_cpus == 2 && pin_pid(0, (unsigned)(turn % 2)))
      return -1;
    double t[MAX_SUBJECTS] = { 0.0 };
    for (int k = 0; k < n; ++k) {
      if (k == 1)
        continue; /* the raw ping-pong runs no plugin */
      /* Subjects share a bridge: each counts the plugin's time of its own
       * turns. */
      const uint64_t own_before = stats_so_far(&subjects[k]).plugin_ns;
      t[k] = render_s(&subjects[k], blocks);
      if (t[k] <= 0)
        return -1;
      own_ns[k] += stats_so_far(&subjects[k]).plugin_ns - own_before;
      total[k] += t[k];
      ratio[k][turn] = t[0] / t[k];
    }
  }
  if (sched_setaffinity(0, sizeof(all), &all))
    return -1;
  const double audio_s = (double)turns * blocks * OFFLINE_FRAMES / RATE;
  for (int k = 0; k < n; ++k) {
    if (k == 1)
      continue;
    qsort(ratio[k], (size_t)turns, sizeof(double), cmp_double);
    printf("  %-10s %7.3f s  x%.3f realtime  throughput x%.3f (median of "
           "%d turns x%.3f)",
           subjects[k].name,
           total[k],
           audio_s / total[k],
           total[0] / total[k],
           turns,
           ratio[k][turns / 2]);
    /* The same ratio against the plugin's own time in the bridge, which
     * the VM's moods do not skew. */
    if (subjects[k].plugin)
      printf("  (plugin's own time: x%.3f of the calls')",
             (double)own_ns[k] / 1e9 / total[k]);
    printf("\n");
  }
  return 0;
}

/* ------------------------------------------------------------ main */

/* 0, or -1 out of memory. */
static int
fill_inputs(void)
{
  uint32_t x = 1;
  for (int c = 0; c < 2; ++c) {
    ins[c] = calloc(MAX_FRAMES, sizeof(float));
    outs[c] = calloc(MAX_FRAMES, sizeof(float));
    outs2[c] = calloc(MAX_FRAMES, sizeof(float));
    if (!ins[c] || !outs[c] || !outs2[c])
      return -1;
    for (uint32_t i = 0; i < MAX_FRAMES; ++i) {
      x = x * 1664525u + 1013904223u;
      ins[c][i] = (float)((double)(x >> 8) / 16777216.0 - 0.5) * 0.5f;
    }
  }
  return 0;
}

int
main(int argc, char** argv)
{
  size_t calls = 2000;
  long pin = -1;
  int offline_only = 0;
  int i = 1;
  while (i + 1 < argc && argv[i][0] == '-') {
    if (!strcmp(argv[i], "--offline-only")) {
      offline_only = 1;
      i += 1;
      continue;
    }
    if (!strcmp(argv[i], "--calls"))
      calls = (size_t)strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--pin"))
      pin = strtol(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--rt"))
      rt_priority = (int)strtol(argv[i + 1], NULL, 10);
    else
      break;
    i += 2;
  }

  if (i != argc - 1 || calls < 100 || rt_priority < 0 || rt_priority > 99) {
    fprintf(stderr,
            "usage: bench_process [--calls N>=100] [--pin CPU] [--rt 1..99] "
            "[--offline-only] PLUGIN\n");
    return 2;
  }
  if (rt_priority) {
    /* Before the raw child forks: it inherits the policy. */
    struct sched_param sp = { .sched_priority = rt_priority };
    const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (rc) {
      fprintf(stderr,
              "bench_process: SCHED_FIFO %d: %s\n",
              rt_priority,
              strerror(rc));
      return 1;
    }
  }
  if (fill_inputs()) {
    fprintf(stderr, "bench_process: out of memory\n");
    return 1;
  }
  subject_t s[6] = { { .name = "in-process" },
                     { .name = "raw futex" },
                     { .name = "default" },
                     { .name = "hot", .hot = 1 },
                     { .name = "queued", .queued = 1 },
                     { .name = "hot queued", .hot = 1, .queued = 1 } };
  pb_host_t* host = NULL;
  s[0].fx = load_in_process(argv[i]);
  /* The raw child first: it must not inherit the bridges' pipes. */
  if (!s[0].fx || raw_start(&s[1]) || pb_host_new(&host) ||
      open_bridged(host, argv[i], 0, 0, &s[2].plugin) ||
      open_bridged(host, argv[i], 0, 0, &s[3].plugin)) {
    fprintf(stderr, "bench_process: %s does not run\n", argv[i]);
    return 1;
  }
  s[4].plugin = s[2].plugin;
  s[5].plugin = s[3].plugin;
  printf("%s, stereo, 48 kHz, %zu calls (paced: fewer for long blocks), "
         "%ld CPUs, %s\n",
         argv[i],
         calls,
         sysconf(_SC_NPROCESSORS_ONLN),
         rt_priority ? "caller and bridges SCHED_FIFO" : "normal policy");

  cpu_set_t all;
  int err = sched_getaffinity(0, sizeof(all), &all);
  if (!err && pin >= 0)
    err = pin_pid(0, (unsigned)pin);
  if (!err && !offline_only)
    err = run_sizes(s, 4, calls, pin);
  if (!err && !offline_only)
    err = run_standby(s, host, argv[i], calls);
  if (!err && rt_priority)
    printf("\nbridges' audio threads ran at priority %d and %d (asked %d)\n",
           pb_plugin_audio_priority(s[2].plugin),
           pb_plugin_audio_priority(s[3].plugin),
           rt_priority);
  if (!err)
    err = sched_setaffinity(0, sizeof(all), &all);
  if (!err && !offline_only)
    err = run_placement(s, 4, argv[i], calls);
  if (!err)
    err = run_offline(s, 6);
  raw_stop(&s[1]);
  pb_plugin_close(s[2].plugin);
  pb_plugin_close(s[3].plugin);
  pb_host_free(host);
  return err ? 1 : 0;
}
