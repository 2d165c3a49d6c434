/* Shared fixture of the libplugbox tests. */
#define _POSIX_C_SOURCE 200809L

#include "host_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
fx_count_dir(const char* path)
{
  DIR* d = opendir(path);
  if (!d)
    return -1;
  int n = 0;
  const struct dirent* e;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

int
fx_count_fds(void)
{
  return fx_count_dir("/proc/self/fd") - 1; /* opendir's own fd */
}

int
fx_readable(const char* path)
{
  return access(path, R_OK) == 0;
}

const char*
fx_make_file(fixture_t* f,
             const char* name,
             const void* data,
             size_t len,
             mode_t mode)
{
  (void)snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
  const int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  assert_int_equal(close(fd), 0);
  return f->path;
}

const char*
fx_make_bridge(fixture_t* f,
               const unsigned char* frame,
               size_t len,
               const char* then)
{
  char script[4096];
  size_t n = (size_t)snprintf(script, sizeof(script), "#!/bin/sh\nprintf '");
  for (size_t i = 0; i < len && n < sizeof(script); ++i)
    n += (size_t)snprintf(script + n, sizeof(script) - n, "\\%03o", frame[i]);
  assert_true(n < sizeof(script));
  (void)snprintf(script + n, sizeof(script) - n, "' >&3\n%s\n", then);
  return fx_make_file(f, "bridge.sh", script, strlen(script), 0755);
}

int
fx_contains(const char* haystack, const char* needle)
{
  if (!strstr(haystack, needle)) {
    print_error("\"%s\" does not contain \"%s\"\n", haystack, needle);
    return 0;
  }
  return 1;
}

pb_status_t
fx_open(fixture_t* f, const char* path, pb_plugin_t** p)
{
  return pb_plugin_open(f->host, path, &f->opts, p);
}

const char*
fx_test_plugin(const char* name)
{
  static char path[512];
  const char* dir = getenv("PB_TEST_PLUGIN_DIR");
  (void)snprintf(path, sizeof(path), "%s/%s.so", dir ? dir : ".", name);
  return fx_readable(path) ? path : NULL;
}

pb_process_t*
fx_audio_block(fx_audio_t* a, float level)
{
  memset(a, 0, sizeof(*a));
  for (int c = 0; c < 2; ++c) {
    for (unsigned i = 0; i < FX_FRAMES; ++i)
      a->in[c][i] = level;
    a->ins[c] = a->in[c];
    a->outs[c] = a->out[c];
  }
  a->block.n_frames = FX_FRAMES;
  a->block.n_inputs = a->block.n_outputs = 2;
  a->block.inputs = a->ins;
  a->block.outputs = a->outs;
  return &a->block;
}

void
fx_sleep_ms(long ms)
{
  const struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  (void)nanosleep(&ts, NULL);
}

double
fx_now_ms(void)
{
  struct timespec ts;
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The threads of this process once `want` is reached or a second has
 * passed: a joined thread's /proc entry can outlive pthread_join() by a
 * moment (the kernel wakes the joiner before it releases the task). */
static int
settled_threads(int want)
{
  int n = fx_count_dir("/proc/self/task");
  for (int i = 0; n != want && i < 1000; ++i) {
    fx_sleep_ms(1);
    n = fx_count_dir("/proc/self/task");
  }
  return n;
}

int
fx_group_setup(void** state)
{
  (void)state;
  /* libuv opens a process-wide pipe the first time a loop starts; let
   * that happen before any test counts fds. */
  const int before = fx_count_dir("/proc/self/task");
  pb_host_t* host = NULL;
  if (pb_host_new(&host) != PB_OK)
    return -1;
  pb_host_free(host);
  return settled_threads(before) == before ? 0 : -1;
}

int
fx_setup(void** state)
{
  /* A test that failed half-way may have left a child behind; reap it so
   * that only that test fails, not every one after it.  The teardown of
   * each test still checks that the test itself left none. */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  fixture_t* f = (fixture_t*)calloc(1, sizeof(*f));
  if (!f)
    return -1;
  f->n_fds = fx_count_fds();
  f->n_threads = fx_count_dir("/proc/self/task");
  (void)snprintf(f->dir, sizeof(f->dir), "/tmp/pb_test_host.XXXXXX");
  if (!mkdtemp(f->dir) || pb_host_new(&f->host) != PB_OK) {
    free(f);
    return -1;
  }
  pb_open_opts_init(&f->opts);
  *state = f;
  return 0;
}

static void
remove_dir(const char* dir)
{
  DIR* d = opendir(dir);
  const struct dirent* e;
  char path[512];
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    (void)unlink(path);
  }
  if (d)
    closedir(d);
  (void)rmdir(dir);
}

int
fx_teardown(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_host_free(f->host);
  remove_dir(f->dir);
  const int n_fds = f->n_fds;
  const int n_threads = f->n_threads;
  free(f);
  /* Nothing may outlive the plugins and the host. */
  assert_int_equal(fx_count_fds(), n_fds);
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
  assert_int_equal(settled_threads(n_threads), n_threads);
  return 0;
}

int
fx_has_cap(int cap)
{
  char line[256];
  unsigned long long eff = 0;
  FILE* file = fopen("/proc/self/status", "r");
  assert_non_null(file);
  while (fgets(line, sizeof line, file))
    if (sscanf(line, "CapEff: %llx", &eff) == 1)
      break;
  (void)fclose(file);
  return (int)((eff >> cap) & 1u);
}

/* 1 if every thread of `pid` is stopped (state 'T'). */
static int
all_stopped(int pid)
{
  char path[64];
  (void)snprintf(path, sizeof(path), "/proc/%d/task", pid);
  DIR* dir = opendir(path);
  if (!dir)
    return 0;
  int stopped = 1;
  const struct dirent* e = NULL;
  while ((e = readdir(dir)) && stopped) {
    char stat_path[400];
    char buf[512];
    if (e->d_name[0] == '.')
      continue;
    (void)snprintf(stat_path, sizeof(stat_path), "%s/%s/stat", path, e->d_name);
    FILE* file = fopen(stat_path, "re");
    if (!file)
      continue;
    const size_t n = fread(buf, 1, sizeof(buf) - 1, file);
    (void)fclose(file);
    buf[n] = '\0';
    const char* paren = strrchr(buf, ')');
    stopped = paren && paren[1] && paren[2] == 'T';
  }
  closedir(dir);
  return stopped;
}

void
fx_stop_bridge(pb_plugin_t* p)
{
  const int pid = pb_plugin_pid(p);
  assert_true(pid > 0);
  assert_int_equal(kill(pid, SIGSTOP), 0);
  for (int i = 0; i < 400 && !all_stopped(pid); ++i)
    fx_sleep_ms(5);
  assert_true(all_stopped(pid));
}
