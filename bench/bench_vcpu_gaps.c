/* How much of a busy CPU the machine takes away: one thread per online
 * CPU, pinned, reads the clock in a loop for a while and counts the gaps
 * between two reads longer than 20 µs (the thread did not run: an
 * interrupt, the timer tick, another task, or on a VM the hypervisor
 * running something else).  A thread that spins for a block (a bridge's
 * audio thread waiting for the host) meets these gaps; a request that
 * arrives during one waits it out.  Prints per CPU the gaps per second
 * by length, the longest, and the share of time lost.
 *
 *   bench_vcpu_gaps [SECONDS]      (default 5)
 *
 * Never fails on time. */
#define _GNU_SOURCE

#include "common/clock.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum
{
  MAX_CPUS = 64,
  N_BOUNDS = 5,
};

static const uint64_t bounds_ns[N_BOUNDS] = { 20000,
                                              50000,
                                              100000,
                                              500000,
                                              2000000 };

typedef struct
{
  unsigned cpu;
  uint64_t run_ns;
  int pinned;
  uint64_t count[N_BOUNDS]; /* gaps longer than bounds_ns[i] */
  uint64_t lost_ns;         /* in gaps longer than the first bound */
  uint64_t longest_ns;
} probe_t;

static void*
probe_main(void* arg)
{
  probe_t* p = (probe_t*)arg;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(p->cpu, &set);
  p->pinned = sched_setaffinity(0, sizeof(set), &set) == 0;
  const uint64_t end = pb_clock_now_ns() + p->run_ns;
  uint64_t last = pb_clock_now_ns();
  while (last < end) {
    const uint64_t now = pb_clock_now_ns();
    const uint64_t gap = now - last;
    last = now;
    if (gap <= bounds_ns[0])
      continue;
    p->lost_ns += gap;
    if (gap > p->longest_ns)
      p->longest_ns = gap;
    for (int i = 0; i < N_BOUNDS; ++i)
      p->count[i] += gap > bounds_ns[i];
  }
  return NULL;
}

static int
usage(FILE* to, int status)
{
  fprintf(to,
          "usage: bench_vcpu_gaps [SECONDS]\n"
          "Spins one pinned thread per online CPU for SECONDS (default 5)\n"
          "and counts the pauses between two clock reads longer than "
          "20 us.\n");
  return status;
}

int
main(int argc, char** argv)
{
  double seconds = 5.0;
  if (argc > 2)
    return usage(stderr, 2);
  if (argc == 2) {
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
      return usage(stdout, 0);
    char* end = NULL;
    seconds = strtod(argv[1], &end);
    if (!end || *end || !(seconds > 0.0 && seconds <= 3600.0)) {
      fprintf(stderr, "bench_vcpu_gaps: bad SECONDS '%s'\n", argv[1]);
      return usage(stderr, 2);
    }
  }
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  const int n = online < 1 ? 1 : online > MAX_CPUS ? MAX_CPUS : (int)online;
  static probe_t probes[MAX_CPUS];
  pthread_t threads[MAX_CPUS];
  int started = 0;
  for (int i = 0; i < n; ++i) {
    probes[i].cpu = (unsigned)i;
    probes[i].run_ns = (uint64_t)(seconds * 1e9);
    if (pthread_create(&threads[i], NULL, probe_main, &probes[i]) != 0) {
      fprintf(stderr, "bench_vcpu_gaps: cannot start a thread\n");
      break;
    }
    ++started;
  }
  for (int i = 0; i < started; ++i)
    (void)pthread_join(threads[i], NULL);
  printf("%d CPUs spun for %.1f s each; pauses per second longer than:\n",
         started,
         seconds);
  printf("cpu   >20us  >50us >100us >500us   >2ms   longest   lost\n");
  for (int i = 0; i < started; ++i) {
    const probe_t* p = &probes[i];
    printf("%3u%s", p->cpu, p->pinned ? " " : "?");
    for (int b = 0; b < N_BOUNDS; ++b)
      printf(" %6.1f", (double)p->count[b] / seconds);
    printf("  %6.0f us  %4.2f %%\n",
           (double)p->longest_ns / 1e3,
           100.0 * (double)p->lost_ns / (seconds * 1e9));
  }
  return started == n ? 0 : 1;
}
