/* Isolation: whatever the plugin does -- fault signals, exits, hangs,
 * stops, signals to its process group, garbage on the control socket or
 * in the shared block, lies, overlong strings, NaN -- at whichever entry
 * point, the host gets a status within the deadline, a crash record that
 * says what happened, no leaked process, fd, memfd or thread, and can
 * restart the plugin with its state.  Every cell of the fault matrix is
 * printed with the time the host took to learn of the fault.
 *
 * With --i386 (ctest's test_isolation_i386) a representative subset runs
 * against plugbox-bridge-32 and the -m32 build of the faulty plugin
 * ($PB_TEST_PLUGIN_DIR_32): the same helpers and checks, other plugins. */
#define _XOPEN_SOURCE 700 /* getpgid */

#include "cpu_pin.h"
#include "host_fixture.h"
#include "plugbox.h"

#include "host/crash_note.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CALL_TIMEOUT_MS 800u
#define LOAD_TIMEOUT_MS 2000u
#define PROCESS_TIMEOUT_US 100000u
#define AUDIO_HANG_MS 200u

static const char* const faults[] = {
  "segv",        "abort",    "fpe",        "ill",         "bus",
  "exit",        "_exit",    "stack",      "memory",      "loop",
  "sleep",       "close_fd", "garbage_fd", "shm_garbage", "lie",
  "long_string", "nan",      "killpg",     "stop",
};
#define N_FAULTS (sizeof faults / sizeof faults[0])

static const char* const entries[] = {
  "open",      "param_get", "param_display", "param_set",
  "chunk_get", "chunk_set", "process",       "close",
};
#define N_ENTRIES (sizeof entries / sizeof entries[0])

/* --i386: these faults run through plugbox-bridge-32, at every entry
 * (the i386 build makes their pb_test_faulty_open_* copies too). */
static int i386_mode;
static const char* const i386_faults[] = {
  "segv", "abort", "exit", "stack", "loop", "garbage_fd",
};

/* Under strict the bridge the host spawned is a supervisor, and the plugin
 * runs in its grandchild, pid 2 of a pid namespace (docs/sandbox.md): these
 * faults check that the worker's end reaches the host unchanged (signal,
 * exit code, crash note) and that a hang kill takes the namespace down.
 * ("killpg" is no fault there: seccomp refuses kill(0, ...).) */
static const char* const strict_faults[] = {
  "segv",  "abort", "exit", "loop", /* the i386 build has open_* copies */
  "_exit", "stop",                  /* of these four only */
};
#define N_STRICT_FAULTS_I386 4u

/* ------------------------------------------------------------ helpers */

static void
isolation_opts(fixture_t* f)
{
  f->opts.call_timeout_ms = CALL_TIMEOUT_MS;
  f->opts.load_timeout_ms = LOAD_TIMEOUT_MS;
  f->opts.memory_limit_bytes = 256ull << 20; /* the "memory" fault */
  f->opts.audio_hang_ms = AUDIO_HANG_MS;
  f->opts.max_block_frames = FX_FRAMES;
}

static int
is(const char* a, const char* b)
{
  return strcmp(a, b) == 0;
}

/* Nothing left behind but what the host itself holds. */
static void
assert_no_leaks(int n_fds, int n_threads)
{
  assert_int_equal(fx_count_fds(), n_fds);
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
  assert_int_equal(fx_count_dir("/proc/self/task"), n_threads);
}

static pb_plugin_t*
open_faulty(fixture_t* f, int running)
{
  pb_plugin_t* p = NULL;
  assert_int_equal(fx_open(f, fx_test_plugin("pb_test_faulty"), &p), PB_OK);
  if (i386_mode)
    assert_string_equal(pb_plugin_info(p)->arch, "i386");
  if (running) {
    assert_int_equal(pb_plugin_set_active(p, 1), PB_OK);
    assert_int_equal(pb_plugin_set_processing(p, 1), PB_OK);
    assert_int_equal(pb_plugin_set_process_timeout_us(p, PROCESS_TIMEOUT_US),
                     PB_OK);
  }
  return p;
}

static void
arm(pb_plugin_t* p, const char* fault, const char* entry)
{
  char what[96];
  int32_t answer = 0;
  (void)snprintf(what, sizeof what, "faulty:arm:%s:%s", fault, entry);
  assert_int_equal(pb_plugin_can_do(p, what, &answer), PB_OK);
  assert_int_equal(answer, 1);
}

/* ---------------------------------------------------- expected outcome */

typedef struct
{
  const char* signal; /* expected signal name, "" for none, NULL: any */
  int exit_code;      /* expected, or -2: any */
  int note;           /* 1 a note naming the call, 0 none, -1 either */
} death_t;

static death_t
death_of(const char* fault, const char* entry)
{
  (void)entry; /* every entry dies the same way, the audio thread's too */
  death_t d = { NULL, -2, -1 };
  static const char* const sigs[][2] = {
    { "segv", "SIGSEGV" },   { "abort", "SIGABRT" }, { "fpe", "SIGFPE" },
    { "ill", "SIGILL" },     { "bus", "SIGBUS" },    { "stack", "SIGSEGV" },
    { "memory", "SIGSEGV" },
  };
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; ++i)
    if (is(fault, sigs[i][0])) {
      d.signal = sigs[i][1];
      d.note = 1;
    }
  if (is(fault, "exit"))
    d = (death_t){ "", -2, 1 };
  if (is(fault, "_exit"))
    d = (death_t){ "", 4, 0 };
  if (is(fault, "killpg") || is(fault, "loop") || is(fault, "sleep") ||
      is(fault, "stop"))
    d = (death_t){ "SIGKILL", -1, 0 };
  return d;
}

static int
fatal(const char* fault)
{
  return death_of(fault, "param_get").signal != NULL || is(fault, "close_fd") ||
         is(fault, "garbage_fd");
}

static int
hangs(const char* fault)
{
  return is(fault, "loop") || is(fault, "sleep") || is(fault, "stop");
}

static void
check_record(pb_plugin_t* p, const char* fault, const char* entry)
{
  pb_crash_t cr;
  pb_plugin_crash(p, &cr);
  assert_int_equal(cr.crashed, 1);
  assert_true(cr.reason[0] != '\0');
  const death_t d = death_of(fault, entry);
  if (d.signal)
    assert_string_equal(cr.signal_name, d.signal);
  if (d.exit_code != -2)
    assert_int_equal(cr.exit_code, d.exit_code);
  if (is(fault, "exit"))
    assert_true(cr.exit_code > 0 && cr.signal == 0);
  if (d.note == 1) {
    assert_int_equal(cr.has_note, 1);
    assert_string_equal(cr.call, entry);
  } else if (d.note == 0) {
    assert_int_equal(cr.has_note, 0);
  }
  /* A fault in the plugin's own code names the plugin and an offset. */
  if (d.note == 1 &&
      (is(fault, "segv") || is(fault, "ill") || is(fault, "fpe"))) {
    assert_non_null(strstr(cr.module, "pb_test_faulty"));
    assert_true(cr.module_offset > 0 && cr.module_offset < (1u << 24));
  }
  if (is(fault, "segv"))
    assert_true(cr.fault_address == 16u);
}

/* ------------------------------------------------------------- cells */

typedef struct
{
  pb_status_t status;
  double detect_ms; /* the faulting call's return, or the kill */
  int crashed;
} cell_t;

static pb_status_t
call_entry(pb_plugin_t* p, const char* entry, const void* chunk, size_t size)
{
  float value = 0.0f;
  char text[64];
  if (is(entry, "param_get") || is(entry, "param_display")) {
    const pb_status_t st = pb_plugin_param_get(p, 0, &value, text, sizeof text);
    return st;
  }
  if (is(entry, "param_set"))
    return pb_plugin_param_set(p, 0, 0.75f);
  if (is(entry, "chunk_get")) {
    void* data = NULL;
    size_t n = 0;
    const pb_status_t st = pb_plugin_chunk_get(p, 0, &data, &n);
    pb_free(data);
    return st;
  }
  return pb_plugin_chunk_set(p, 0, chunk, size);
}

/* The plugin after the fault: crashed with a record, or still usable. */
static void
check_after(pb_plugin_t* p, const char* fault, const char* entry, cell_t* c)
{
  pb_crash_t cr;
  /* A hung audio block gets the bridge killed by the host's timer; a
   * late one may still die by itself. */
  if (is(entry, "process") && c->status == PB_ERR_TIMEOUT) {
    const double t0 = fx_now_ms();
    do {
      pb_plugin_crash(p, &cr);
      if (!cr.crashed)
        fx_sleep_ms(5);
    } while (!cr.crashed && fx_now_ms() - t0 < 3000.0);
    assert_int_equal(cr.crashed, 1);
    if (hangs(fault))
      assert_non_null(strstr(cr.reason, "unanswered"));
  }
  pb_plugin_crash(p, &cr);
  if (fatal(fault) || hangs(fault) || is(fault, "killpg") ||
      is(fault, "exit") || is(fault, "_exit")) {
    /* Dead on the audio path is noticed at the latest by the next call. */
    const double t0 = fx_now_ms();
    float v = 0.0f;
    const pb_status_t st = pb_plugin_param_get(p, 0, &v, NULL, 0);
    const double t = fx_now_ms() - t0;
    /* Garbage may reach the host after this call's request went out. */
    if (is(fault, "garbage_fd") && st == PB_ERR_PROTOCOL)
      assert_true(is(entry, "process"));
    else
      assert_int_equal(st, PB_ERR_CRASHED);
    /* "At once": a settled bridge needs no waiting, a freshly hung-up one
     * at most the grace the library gives it to exit. */
    assert_true(t < 1500.0);
    const double t1 = fx_now_ms();
    assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_ERR_CRASHED);
    assert_true(fx_now_ms() - t1 < 50.0);
    if (!is(fault, "close_fd") && !is(fault, "garbage_fd"))
      check_record(p, fault, entry);
    c->crashed = 1;
    return;
  }
  /* Lies, scribbles, NaN and long strings: alive, or crashed with a
   * record; never anything in between. */
  pb_plugin_crash(p, &cr);
  if (cr.crashed) {
    c->crashed = 1;
    assert_true(cr.reason[0] != '\0');
    return;
  }
  float v = 0.0f;
  const pb_status_t st = pb_plugin_param_get(p, 1, &v, NULL, 0);
  assert_true(st == PB_OK || st == PB_ERR_CRASHED);
  c->crashed = st == PB_ERR_CRASHED;
}

static void
expect_status(const char* fault, const char* entry, pb_status_t st)
{
  const int audio = is(entry, "process");
  if (hangs(fault) || (is(fault, "memory") && audio && st == PB_ERR_TIMEOUT))
    assert_int_equal(st, PB_ERR_TIMEOUT);
  else if (is(fault, "garbage_fd") && !audio)
    assert_int_equal(st, PB_ERR_PROTOCOL);
  else if (death_of(fault, entry).signal || is(fault, "exit") ||
           is(fault, "_exit") || (is(fault, "close_fd") && !audio))
    assert_int_equal(st, PB_ERR_CRASHED);
  else if (is(fault, "nan") || is(fault, "long_string") ||
           is(fault, "shm_garbage") || is(fault, "lie") || audio) {
    /* A race between the fault and the host noticing it (the pipe closing
     * while a block is in flight) can end in other clean statuses; what
     * must hold is a real status, silence and a usable or crashed instance
     * afterwards (check_after).  Say which, so a drift shows in the log. */
    if (!(st == PB_OK || st == PB_ERR_CRASHED || st == PB_ERR_PROTOCOL ||
          st == PB_ERR_TIMEOUT))
      print_message(
        "note: %s at %s gave %s\n", fault, entry, pb_status_name(st));
    assert_true((int)st >= 0 && (int)st < PB_STATUS_COUNT);
  }
}

static cell_t
run_entry_cell(fixture_t* f, const char* fault, const char* entry)
{
  cell_t c = { PB_OK, 0.0, 0 };
  const int audio = is(entry, "process");
  pb_plugin_t* p = open_faulty(f, audio);
  void* chunk = NULL;
  size_t size = 0;
  assert_int_equal(pb_plugin_chunk_get(p, 0, &chunk, &size), PB_OK);
  arm(p, fault, entry);
  fx_audio_t a;
  const double t0 = fx_now_ms();
  if (audio)
    c.status = pb_plugin_process(p, fx_audio_block(&a, 0.5f));
  else
    c.status = call_entry(p, entry, chunk, size);
  c.detect_ms = fx_now_ms() - t0;
  pb_free(chunk);
  expect_status(fault, entry, c.status);
  if (audio && c.status != PB_OK)
    assert_true(a.out[0][3] == 0.0f); /* silenced */
  if (audio && is(fault, "nan") && c.status == PB_OK)
    assert_true(isnan(a.out[0][3]) && isinf(a.out[1][3]));
  check_after(p, fault, entry, &c);
  pb_plugin_close(p);
  return c;
}

static cell_t
run_close_cell(fixture_t* f, const char* fault)
{
  cell_t c = { PB_OK, 0.0, 0 };
  pb_plugin_t* p = open_faulty(f, 0);
  arm(p, fault, "close");
  const double t0 = fx_now_ms();
  pb_plugin_close(p);
  c.detect_ms = fx_now_ms() - t0;
  /* A bridge that hangs in close is given the call timeout, no more. */
  assert_true(c.detect_ms < CALL_TIMEOUT_MS + 1500.0);
  return c;
}

static cell_t
run_open_cell(fixture_t* f, const char* fault)
{
  cell_t c = { PB_OK, 0.0, 0 };
  char name[64];
  (void)snprintf(name, sizeof name, "pb_test_faulty_open_%s", fault);
  const char* path = fx_test_plugin(name);
  assert_non_null(path);
  pb_plugin_t* p = NULL;
  const double t0 = fx_now_ms();
  c.status = fx_open(f, path, &p);
  c.detect_ms = fx_now_ms() - t0;
  if (hangs(fault))
    assert_int_equal(c.status, PB_ERR_TIMEOUT);
  else if (is(fault, "garbage_fd"))
    assert_int_equal(c.status, PB_ERR_PROTOCOL);
  else if (fatal(fault) || is(fault, "exit") || is(fault, "_exit") ||
           is(fault, "killpg"))
    assert_int_equal(c.status, PB_ERR_CRASHED);
  /* The load error carries the note for a fault signal. */
  if (death_of(fault, "open").note == 1 && death_of(fault, "open").signal &&
      death_of(fault, "open").signal[0])
    assert_true(
      fx_contains(pb_host_last_error(f->host), "plugbox-crash: sig="));
  c.crashed = c.status != PB_OK;
  if (p)
    pb_plugin_close(p);
  assert_true(c.detect_ms < LOAD_TIMEOUT_MS + 1500.0);
  return c;
}

static void
print_cell(const char* fault, const char* entry, const cell_t* c)
{
  printf("| %-11s | %-13s | %-9s | %7.1f ms |%s\n",
         fault,
         entry,
         is(entry, "close") ? "-" : pb_status_name(c->status),
         c->detect_ms,
         c->crashed ? " crashed" : "");
}

static void
matrix_of(void** state, const char* const* which, size_t n)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  isolation_opts(f);
  /* libuv opens a reserve fd on the first bridge; count after it. */
  pb_plugin_close(open_faulty(f, 0));
  const int n_fds = fx_count_fds();
  const int n_threads = fx_count_dir("/proc/self/task");
  for (size_t i = 0; i < n; ++i)
    for (size_t e = 0; e < N_ENTRIES; ++e) {
      cell_t c;
      if (is(entries[e], "open"))
        c = run_open_cell(f, which[i]);
      else if (is(entries[e], "close"))
        c = run_close_cell(f, which[i]);
      else
        c = run_entry_cell(f, which[i], entries[e]);
      print_cell(which[i], entries[e], &c);
      assert_no_leaks(n_fds, n_threads);
    }
  fflush(stdout);
}

static void
matrix_rows(void** state, size_t first, size_t last)
{
  if (last > N_FAULTS)
    last = N_FAULTS;
  matrix_of(state, faults + first, last - first);
}

static void
matrix_i386_subset(void** state)
{
  matrix_of(state, i386_faults, sizeof i386_faults / sizeof i386_faults[0]);
}

static void
matrix_under_strict(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  f->opts.sandbox = PB_SANDBOX_STRICT;
  matrix_of(state,
            strict_faults,
            i386_mode ? N_STRICT_FAULTS_I386
                      : sizeof strict_faults / sizeof strict_faults[0]);
}

static void
matrix_signals(void** state)
{
  matrix_rows(state, 0, 5);
}

static void
matrix_exits_and_resources(void** state)
{
  matrix_rows(state, 5, 9);
}

static void
matrix_hangs(void** state)
{
  matrix_rows(state, 9, 11);
}

static void
matrix_channels(void** state)
{
  matrix_rows(state, 11, 14);
}

static void
matrix_lies(void** state)
{
  matrix_rows(state, 14, 17);
}

static void
matrix_group_kill_and_stop(void** state)
{
  matrix_rows(state, 17, N_FAULTS);
}

/* ------------------------------------------- death on the audio path */

/* Fork a child that sends SIGKILL to `pid` at `at_ms` (CLOCK_MONOTONIC,
 * sleeping until that absolute time, so an interrupted sleep cannot make
 * it early) and writes the instant of its kill() call into `fd`. */
static pid_t
fork_killer(pid_t pid, double at_ms, int fd)
{
  const pid_t child = fork();
  if (child != 0)
    return child;
  const struct timespec ts = { (time_t)(at_ms / 1000.0),
                               (long)(fmod(at_ms, 1000.0) * 1e6) };
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
  const double t = fx_now_ms();
  (void)kill(pid, SIGKILL);
  (void)!write(fd, &t, sizeof t);
  _exit(0);
}

/* A bridge killed while a process call waits: the call returns
 * PB_ERR_CRASHED as soon as the host's I/O thread sees the pidfd fire.
 * The figure is printed; the bound is generous for noisy machines. */
static void
death_during_process_is_noticed_within_a_millisecond(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  isolation_opts(f);
  double worst = 0.0, sum = 0.0;
  enum
  {
    N = 10
  };
  for (int i = 0; i < N; ++i) {
    pb_plugin_t* p = open_faulty(f, 1);
    assert_int_equal(pb_plugin_set_process_timeout_us(p, 5000000), PB_OK);
    fx_audio_t a;
    assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)), PB_OK);
    /* The plugin sleeps in process; SIGKILL comes 20 ms later. */
    arm(p, "sleep", "process");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    const pid_t killer =
      fork_killer((pid_t)pb_plugin_pid(p), fx_now_ms() + 20.0, fds[1]);
    assert_true(killer > 0);
    assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)),
                     PB_ERR_CRASHED);
    const double returned = fx_now_ms();
    double killed = 0.0;
    assert_int_equal(read(fds[0], &killed, sizeof killed),
                     (ssize_t)sizeof killed);
    assert_int_equal(waitpid(killer, NULL, 0), killer);
    close(fds[0]);
    close(fds[1]);
    const double late = returned - killed;
    assert_true(late >= 0.0);
    sum += late;
    worst = late > worst ? late : worst;
    pb_plugin_close(p);
  }
  printf("death during process: the call returned %.3f ms after kill() on "
         "average, %.3f ms at worst (%d kills)\n",
         sum / N,
         worst,
         N);
  assert_true(worst < 50.0);
}

/* ------------------------------------------------ the hang watch */

/* A plugin that hangs in process and makes the shared doorbell words
 * agree, as if nothing were pending, is still killed: the watch compares
 * the done word with the host's own number. */
static void
hang_hidden_in_the_shared_block_is_still_killed(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  isolation_opts(f);
  pb_plugin_t* p = open_faulty(f, 1);
  fx_audio_t a;
  assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)), PB_OK);
  arm(p, "hide_hang", "process");
  const pb_status_t st = pb_plugin_process(p, fx_audio_block(&a, 0.5f));
  assert_true(st == PB_ERR_TIMEOUT || st == PB_ERR_PROTOCOL);
  pb_crash_t cr;
  const double t0 = fx_now_ms();
  do {
    fx_sleep_ms(10);
    pb_plugin_crash(p, &cr);
  } while (!cr.crashed && fx_now_ms() - t0 < 3000.0);
  assert_int_equal(cr.crashed, 1);
  assert_non_null(strstr(cr.reason, "unanswered"));
  assert_string_equal(cr.signal_name, "SIGKILL");
  pb_plugin_close(p);
}

/* A plugin that scribbles on the done word while no block is pending
 * is not taken for a hung one: nothing was sent that it could owe. */
static void
hang_faked_in_the_shared_block_is_not_killed(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  isolation_opts(f);
  pb_plugin_t* p = open_faulty(f, 1);
  fx_audio_t a;
  assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)), PB_OK);
  arm(p, "fake_hang", "param_set");
  assert_int_equal(pb_plugin_param_set(p, 1, 0.5f), PB_OK);
  fx_sleep_ms(4 * AUDIO_HANG_MS);
  pb_crash_t cr;
  pb_plugin_crash(p, &cr);
  assert_int_equal(cr.crashed, 0);
  /* The bridge keeps its own count: the next block is answered. */
  assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)), PB_OK);
  assert_true(a.out[0][5] == 0.5f && a.out[1][5] == 0.5f);
  fx_sleep_ms(2 * AUDIO_HANG_MS);
  pb_plugin_crash(p, &cr);
  assert_int_equal(cr.crashed, 0);
  pb_plugin_close(p);
}

/* ---------------------------------------------------------- restarts */

static void
restart_restores_parameters_program_and_chunk(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  isolation_opts(f);
  pb_plugin_t* p = open_faulty(f, 1);
  /* Program 2's values come in with the snapshot's bank chunk; program 3
   * and Level are set after it and replayed on top. */
  assert_int_equal(pb_plugin_program_set(p, 2), PB_OK);
  assert_int_equal(pb_plugin_param_set(p, 1, 0.125f), PB_OK);
  assert_int_equal(pb_plugin_snapshot(p), PB_OK);
  assert_int_equal(pb_plugin_program_set(p, 3), PB_OK);
  assert_int_equal(pb_plugin_param_set(p, 0, 0.25f), PB_OK);
  void* before = NULL;
  size_t before_size = 0;
  assert_int_equal(pb_plugin_chunk_get(p, 0, &before, &before_size), PB_OK);
  const pid_t old_pid = pb_plugin_pid(p);

  arm(p, "segv", "process");
  fx_audio_t a;
  assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)),
                   PB_ERR_CRASHED);
  assert_int_equal(pb_plugin_program_set(p, 0), PB_ERR_CRASHED);
  assert_int_equal(pb_plugin_restart(p), PB_OK);
  assert_true(pb_plugin_pid(p) != old_pid && pb_plugin_pid(p) > 0);
  pb_crash_t cr;
  pb_plugin_crash(p, &cr);
  assert_int_equal(cr.crashed, 0);
  assert_int_equal(cr.n_restarts, 1);

  int32_t program = -1;
  assert_int_equal(pb_plugin_program_get(p, &program), PB_OK);
  assert_int_equal(program, 3);
  float v = 0.0f;
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_OK);
  assert_true(v == 0.25f);
  void* after = NULL;
  size_t after_size = 0;
  assert_int_equal(pb_plugin_chunk_get(p, 0, &after, &after_size), PB_OK);
  assert_int_equal(after_size, before_size);
  assert_memory_equal(after, before, before_size);
  pb_free(after);
  pb_free(before);
  /* Program 2 kept the value set before the snapshot. */
  assert_int_equal(pb_plugin_program_set(p, 2), PB_OK);
  assert_int_equal(pb_plugin_param_get(p, 1, &v, NULL, 0), PB_OK);
  assert_true(v == 0.125f);
  assert_int_equal(pb_plugin_program_set(p, 3), PB_OK);
  /* On and processing again: Level 0.25 is a gain of 0.5. */
  assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)), PB_OK);
  assert_true(a.out[0][7] == 0.25f && a.out[1][7] == 0.25f);
  pb_plugin_close(p);
}

/* The block after a pause goes to the bridge's standby thread (on this
 * CPU, the audio thread asleep): a crash there reads the same, and the
 * restarted bridge's standby takes over the shared block's words. */
static void
crash_in_a_standby_block_is_reported_and_restarted(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  isolation_opts(f);
  if (!pb_test_pin_here())
    skip();
  pb_plugin_t* p = open_faulty(f, 1);
  /* Level 0.75, a gain of 1.5, is replayed on restart. */
  assert_int_equal(pb_plugin_param_set(p, 0, 0.75f), PB_OK);
  fx_audio_t a;
  pb_audio_stats_t st;
  /* The first block tells the standby where to wait. */
  assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)), PB_OK);
  arm(p, "segv", "process");
  fx_sleep_ms(60);
  assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)),
                   PB_ERR_CRASHED);
  assert_int_equal(pb_plugin_audio_stats(p, &st), PB_OK);
  const uint64_t standby = st.standby;
  pb_crash_t cr;
  pb_plugin_crash(p, &cr);
  assert_int_equal(cr.crashed, 1);
  assert_string_equal(cr.signal_name, "SIGSEGV");
  assert_int_equal(cr.has_note, 1);
  assert_string_equal(cr.call, "process");
  assert_int_equal(pb_plugin_restart(p), PB_OK);
  for (int i = 0; i < 2; ++i) {
    fx_sleep_ms(60);
    assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)), PB_OK);
    assert_true(a.out[0][3] == 0.75f);
  }
  assert_int_equal(pb_plugin_audio_stats(p, &st), PB_OK);
  pb_plugin_close(p);
  assert_int_equal(pb_test_unpin(), 0);
  assert_int_equal(standby, 1);
  /* The second block after the restart, at the latest, is the new
   * standby's. */
  assert_true(st.standby >= 2);
}

static void
hundred_crash_restart_cycles_in_a_row(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  isolation_opts(f);
  pb_plugin_close(open_faulty(f, 0));
  const int n_fds = fx_count_fds();
  const int n_threads = fx_count_dir("/proc/self/task");
  pb_plugin_t* p = open_faulty(f, 1);
  /* Every cycle is a death, noticed through the pidfd; a long deadline
   * keeps a slow death (an ASan bridge symbolizing its report on a loaded
   * machine takes longer than 100 ms) from reading as a hang. */
  assert_int_equal(pb_plugin_set_process_timeout_us(p, 10000000u), PB_OK);
  assert_int_equal(pb_plugin_param_set(p, 0, 0.75f), PB_OK);
  static const char* const cycle[] = { "segv", "abort", "exit", "killpg" };
  double restart_sum = 0.0, restart_max = 0.0;
  fx_audio_t a;
  for (int i = 0; i < 100; ++i) {
    arm(p, cycle[i % 4], "process");
    assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)),
                     PB_ERR_CRASHED);
    const double t0 = fx_now_ms();
    assert_int_equal(pb_plugin_restart(p), PB_OK);
    assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)), PB_OK);
    const double t = fx_now_ms() - t0;
    restart_sum += t;
    restart_max = t > restart_max ? t : restart_max;
    assert_true(a.out[0][0] == 0.75f);
  }
  pb_crash_t cr;
  pb_plugin_crash(p, &cr);
  assert_int_equal(cr.n_restarts, 100);
  printf("restart to audio again: %.1f ms on average, %.1f ms at worst "
         "(100 cycles)\n",
         restart_sum / 100.0,
         restart_max);
  pb_plugin_close(p);
  assert_no_leaks(n_fds, n_threads);
}

static void
auto_restart_is_bounded_and_backs_off(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  isolation_opts(f);
  f->opts.auto_restart = 1;
  f->opts.restart_max = 2;
  f->opts.restart_backoff_ms = 200; /* wide: loaded CI machines stall */
  pb_plugin_t* p = open_faulty(f, 1);
  assert_int_equal(pb_plugin_param_set(p, 0, 0.25f), PB_OK);
  float v = 0.0f;
  fx_audio_t a;
  for (int i = 0; i < 3; ++i) {
    arm(p, "segv", "param_display");
    assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_ERR_CRASHED);
    /* Inside the back-off the plugin stays crashed. */
    assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_ERR_CRASHED);
    fx_sleep_ms((long)(200u << i) + 30);
    const pb_status_t st = pb_plugin_param_get(p, 0, &v, NULL, 0);
    if (i < 2) {
      assert_int_equal(st, PB_OK); /* restarted before the call */
      assert_true(v == 0.25f);
      assert_int_equal(pb_plugin_process(p, fx_audio_block(&a, 0.5f)), PB_OK);
      assert_true(a.out[0][0] == 0.25f);
    } else {
      assert_int_equal(st, PB_ERR_CRASHED); /* restart_max reached */
    }
  }
  pb_crash_t cr;
  pb_plugin_crash(p, &cr);
  assert_int_equal(cr.crashed, 1);
  assert_int_equal(cr.n_restarts, 2);
  /* An explicit restart still works and resets the count. */
  assert_int_equal(pb_plugin_restart(p), PB_OK);
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_OK);
  pb_plugin_close(p);
}

static void
snapshot_before_risky_calls_survives_a_bad_chunk(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  isolation_opts(f);
  f->opts.snapshot_before_risky = 1;
  pb_plugin_t* p = open_faulty(f, 0);
  assert_int_equal(pb_plugin_param_set(p, 0, 0.625f), PB_OK);
  void* chunk = NULL;
  size_t size = 0;
  assert_int_equal(pb_plugin_chunk_get(p, 0, &chunk, &size), PB_OK);
  arm(p, "abort", "chunk_set");
  assert_int_equal(pb_plugin_chunk_set(p, 0, chunk, size), PB_ERR_CRASHED);
  pb_free(chunk);
  assert_int_equal(pb_plugin_restart(p), PB_OK);
  float v = 0.0f;
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_OK);
  assert_true(v == 0.625f);
  pb_plugin_close(p);
}

static void
restart_and_snapshot_check_arguments(void** state)
{
  (void)state;
  assert_int_equal(pb_plugin_restart(NULL), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_snapshot(NULL), PB_ERR_INVALID);
  pb_open_opts_t o;
  pb_open_opts_init(&o);
  assert_int_equal(o.auto_restart, 0);
  assert_int_equal(o.restart_max, 3);
  assert_true(o.audio_hang_ms > 0);
}

/* The note is read as untrusted text (host/crash_note.c, compiled into
 * this test: the library hides it). */
static void
crash_note_parse_reads_fields_and_survives_garbage(void** state)
{
  (void)state;
  pb_crash_t cr;
  memset(&cr, 0, sizeof cr);
  pb_crash_note_parse("hello\nworld\n\nplugbox-crash: sig=SIGBUS addr=0x1f "
                      "pc=0x7f0000001234 call=chunk_set module=/a b/p.so+0x"
                      "1234 code=2\nafter\n",
                      &cr);
  assert_int_equal(cr.has_note, 1);
  assert_string_equal(cr.signal_name, "SIGBUS");
  assert_true(cr.fault_address == 0x1f && cr.pc == 0x7f0000001234u);
  assert_string_equal(cr.call, "chunk_set");
  assert_string_equal(cr.module, "/a b/p.so");
  assert_true(cr.module_offset == 0x1234);
  assert_string_equal(cr.last_log, "hello\nworld");
  /* Idle ("-"), no module, a kept call name. */
  memset(&cr, 0, sizeof cr);
  strcpy(cr.call, "param_get");
  pb_crash_note_parse("plugbox-crash: sig=exit addr=0x0 pc=0x0 call=- "
                      "module=? code=0",
                      &cr);
  assert_int_equal(cr.has_note, 1);
  assert_string_equal(cr.call, "param_get");
  assert_string_equal(cr.signal_name, "");
  assert_string_equal(cr.module, "");
  /* Not a note: mid-line, truncated, garbage, overlong. */
  static const char* const bad[] = {
    "x plugbox-crash: sig=SIGSEGV",
    "plugbox-crash:",
    "plugbox-crash: sig= addr=zz pc= call= module=+ code=",
    "",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    memset(&cr, 0, sizeof cr);
    pb_crash_note_parse(bad[i], &cr);
    assert_true(cr.module[0] == '\0' && cr.call[0] == '\0');
  }
  char big[4096];
  memset(big, 'A', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  memcpy(big, "plugbox-crash: sig=", 19);
  memset(&cr, 0, sizeof cr);
  pb_crash_note_parse(big, &cr);
  assert_int_equal(cr.has_note, 1);
  assert_true(strlen(cr.signal_name) < sizeof cr.signal_name);
}

static void
bridge_runs_in_its_own_process_group(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  FX_NEED(fx_test_plugin("pb_test_faulty"));
  isolation_opts(f);
  pb_plugin_t* p = open_faulty(f, 0);
  const pid_t pid = (pid_t)pb_plugin_pid(p);
  assert_int_equal(getpgid(pid), pid);
  assert_true(getpgid(pid) != getpgid(0));
  pb_plugin_close(p);
}

/* The i386 run's plugins and bridge; NULL if all there, else what is
 * missing. */
static const char*
i386_missing(void)
{
  static char bridge[1024];
  const char* bin = getenv("PB_BIN_DIR");
  (void)snprintf(
    bridge, sizeof bridge, "%s/plugbox-bridge-32", bin ? bin : "bin");
  if (access(bridge, X_OK) != 0)
    return bridge;
  if (!fx_test_plugin("pb_test_faulty"))
    return "the -m32 test plugins (pb_test_faulty.so in "
           "$PB_TEST_PLUGIN_DIR_32)";
  return NULL;
}

static void
i386_absent(void** state)
{
  (void)state;
  print_message("i386 isolation skipped: %s absent (the i386 libraries: "
                "scripts/install-deps.sh)\n",
                i386_missing());
  skip();
}

static int
run_i386(void)
{
  const char* dir = getenv("PB_TEST_PLUGIN_DIR_32");
  if (dir && dir[0] && setenv("PB_TEST_PLUGIN_DIR", dir, 1) != 0)
    return 1;
  i386_mode = 1;
  const struct CMUnitTest absent[] = { cmocka_unit_test(i386_absent) };
  if (!dir || !dir[0] || i386_missing())
    return cmocka_run_group_tests_name("isolation_i386", absent, NULL, NULL);
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    T(bridge_runs_in_its_own_process_group),
    T(matrix_i386_subset),
    T(matrix_under_strict),
    T(death_during_process_is_noticed_within_a_millisecond),
    T(restart_restores_parameters_program_and_chunk),
    T(crash_in_a_standby_block_is_reported_and_restarted),
#undef T
  };
  return cmocka_run_group_tests_name(
    "isolation_i386", tests, fx_group_setup, NULL);
}

int
main(int argc, char** argv)
{
  if (argc == 2 && is(argv[1], "--i386"))
    return run_i386();
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    T(restart_and_snapshot_check_arguments),
    T(crash_note_parse_reads_fields_and_survives_garbage),
    T(bridge_runs_in_its_own_process_group),
    T(matrix_signals),
    T(matrix_exits_and_resources),
    T(matrix_hangs),
    T(matrix_channels),
    T(matrix_lies),
    T(matrix_group_kill_and_stop),
    T(matrix_under_strict),
    T(death_during_process_is_noticed_within_a_millisecond),
    T(hang_hidden_in_the_shared_block_is_still_killed),
    T(hang_faked_in_the_shared_block_is_not_killed),
    T(restart_restores_parameters_program_and_chunk),
    T(crash_in_a_standby_block_is_reported_and_restarted),
    T(hundred_crash_restart_cycles_in_a_row),
    T(auto_restart_is_bounded_and_backs_off),
    T(snapshot_before_risky_calls_survives_a_bad_chunk),
#undef T
  };
  return cmocka_run_group_tests_name("isolation", tests, fx_group_setup, NULL);
}
