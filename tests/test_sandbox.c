/* The bridge's sandbox through libplugbox: the hostile test plugin tries
 * every forbidden action under each profile and says what happened in its
 * product string; real plugins must describe themselves identically
 * confined or not; the report names every layer.
 *
 * Under `off` the same actions must succeed, which proves these tests can
 * fail.  A few depend on the machine rather than the sandbox (reading
 * /etc/shadow needs root, raising a hard limit needs CAP_SYS_RESOURCE, a
 * 20000-file hard limit caps the file count): those are checked under
 * `off` only where this process itself can do them.
 *
 * Run as root, the test re-executes itself as uid 65534 for the hostile
 * matrix, so one CI run covers both the bridge that drops root and the
 * one an ordinary user starts.
 *
 * With --i386 (ctest's test_sandbox_i386) the hostile matrix runs through
 * plugbox-bridge-32 with the -m32 build of the hostile plugin
 * ($PB_TEST_PLUGIN_DIR_32); it skips, saying why, without them. */
#define _GNU_SOURCE /* setresuid, setgroups */

#include "host_fixture.h"

#include "proto/message.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#define NOFILE_LIMIT 1024 /* the sandbox's RLIMIT_NOFILE */
#define NOBODY 65534      /* the unprivileged user of the second run */

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

/* Actions every strict bridge must deny, whatever the machine. */
static const char* const forbidden[] = {
  "tcp",
  "udp",
  "unix",
  "exec",
  "fork",
  "ptrace",
  "kill_host",
  "kill_group",
  "kill_host_group",
  "fcntl_owner_host",
  "ioctl_owner_host",
  "caps",
  "affinity_host",
  "nice_host",
  "sched_host",
  "see_host_tmp",
  "chmod_plugin",
  "write_home",
  "write_plugin_dir",
  "read_shadow",
  "list_root",
  "read_host_proc",
  "raise_nofile",
  "unlisted_syscall",
  "undo_pdeathsig",
  "ptracer_any",
  "tiocsti",
  "rt_self",
};

/* Layers the report must name, each applied or unavailable. */
static const char* const layers[] = {
  "fds",   "env",       "rlimit",       "uid",      "userns",
  "netns", "ipcns",     "pidns",        "mountns",  "nproc",
  "caps",  "pdeathsig", "no_new_privs", "landlock", "seccomp",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* --i386: the hostile plugin is the -m32 build, which skips the memory
 * action (no 8 GiB to reserve in 32 bits). */
static int i386_mode;
#define CHECK_MEMORY (!SANITIZED && !i386_mode)

/* A file in the host's /tmp that the hostile plugin looks for
 * (see_host_tmp); made by the group setup if missing. */
#define TMP_MARKER "/tmp/pb-hostile-marker"
static int made_marker;

static int
group_setup(void** state)
{
  const int fd =
    open(TMP_MARKER, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  made_marker = fd >= 0;
  if (fd >= 0)
    (void)close(fd);
  else if (access(TMP_MARKER, F_OK) < 0)
    return -1;
  return fx_group_setup(state);
}

static int
group_teardown(void** state)
{
  (void)state;
  if (made_marker)
    (void)unlink(TMP_MARKER);
  return 0;
}

/* --------------------------------------------------------------- helpers */

static pb_plugin_t*
open_ok(fixture_t* f, const char* path)
{
  pb_plugin_t* p = NULL;
  const pb_status_t st = fx_open(f, path, &p);
  if (st != PB_OK)
    print_error("open %s: %s: %s\n",
                path,
                pb_status_name(st),
                pb_host_last_error(f->host));
  assert_int_equal(st, PB_OK);
  return p;
}

/* The outcome of `action` in the hostile plugin's product string, copied
 * into `out` ("allowed", "denied:EPERM", "1012"). */
static void
outcome(const char* product, const char* action, char* out, size_t cap)
{
  char key[64];
  (void)snprintf(key, sizeof key, " %s=", action);
  char padded[800];
  (void)snprintf(padded, sizeof padded, " %s", product);
  const char* at = strstr(padded, key);
  if (!at)
    print_error("no %s in \"%s\"\n", action, product);
  assert_non_null(at);
  at += strlen(key);
  const size_t n = strcspn(at, " ");
  assert_true(n < cap);
  memcpy(out, at, n);
  out[n] = '\0';
}

static int
is_denied(const char* product, const char* action)
{
  char what[64];
  outcome(product, action, what, sizeof what);
  return !strncmp(what, "denied:", 7);
}

static int
is_allowed(const char* product, const char* action)
{
  char what[64];
  outcome(product, action, what, sizeof what);
  if (strcmp(what, "allowed"))
    print_error("%s: %s\n", action, what);
  return !strcmp(what, "allowed");
}

static long
files_opened(const char* product)
{
  char what[64];
  outcome(product, "files", what, sizeof what);
  return strtol(what, NULL, 10);
}

/* Open the hostile plugin under `profile` and copy its outcomes: its
 * product string, then its vendor string. */
static void
run_hostile(fixture_t* f, int profile, char* product, size_t cap)
{
  const char* path = fx_test_plugin("pb_test_hostile");
  FX_NEED(path);
  f->opts.sandbox = profile;
  pb_plugin_t* p = open_ok(f, path);
  if (i386_mode)
    assert_string_equal(pb_plugin_info(p)->arch, "i386");
  (void)snprintf(product,
                 cap,
                 "%s %s",
                 pb_plugin_info(p)->product,
                 pb_plugin_info(p)->vendor);
  pb_plugin_close(p);
}

/* ----------------------------------------------------------------- tests */

static void
strict_denies_every_hostile_action(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  char product[800];
  run_hostile(f, PB_SANDBOX_STRICT, product, sizeof product);
  for (size_t i = 0; i < N_OF(forbidden); ++i) {
    if (!is_denied(product, forbidden[i]))
      print_error("strict let %s through: %s\n", forbidden[i], product);
    assert_true(is_denied(product, forbidden[i]));
  }
  assert_true(files_opened(product) < NOFILE_LIMIT);
  if (CHECK_MEMORY)
    assert_true(is_denied(product, "memory"));
  /* Scheduling calls: at pid 0 or our own pid allowed, at any other pid
   * denied, our own other threads included (docs/sandbox.md). */
  assert_true(is_allowed(product, "affinity_self"));
  assert_true(is_denied(product, "affinity_thread"));
  /* The host is unharmed: still here, and its files untouched. */
  assert_int_equal(kill(getpid(), 0), 0);
}

static void
off_allows_what_the_machine_allows(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  char product[800];
  char dir[512];
  run_hostile(f, PB_SANDBOX_OFF, product, sizeof product);
  static const char* const always[] = {
    "tcp",
    "udp",
    "unix",
    "exec",
    "fork",
    "kill_host",
    "kill_group",
    "kill_host_group",
    "fcntl_owner_host",
    "ioctl_owner_host",
    "affinity_host",
    "nice_host",
    "sched_host",
    "affinity_self",
    "affinity_thread",
    "write_tmp",
    "see_host_tmp",
    "read_host_proc",
    "unlisted_syscall",
    "undo_pdeathsig",
    "ptracer_any",
    "tiocsti",
  };
  for (size_t i = 0; i < N_OF(always); ++i)
    assert_true(is_allowed(product, always[i]));
  /* Real-time scheduling: with CAP_SYS_NICE (root, usually) or a
   * real-time limit, which off leaves as it found it. */
  struct rlimit rt;
  assert_int_equal(getrlimit(RLIMIT_RTPRIO, &rt), 0);
  if (fx_has_cap(FX_CAP_SYS_NICE) || rt.rlim_cur >= 1)
    assert_true(is_allowed(product, "rt_self"));
  if (access("/etc/shadow", R_OK) == 0)
    assert_true(is_allowed(product, "read_shadow"));
  if (access("/root", R_OK | X_OK) == 0)
    assert_true(is_allowed(product, "list_root"));
  struct stat st;
  assert_int_equal(stat(fx_test_plugin("pb_test_hostile"), &st), 0);
  if (getuid() == 0 || st.st_uid == getuid())
    assert_true(is_allowed(product, "chmod_plugin"));
  if (getuid() == 0)
    assert_true(is_allowed(product, "caps"));
  (void)snprintf(dir, sizeof dir, "%s", fx_test_plugin("pb_test_hostile"));
  *strrchr(dir, '/') = '\0';
  if (access(dir, W_OK) == 0)
    assert_true(is_allowed(product, "write_plugin_dir"));
  if (CHECK_MEMORY)
    assert_true(is_allowed(product, "memory"));
  assert_true(files_opened(product) > NOFILE_LIMIT);
}

/* With a mount namespace, /tmp is a private tmpfs: writable, and empty
 * of the host's files.  Without one, Landlock keeps /tmp closed. */
static void
strict_tmp_is_private_or_closed(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* path = fx_test_plugin("pb_test_hostile");
  FX_NEED(path);
  char report[4096];
  char product[800];
  f->opts.sandbox = PB_SANDBOX_STRICT;
  pb_plugin_t* p = open_ok(f, path);
  if (i386_mode)
    assert_string_equal(pb_plugin_info(p)->arch, "i386");
  (void)snprintf(product, sizeof product, "%s", pb_plugin_info(p)->product);
  assert_int_equal(pb_plugin_sandbox_report(p, report, sizeof report), PB_OK);
  pb_plugin_close(p);
  assert_true(is_denied(product, "see_host_tmp"));
  if (strstr(report, "/tmp private tmpfs")) {
    assert_true(fx_contains(report, "mountns: applied (view read-only"));
    assert_true(is_allowed(product, "write_tmp"));
  } else {
    assert_true(is_denied(product, "write_tmp"));
  }
}

static void
basic_limits_resources_only(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  char product[800];
  run_hostile(f, PB_SANDBOX_BASIC, product, sizeof product);
  assert_true(is_allowed(product, "exec"));
  assert_true(is_allowed(product, "write_tmp"));
  assert_true(files_opened(product) < NOFILE_LIMIT);
  if (CHECK_MEMORY)
    assert_true(is_denied(product, "memory"));
}

static void
report_names_every_layer(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* path = fx_test_plugin("pb_test_gain");
  FX_NEED(path);
  char report[4096];
  char line[96];
  f->opts.sandbox = PB_SANDBOX_STRICT;
  pb_plugin_t* p = open_ok(f, path);
  assert_int_equal(pb_plugin_sandbox_report(p, report, sizeof report), PB_OK);
  assert_true(fx_contains(report, "profile: strict\n"));
  for (size_t i = 0; i < N_OF(layers); ++i) {
    (void)snprintf(line, sizeof line, "\n%s: applied", layers[i]);
    const int applied = strstr(report, line) != NULL;
    (void)snprintf(line, sizeof line, "\n%s: unavailable: ", layers[i]);
    if (!applied && !strstr(report, line))
      print_error("no line for %s in:\n%s", layers[i], report);
    assert_true(applied || strstr(report, line));
  }
  /* A second call answers from the copy, the same text. */
  char again[4096];
  assert_int_equal(pb_plugin_sandbox_report(p, again, sizeof again), PB_OK);
  assert_string_equal(report, again);
  assert_int_equal(pb_plugin_sandbox_report(p, again, 0), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_sandbox_report(NULL, again, 8), PB_ERR_INVALID);
  pb_plugin_close(p);
}

static void
off_report_says_off(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* path = fx_test_plugin("pb_test_gain");
  FX_NEED(path);
  char report[4096];
  f->opts.sandbox = PB_SANDBOX_OFF;
  pb_plugin_t* p = open_ok(f, path);
  assert_int_equal(pb_plugin_sandbox_report(p, report, sizeof report), PB_OK);
  assert_true(fx_contains(report, "profile: off\n"));
  assert_true(fx_contains(report, "seccomp: off\n"));
  assert_false(strstr(report, "applied"));
  pb_plugin_close(p);
}

/* The writable folder is HOME and the one place the plugin may write. */
static void
writable_path_is_home_and_writable(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  char product[800];
  /* Root's bridge runs as nobody: the folder must let it in. */
  assert_int_equal(chmod(f->dir, 0777), 0);
  f->opts.writable_path = f->dir;
  run_hostile(f, PB_SANDBOX_STRICT, product, sizeof product);
  assert_true(is_allowed(product, "write_home"));
  assert_true(is_denied(product, "see_host_tmp"));
  assert_true(is_denied(product, "exec"));
}

/* int 0x80 in the 64-bit bridge is another architecture's syscall: the
 * filters trap it, the bridge dies of SIGSYS and the host says why.  Under
 * off the same call just runs. */
static void
foreign_syscall_kills_the_strict_bridge(void** state)
{
#if !defined(__x86_64__)
  skip();
#endif
  fixture_t* f = (fixture_t*)*state;
  const char* path = fx_test_plugin("pb_test_hostile");
  FX_NEED(path);
  pb_crash_t crash;
  f->opts.sandbox = PB_SANDBOX_STRICT;
  pb_plugin_t* p = open_ok(f, path);
  assert_int_equal(pb_plugin_set_active(p, 1), PB_ERR_CRASHED);
  pb_plugin_crash(p, &crash);
  assert_true(crash.crashed);
  assert_int_equal(crash.signal, SIGSYS);
  assert_true(fx_contains(crash.reason, "SIGSYS"));
  assert_true(
    fx_contains(crash.reason, "sandbox violation (i386 syscall 20: getpid)"));
  pb_plugin_close(p);
  f->opts.sandbox = PB_SANDBOX_OFF;
  p = open_ok(f, path);
  assert_int_equal(pb_plugin_set_active(p, 1), PB_OK);
  pb_plugin_close(p);
}

static void
bad_sandbox_options_are_invalid(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* path = fx_test_plugin("pb_test_gain");
  FX_NEED(path);
  pb_plugin_t* p = NULL;
  static const char* const relative[] = { "presets", NULL };
  f->opts.sandbox = 3;
  assert_int_equal(fx_open(f, path, &p), PB_ERR_INVALID);
  f->opts.sandbox = PB_SANDBOX_STRICT;
  f->opts.writable_path = "scratch";
  assert_int_equal(fx_open(f, path, &p), PB_ERR_INVALID);
  assert_true(fx_contains(pb_host_last_error(f->host), "absolute"));
  f->opts.writable_path = NULL;
  f->opts.extra_read_paths = relative;
  assert_int_equal(fx_open(f, path, &p), PB_ERR_INVALID);
  assert_null(p);
}

/* ------------------------------------------------------- pid namespace */

/* The hostile plugin's answer to canDo "hostile:WHAT[:PID]" (PID when
 * not 0): see tests/plugins/hostile.c. */
static int32_t
ask(pb_plugin_t* p, const char* what, long pid)
{
  char question[64];
  int32_t answer = 0;
  if (pid)
    (void)snprintf(question, sizeof question, "hostile:%s:%ld", what, pid);
  else
    (void)snprintf(question, sizeof question, "hostile:%s", what);
  assert_int_equal(pb_plugin_can_do(p, question, &answer), PB_OK);
  return answer;
}

/* Open `name` under strict; NULL (the test skipped) when this machine
 * gives the bridge no pid namespace.  Its report into `report`. */
static pb_plugin_t*
open_in_pidns(fixture_t* f, const char* name, char* report, size_t cap)
{
  const char* path = fx_test_plugin(name);
  FX_NEED(path);
  f->opts.sandbox = PB_SANDBOX_STRICT;
  pb_plugin_t* p = open_ok(f, path);
  assert_int_equal(pb_plugin_sandbox_report(p, report, cap), PB_OK);
  if (!strstr(report, "\npidns: applied")) {
    print_message("no pid namespace here:\n%s", report);
    pb_plugin_close(p);
    return NULL;
  }
  return p;
}

/* Under strict the plugin runs as pid 2 of a namespace of its own: the
 * host has no number there, and (with the namespace's own /proc) no
 * entry in /proc.  Under off, the same questions see the host. */
static void
strict_bridge_sees_no_host_process(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  char report[4096];
  const long host = (long)getpid();
  pb_plugin_t* p = open_in_pidns(f, "pb_test_hostile", report, sizeof report);
  if (!p)
    skip();
  assert_int_equal(ask(p, "pid", 0), 2);
  assert_true(pb_plugin_pid(p) != 2);
  assert_int_equal(ask(p, "sched", host), ESRCH);
  assert_int_equal(ask(p, "kill", host), EPERM); /* seccomp */
  if (strstr(report, "/proc of the pid namespace")) {
    assert_int_equal(ask(p, "proc", host), ENOENT);
    /* Landlock does not let it list /proc; without Landlock it would see
     * init and itself. */
    const int32_t n = ask(p, "procs", 0);
    assert_true(n == -EACCES || (n >= 1 && n <= 2));
  }
  pb_plugin_close(p);

  f->opts.sandbox = PB_SANDBOX_OFF;
  p = open_ok(f, fx_test_plugin("pb_test_hostile"));
  assert_int_equal(ask(p, "pid", 0), pb_plugin_pid(p));
  assert_int_equal(ask(p, "sched", host), 0);
  assert_int_equal(ask(p, "kill", host), 0);
  assert_int_equal(ask(p, "proc", host), 0);
  assert_true(ask(p, "procs", 0) > 2);
  pb_plugin_close(p);
}

/* The parent of `pid` from /proc/PID/stat and its state letter; 0 if
 * gone. */
static pid_t
parent_of(long pid, char* state)
{
  char path[64];
  char line[512];
  (void)snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE* f = fopen(path, "re");
  if (!f)
    return 0;
  const size_t n = fread(line, 1, sizeof line - 1, f);
  (void)fclose(f);
  line[n] = '\0';
  const char* at = strrchr(line, ')');
  int ppid = 0;
  if (!at || sscanf(at + 1, " %c %d", state, &ppid) != 2)
    return 0;
  return (pid_t)ppid;
}

/* The descendants of `root` (by /proc), at most `cap`; their count. */
static size_t
descendants(pid_t root, pid_t* out, size_t cap)
{
  size_t n = 0;
  for (int changed = 1; changed;) {
    changed = 0;
    DIR* dir = opendir("/proc");
    assert_non_null(dir);
    const struct dirent* e = NULL;
    while ((e = readdir(dir)) && n < cap) {
      const long pid = strtol(e->d_name, NULL, 10);
      char state = '?';
      const pid_t parent = pid > 0 ? parent_of(pid, &state) : 0;
      int known = 0;
      for (size_t i = 0; i < n; ++i)
        known |= out[i] == (pid_t)pid;
      int ours = parent == root;
      for (size_t i = 0; i < n; ++i)
        ours |= parent == out[i];
      if (ours && !known) {
        out[n++] = (pid_t)pid;
        changed = 1;
      }
    }
    (void)closedir(dir);
  }
  return n;
}

/* Gone, or a zombie nobody has reaped yet (the machine's init reaps the
 * orphans): within 2 s. */
static int
ends_soon(pid_t pid)
{
  for (int i = 0; i < 400; ++i) {
    char state = '?';
    if (!parent_of(pid, &state) || state == 'Z' || state == 'X')
      return 1;
    fx_sleep_ms(5);
  }
  return 0;
}

/* The host's hang watchdog kills the process it spawned, the supervisor:
 * init dies with it (PR_SET_PDEATHSIG) and the worker with init (the
 * namespace dies with its pid 1). */
static void
killed_strict_bridge_leaves_no_process(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  char report[4096];
  pb_crash_t crash;
  float v = 0.0f;
  pb_plugin_t* p = open_in_pidns(f, "pb_test_gain", report, sizeof report);
  if (!p)
    skip();
  const pid_t bridge = (pid_t)pb_plugin_pid(p);
  pid_t kids[8];
  const size_t n = descendants(bridge, kids, 8);
  assert_int_equal(n, 2); /* init and the worker */
  assert_int_equal(kill(bridge, SIGKILL), 0);
  /* The I/O thread reaps the supervisor on its own; the worker dies a
   * moment later (after init), so a call right now may still be answered. */
  for (int i = 0; i < 400 && pb_plugin_pid(p) != 0; ++i)
    fx_sleep_ms(5);
  assert_int_equal(pb_plugin_pid(p), 0);
  for (size_t i = 0; i < n; ++i)
    assert_true(ends_soon(kids[i]));
  assert_int_equal(pb_plugin_param_get(p, 0, &v, NULL, 0), PB_ERR_CRASHED);
  pb_plugin_crash(p, &crash);
  assert_int_equal(crash.signal, SIGKILL);
  pb_plugin_close(p);
}

/* -------------------------------------------------------- real plugins */

static void
assert_same_info(const pb_info_t* a, const pb_info_t* b)
{
  assert_string_equal(a->name, b->name);
  assert_string_equal(a->vendor, b->vendor);
  assert_string_equal(a->product, b->product);
  assert_int_equal(a->unique_id, b->unique_id);
  assert_int_equal(a->n_inputs, b->n_inputs);
  assert_int_equal(a->n_outputs, b->n_outputs);
  assert_int_equal(a->n_params, b->n_params);
  assert_int_equal(a->n_programs, b->n_programs);
  for (int32_t i = 0; i < a->n_params; ++i) {
    assert_string_equal(a->params[i].name, b->params[i].name);
    assert_string_equal(a->params[i].display, b->params[i].display);
    assert_true(a->params[i].value == b->params[i].value);
  }
  for (int32_t i = 0; i < a->n_programs; ++i)
    assert_string_equal(a->program_names[i], b->program_names[i]);
}

static void
real_plugin_same_under_strict_and_off(fixture_t* f, const char* path)
{
  FX_NEED(path);
  f->opts.sandbox = PB_SANDBOX_STRICT;
  pb_plugin_t* strict = open_ok(f, path);
  f->opts.sandbox = PB_SANDBOX_OFF;
  pb_plugin_t* off = open_ok(f, path);
  assert_same_info(pb_plugin_info(strict), pb_plugin_info(off));
  pb_plugin_close(strict);
  pb_plugin_close(off);
}

static void
mverb_same_under_strict_and_off(void** state)
{
  real_plugin_same_under_strict_and_off((fixture_t*)*state, MVERB);
}

static void
lsp_compressor_same_under_strict_and_off(void** state)
{
  real_plugin_same_under_strict_and_off(
    (fixture_t*)*state, "/usr/lib/vst/lsp-plugins/compressor-stereo.so");
}

static void
dragonfly_same_under_strict_and_off(void** state)
{
  real_plugin_same_under_strict_and_off(
    (fixture_t*)*state, "/usr/lib/lxvst/DragonflyHallReverb-vst.so");
}

/* --------------------------------------------------------- the bridge */

/* Read one frame from `fd` (5 s at most) and decode it into `msg`. */
static void
read_msg(int fd, uint8_t* buf, size_t cap, pb_msg_t* msg)
{
  size_t have = 0;
  size_t need = PB_FRAME_HEADER_BYTES;
  while (have < need) {
    struct pollfd in = { fd, POLLIN, 0 };
    assert_int_equal(poll(&in, 1, 5000), 1);
    const ssize_t n = read(fd, buf + have, need - have);
    assert_true(n > 0);
    have += (size_t)n;
    if (have == PB_FRAME_HEADER_BYTES) {
      need += (size_t)buf[0] | (size_t)buf[1] << 8 | (size_t)buf[2] << 16 |
              (size_t)buf[3] << 24;
      assert_true(need <= cap);
    }
  }
  assert_int_equal(pb_msg_decode(buf + PB_FRAME_HEADER_BYTES,
                                 need - PB_FRAME_HEADER_BYTES,
                                 msg),
                   0);
}

static pid_t
spawn_strict_bridge(int fd, const char* plugin)
{
  char bridge[512];
  char plugin_arg[512];
  (void)snprintf(
    bridge, sizeof bridge, "%s/plugbox-bridge", getenv("PB_BIN_DIR"));
  (void)snprintf(plugin_arg, sizeof plugin_arg, "%s", plugin);
  char* argv[] = { bridge,   "--control-fd", "3",        "--sandbox",
                   "strict", "--plugin",     plugin_arg, NULL };
  posix_spawn_file_actions_t fa;
  pid_t pid = 0;
  assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
  assert_int_equal(posix_spawn_file_actions_adddup2(&fa, fd, 3), 0);
  assert_int_equal(posix_spawn(&pid, bridge, &fa, NULL, argv, environ), 0);
  (void)posix_spawn_file_actions_destroy(&fa);
  return pid;
}

/* Landlock admits the folder of --plugin: another plugin there must not
 * be loadable by an OPEN naming it. */
static void
strict_bridge_opens_only_its_plugin(void** state)
{
  (void)state;
  static uint8_t buf[1 << 16];
  char gain[512];
  const char* hostile = fx_test_plugin("pb_test_hostile");
  FX_NEED(hostile);
  char hostile_path[512];
  (void)snprintf(hostile_path, sizeof hostile_path, "%s", hostile);
  assert_non_null(realpath(fx_test_plugin("pb_test_gain"), gain));
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  const pid_t pid = spawn_strict_bridge(sv[1], gain);
  (void)close(sv[1]);
  pb_msg_t msg;
  read_msg(sv[0], buf, sizeof buf, &msg);
  assert_int_equal(msg.kind, PB_MSG_HELLO);
  pb_msg_fini(&msg);

  pb_wr_t w;
  pb_wr_init(&w);
  pb_wr_begin(&w, PB_MSG_OPEN, 1);
  pb_wr_s(&w, hostile_path);
  pb_wr_f(&w, 48000.0);
  pb_wr_u(&w, 512);
  assert_int_equal(pb_wr_end(&w), 0);
  assert_int_equal(write(sv[0], pb_wr_data(&w), pb_wr_size(&w)),
                   (ssize_t)pb_wr_size(&w));
  read_msg(sv[0], buf, sizeof buf, &msg);
  assert_int_equal(msg.kind, PB_MSG_ERROR);
  assert_int_equal(msg.args[0].v.i, PB_ERR_ACCESS);
  assert_true(fx_contains(msg.args[1].v.s.ptr, "admits only"));
  pb_msg_fini(&msg);
  pb_wr_fini(&w);

  (void)close(sv[0]); /* the bridge exits when the host goes */
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
}

/* ------------------------------------------------------------------ CLI */

/* Run `plugbox ARGS` (from $PB_BIN_DIR), its stdout into `out`; returns
 * its exit status. */
static int
run_cli(const char* args, char* out, size_t cap)
{
  char cmd[1024];
  const char* bin = getenv("PB_BIN_DIR");
  (void)snprintf(
    cmd, sizeof cmd, "%s/plugbox %s 2>/dev/null", bin ? bin : ".", args);
  FILE* pipe = popen(cmd, "r");
  assert_non_null(pipe);
  const size_t n = fread(out, 1, cap - 1, pipe);
  out[n] = '\0';
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Processes running `$PB_BIN_DIR/plugbox-bridge --probe` (the probe and,
 * under strict, its supervisor, init and worker), zombies included. */
static int
count_probes(void)
{
  char bridge[600];
  char path[300];
  char cmdline[700];
  int n = 0;
  (void)snprintf(
    bridge, sizeof bridge, "%s/plugbox-bridge", getenv("PB_BIN_DIR"));
  DIR* dir = opendir("/proc");
  assert_non_null(dir);
  const struct dirent* e = NULL;
  while ((e = readdir(dir))) {
    (void)snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
    FILE* f =
      e->d_name[0] >= '1' && e->d_name[0] <= '9' ? fopen(path, "re") : NULL;
    if (!f)
      continue;
    const size_t len = fread(cmdline, 1, sizeof cmdline - 1, f);
    (void)fclose(f);
    cmdline[len] = '\0';
    const size_t first = strlen(cmdline);
    n += !strcmp(cmdline, bridge) && first + 1 < len &&
         !strcmp(cmdline + first + 1, "--probe");
  }
  (void)closedir(dir);
  return n;
}

static void
doctor_lists_every_layer(void** state)
{
  static char out[8192];
  char key[64];
  (void)state;
  const int code = run_cli("doctor --json", out, sizeof out);
  assert_true(code == 0 || code == 1); /* 1: some layer is missing */
  for (size_t i = 0; i < N_OF(layers); ++i) {
    (void)snprintf(key, sizeof key, "\"name\": \"%s\"", layers[i]);
    assert_true(fx_contains(out, key));
  }
  assert_true(
    fx_contains(out, code ? "\"complete\": false" : "\"complete\": true"));
  /* As root it asks again as nobody: every layer a second time, or the
   * reason it could not. */
  if (geteuid() == 0 && !fx_contains(out, "\"unprivileged_error\"")) {
    assert_true(fx_contains(out, "\"uid\": 65534"));
    for (size_t i = 0; i < N_OF(layers); ++i) {
      (void)snprintf(key, sizeof key, "\"name\": \"%s\"", layers[i]);
      const char* first = strstr(out, key);
      assert_non_null(first);
      assert_non_null(strstr(first + 1, key));
    }
  } else {
    assert_true(fx_contains(
      out, geteuid() == 0 ? "\"unprivileged\": null" : "\"layers\""));
    assert_false(geteuid() != 0 && fx_contains(out, "\"unprivileged\""));
  }
  /* The probe applied strict in a child (three processes with a pid
   * namespace): none is left once doctor has answered. */
  assert_int_equal(count_probes(), 0);
  assert_int_equal(run_cli("doctor", out, sizeof out), code);
  assert_true(fx_contains(out, "seccomp"));
  assert_true(geteuid() != 0 ||
              fx_contains(out, "As an ordinary user (uid 65534):"));
  assert_int_equal(run_cli("doctor extra", out, sizeof out), 2);
}

static void
info_takes_a_sandbox_profile(void** state)
{
  static char out[8192];
  char args[700];
  (void)state;
  const char* path = fx_test_plugin("pb_test_hostile");
  FX_NEED(path);
  (void)snprintf(args, sizeof args, "info %s", path);
  assert_int_equal(run_cli(args, out, sizeof out), 0);
  assert_true(fx_contains(out, "exec=denied:EPERM")); /* strict by default */
  (void)snprintf(args, sizeof args, "info --sandbox off %s", path);
  assert_int_equal(run_cli(args, out, sizeof out), 0);
  assert_true(fx_contains(out, "exec=allowed"));
  (void)snprintf(args, sizeof args, "info --sandbox tight %s", path);
  assert_int_equal(run_cli(args, out, sizeof out), 2);
}

/* ------------------------------------------------------- unprivileged */

#define UNPRIVILEGED_ARG "--unprivileged"

/* In a child: drop to nobody and check that it can run this test, the
 * bridge and the hostile plugin; exits 0 if so. */
static void
check_nobody_can_run(const char* self, const char* bridge, const char* plugin)
{
  if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
      setresuid(NOBODY, NOBODY, NOBODY) < 0)
    _exit(2);
  _exit(access(self, X_OK) == 0 && access(bridge, X_OK) == 0 &&
            access(plugin, R_OK) == 0
          ? 0
          : 1);
}

/* Fork a child that drops to nobody and either checks what it can run
 * (exec_self 0) or re-executes this test with UNPRIVILEGED_ARG.  Returns
 * the child's exit status, or -1 if it did not exit. */
static int
run_as_nobody(const char* self,
              const char* bridge,
              const char* plugin,
              int exec_self)
{
  const pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (!exec_self)
      check_nobody_can_run(self, bridge, plugin);
    char* argv[] = { (char*)(uintptr_t)self, UNPRIVILEGED_ARG, NULL };
    if (setgroups(0, NULL) == 0 && setresgid(NOBODY, NOBODY, NOBODY) == 0 &&
        setresuid(NOBODY, NOBODY, NOBODY) == 0)
      (void)execv(self, argv);
    _exit(127);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* CI runs as root: the hostile matrix runs again as uid 65534 (this test
 * re-executed with UNPRIVILEGED_ARG after dropping), so both the root path
 * (the bridge drops to nobody itself) and the unprivileged one (no uid
 * change, user namespace from an ordinary user) are covered. */
static void
hostile_matrix_holds_as_unprivileged_user(void** state)
{
  (void)state;
  char self[512];
  char bridge[600];
  if (getuid() != 0) {
    print_message("already uid %ld: the matrix above ran unprivileged\n",
                  (long)getuid());
    skip();
  }
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  assert_true(n > 0);
  self[n] = '\0';
  (void)snprintf(
    bridge, sizeof bridge, "%s/plugbox-bridge", getenv("PB_BIN_DIR"));
  const char* hostile = fx_test_plugin("pb_test_hostile");
  FX_NEED(hostile);
  char plugin[512];
  (void)snprintf(plugin, sizeof plugin, "%s", hostile);
  if (run_as_nobody(self, bridge, plugin, 0) != 0) {
    print_message("skipped: uid %d cannot run %s, %s or %s (make the build "
                  "folder readable to cover the unprivileged case)\n",
                  NOBODY,
                  self,
                  bridge,
                  plugin);
    skip();
  }
  assert_int_equal(run_as_nobody(self, bridge, plugin, 1), 0);
}

static int
run_unprivileged_matrix(void)
{
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    T(strict_denies_every_hostile_action),
    T(off_allows_what_the_machine_allows),
    T(strict_tmp_is_private_or_closed),
    T(basic_limits_resources_only),
    T(report_names_every_layer),
    T(writable_path_is_home_and_writable),
    T(foreign_syscall_kills_the_strict_bridge),
    T(strict_bridge_sees_no_host_process),
    T(killed_strict_bridge_leaves_no_process),
#undef T
  };
  assert_true(getuid() != 0);
  return cmocka_run_group_tests_name(
    "sandbox_unprivileged", tests, group_setup, group_teardown);
}

static void
i386_absent(void** state)
{
  (void)state;
  print_message("i386 sandbox skipped: plugbox-bridge-32 or the -m32 "
                "hostile plugin absent (the i386 libraries: "
                "scripts/install-deps.sh)\n");
  skip();
}

/* The hostile matrix through plugbox-bridge-32. */
static int
run_i386(void)
{
  char bridge[600];
  const char* dir = getenv("PB_TEST_PLUGIN_DIR_32");
  const char* bin = getenv("PB_BIN_DIR");
  (void)snprintf(
    bridge, sizeof bridge, "%s/plugbox-bridge-32", bin ? bin : "bin");
  if (dir && dir[0] && setenv("PB_TEST_PLUGIN_DIR", dir, 1) != 0)
    return 1;
  i386_mode = 1;
  const struct CMUnitTest absent[] = { cmocka_unit_test(i386_absent) };
  if (!dir || !dir[0] || access(bridge, X_OK) != 0 ||
      !fx_test_plugin("pb_test_hostile"))
    return cmocka_run_group_tests_name("sandbox_i386", absent, NULL, NULL);
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    T(strict_denies_every_hostile_action),
    T(off_allows_what_the_machine_allows),
    T(strict_tmp_is_private_or_closed),
    T(basic_limits_resources_only),
    T(strict_bridge_sees_no_host_process),
    T(killed_strict_bridge_leaves_no_process),
#undef T
  };
  return cmocka_run_group_tests_name(
    "sandbox_i386", tests, group_setup, group_teardown);
}

int
main(int argc, char** argv)
{
  if (argc == 2 && !strcmp(argv[1], UNPRIVILEGED_ARG))
    return run_unprivileged_matrix();
  if (argc == 2 && !strcmp(argv[1], "--i386"))
    return run_i386();
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    T(strict_denies_every_hostile_action),
    T(off_allows_what_the_machine_allows),
    T(strict_tmp_is_private_or_closed),
    T(basic_limits_resources_only),
    T(report_names_every_layer),
    T(off_report_says_off),
    T(writable_path_is_home_and_writable),
    T(bad_sandbox_options_are_invalid),
    T(foreign_syscall_kills_the_strict_bridge),
    T(strict_bridge_sees_no_host_process),
    T(killed_strict_bridge_leaves_no_process),
    T(mverb_same_under_strict_and_off),
    T(lsp_compressor_same_under_strict_and_off),
    T(dragonfly_same_under_strict_and_off),
    T(strict_bridge_opens_only_its_plugin),
    T(doctor_lists_every_layer),
    T(info_takes_a_sandbox_profile),
#undef T
    cmocka_unit_test(hostile_matrix_holds_as_unprivileged_user),
  };
  return cmocka_run_group_tests_name(
    "sandbox", tests, group_setup, group_teardown);
}
