/* What a crash costs the host, measured on pb_test_faulty:
 *
 *   death -> return  a process call is waiting on a bridge whose plugin
 *                    sleeps in processReplacing; a forked killer sends
 *                    SIGKILL at a known CLOCK_MONOTONIC instant and reports
 *                    it; the figure is the call's return minus that
 *                    instant (the kill(2) syscall itself included)
 *   restart          pb_plugin_restart() (respawn, reload, replay the
 *                    state, on + processing) plus the first process call
 *                    that produces audio again
 *
 * Median and maximum over N deaths (default 100).  Never fails on time.
 *
 *   bench_isolation [--deaths N] PB_TEST_FAULTY_SO */
#define _GNU_SOURCE

#include "plugbox.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_FRAMES 64u
#define KILL_AFTER_NS 5000000ull /* the call is waiting by then */

static uint64_t
now_ns(void)
{
  struct timespec ts;
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void* a, const void* b)
{
  const uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

typedef struct
{
  float in[2][N_FRAMES], out[2][N_FRAMES];
  const float* ins[2];
  float* outs[2];
  pb_process_t block;
} audio_t;

static pb_process_t*
block_of(audio_t* a)
{
  memset(a, 0, sizeof(*a));
  for (int c = 0; c < 2; ++c) {
    a->ins[c] = a->in[c];
    a->outs[c] = a->out[c];
  }
  a->block.n_frames = N_FRAMES;
  a->block.n_inputs = a->block.n_outputs = 2;
  a->block.inputs = a->ins;
  a->block.outputs = a->outs;
  return &a->block;
}

/* Fork a child that kills `pid` at `at_ns` and writes the instant it
 * called kill() into `fd`. */
static pid_t
killer(pid_t pid, uint64_t at_ns, int fd)
{
  const pid_t child = fork();
  if (child != 0)
    return child;
  const struct timespec ts = { (time_t)(at_ns / 1000000000ull),
                               (long)(at_ns % 1000000000ull) };
  (void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
  const uint64_t t = now_ns();
  (void)kill(pid, SIGKILL);
  (void)!write(fd, &t, sizeof t);
  _exit(0);
}

static int
one_death(pb_plugin_t* p, uint64_t* death_ns, uint64_t* restart_ns)
{
  int32_t answer = 0;
  audio_t a;
  int fds[2];
  if (pb_plugin_can_do(p, "faulty:arm:sleep:process", &answer) || answer != 1 ||
      pipe(fds))
    return -1;
  const pid_t k =
    killer((pid_t)pb_plugin_pid(p), now_ns() + KILL_AFTER_NS, fds[1]);
  const pb_status_t st = pb_plugin_process(p, block_of(&a));
  const uint64_t returned = now_ns();
  uint64_t killed = 0;
  const int got = (int)read(fds[0], &killed, sizeof killed);
  (void)waitpid(k, NULL, 0);
  close(fds[0]);
  close(fds[1]);
  if (st != PB_ERR_CRASHED || got != (int)sizeof killed || returned < killed)
    return -1;
  *death_ns = returned - killed;
  const uint64_t t0 = now_ns();
  if (pb_plugin_restart(p) || pb_plugin_process(p, block_of(&a)))
    return -1;
  *restart_ns = now_ns() - t0;
  return 0;
}

static void
report(const char* what, uint64_t* v, size_t n)
{
  qsort(v, n, sizeof *v, cmp_u64);
  printf("%-28s median %9.3f ms   max %9.3f ms   (n=%zu)\n",
         what,
         (double)v[n / 2] / 1e6,
         (double)v[n - 1] / 1e6,
         n);
}

int
main(int argc, char** argv)
{
  size_t n = 100;
  int i = 1;
  if (i + 2 < argc + 1 && argc > 2 && !strcmp(argv[1], "--deaths")) {
    n = (size_t)strtoul(argv[2], NULL, 10);
    i = 3;
  }
  if (i >= argc || n == 0) {
    fprintf(stderr, "usage: bench_isolation [--deaths N] pb_test_faulty.so\n");
    return 2;
  }
  pb_host_t* host = NULL;
  pb_plugin_t* p = NULL;
  pb_open_opts_t o;
  pb_open_opts_init(&o);
  o.max_block_frames = N_FRAMES;
  if (pb_host_new(&host) || pb_plugin_open(host, argv[i], &o, &p) ||
      pb_plugin_set_active(p, 1) || pb_plugin_set_processing(p, 1) ||
      pb_plugin_set_process_timeout_us(p, 5000000)) {
    fprintf(stderr, "bench_isolation: %s does not run\n", argv[i]);
    return 1;
  }
  uint64_t* death = calloc(n, sizeof *death);
  uint64_t* restart = calloc(n, sizeof *restart);
  int rc = !death || !restart;
  for (size_t k = 0; k < n && !rc; ++k)
    if (one_death(p, &death[k], &restart[k])) {
      fprintf(stderr, "bench_isolation: death %zu went wrong\n", k);
      rc = 1;
    }
  if (!rc) {
    report("death -> process returns", death, n);
    report("restart -> audio again", restart, n);
  }
  free(death);
  free(restart);
  pb_plugin_close(p);
  pb_host_free(host);
  return rc;
}
