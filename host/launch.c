/* Finding and starting plugbox-bridge.
 *
 * posix_spawn, not uv_spawn: glibc's posix_spawn uses a vfork-style clone,
 * which stays cheap in a big host process, where fork() (what uv_spawn
 * does) has to copy the page tables first.  The child sees exactly fds
 * 0..3: /dev/null, the log pipe twice, the control socket, and fd 4, the
 * shared audio block, when the host made one. */
#define _GNU_SOURCE /* dladdr, pipe2, environ, addclosefrom_np, syscall */

#include "launch.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PB_BRIDGE_INSTALL_DIR
#define PB_BRIDGE_INSTALL_DIR "/usr/local/libexec/plugbox"
#endif

#define BRIDGE_NAME "plugbox-bridge"
#define BRIDGE_NAME_32 "plugbox-bridge-32" /* i386 plugins */
#define CONTROL_FD 3
#define SHM_FD 4 /* = PB_SHM_FD */

/* Any object inside libplugbox: dladdr() on its address names the file the
 * library code was loaded from (libplugbox.so, or the executable that
 * linked the static library). */
static const char anchor = 0;

/* The directory of the file holding this code, without a trailing '/'. */
static int
self_dir(char* out, size_t cap)
{
  Dl_info info;
  char exe[PATH_MAX];
  const char* file = NULL;
  if (dladdr(&anchor, &info) && info.dli_fname && info.dli_fname[0] == '/') {
    file = info.dli_fname;
  } else {
    /* The main executable is reported as argv[0], which may be relative
     * or a bare name found through $PATH. */
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
      return -ENOENT;
    exe[n] = '\0';
    file = exe;
  }
  const char* slash = strrchr(file, '/');
  const size_t len = slash && slash > file ? (size_t)(slash - file) : 1;
  if (len >= cap)
    return -ENAMETOOLONG;
  memcpy(out, file, len);
  out[len] = '\0';
  return 0;
}

/* Try one candidate; on failure note it in `err`. */
static int
try_path(const char* path, char* out, size_t out_cap, char* err, size_t err_cap)
{
  if (access(path, X_OK) == 0 && strlen(path) < out_cap) {
    memcpy(out, path, strlen(path) + 1);
    return 0;
  }
  const int e = errno;
  const size_t used = strlen(err);
  if (used < err_cap)
    (void)snprintf(err + used,
                   err_cap - used,
                   "%s%s (%s)",
                   used ? ", " : "",
                   path,
                   strerror(e));
  return -ENOENT;
}

static int
search(const char* name, char* out, size_t out_cap, char* err, size_t err_cap)
{
  char dir[PATH_MAX];
  char path[PATH_MAX + 64];
  if (self_dir(dir, sizeof(dir)) == 0) {
    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (try_path(path, out, out_cap, err, err_cap) == 0)
      return 0;
    (void)snprintf(path, sizeof(path), "%s/../libexec/plugbox/%s", dir, name);
    if (try_path(path, out, out_cap, err, err_cap) == 0)
      return 0;
  }
  (void)snprintf(path, sizeof(path), "%s/%s", PB_BRIDGE_INSTALL_DIR, name);
  return try_path(path, out, out_cap, err, err_cap);
}

int
pb_launch_find(const char* explicit_path,
               pb_arch_t arch,
               char* out,
               size_t out_cap,
               char* err,
               size_t err_cap)
{
  err[0] = '\0';
  /* A path the user named is the only candidate: silently running some
   * other bridge instead would hide their mistake. */
  const int i386 = arch == PB_ARCH_I386 && pb_arch_native() != PB_ARCH_I386;
  const char* env = getenv(i386 ? "PLUGBOX_BRIDGE_32" : "PLUGBOX_BRIDGE");
  const char* chosen = explicit_path   ? explicit_path
                       : env && env[0] ? env
                                       : NULL;
  if (chosen)
    return try_path(chosen, out, out_cap, err, err_cap);
  return search(
    i386 ? BRIDGE_NAME_32 : BRIDGE_NAME, out, out_cap, err, err_cap);
}

/* Keep `*fd` above the fds the child's actions write (0..4), so that no
 * dup2 can overwrite a source before it is used. */
static int
move_above_3(int* fd)
{
  if (*fd > SHM_FD)
    return 0;
  const int moved = fcntl(*fd, F_DUPFD_CLOEXEC, SHM_FD + 1);
  if (moved < 0)
    return -errno;
  (void)close(*fd);
  *fd = moved;
  return 0;
}

static int
make_channels(int sv[2], int lp[2])
{
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return -errno;
  if (pipe2(lp, O_CLOEXEC) < 0)
    return -errno;
  int err = move_above_3(&sv[1]);
  if (!err)
    err = move_above_3(&lp[1]);
  /* Only the host's end: the bridge's end is another open file
   * description and stays blocking. */
  if (!err && fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
    err = -errno;
  return err;
}

static int
make_actions(posix_spawn_file_actions_t* fa, int ctl, int log, int shm)
{
  int err = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
  if (!err)
    err = posix_spawn_file_actions_adddup2(fa, log, 1);
  if (!err)
    err = posix_spawn_file_actions_adddup2(fa, log, 2);
  if (!err)
    err = posix_spawn_file_actions_adddup2(fa, ctl, CONTROL_FD);
  if (!err && shm >= 0)
    err = posix_spawn_file_actions_adddup2(fa, shm, SHM_FD);
  /* Fds the host opened without O_CLOEXEC must not reach the plugin. */
  if (!err)
    err = posix_spawn_file_actions_addclosefrom_np(
      fa, shm >= 0 ? SHM_FD + 1 : CONTROL_FD + 1);
  return -err;
}

/* The child starts with no blocked signals and default dispositions,
 * whatever the host (and our own I/O thread) blocks or ignores. */
static int
make_attr(posix_spawnattr_t* attr)
{
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  int err = posix_spawnattr_setflags(
    attr, (short)(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
  if (!err)
    err = posix_spawnattr_setsigmask(attr, &none);
  if (!err)
    err = posix_spawnattr_setsigdefault(attr, &all);
  return -err;
}

static int
open_pidfd(pid_t pid)
{
  const char* off = getenv("PLUGBOX_NO_PIDFD");
  if (off && off[0] == '1')
    return -1;
#ifdef SYS_pidfd_open
  const long fd = syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -1 : (int)fd;
#else
  (void)pid;
  return -1;
#endif
}

/* `base` then `extra` (may be NULL) into `out`, NULL-terminated.  The
 * strings stay the callers'; posix_spawn only reads them. */
static int
join_args(char* const* base, const char* const* extra, char** out, size_t cap)
{
  size_t n = 0;
  for (; base[n]; ++n)
    out[n] = base[n];
  for (size_t i = 0; extra && extra[i]; ++i) {
    if (n + 1 >= cap)
      return -E2BIG;
    out[n++] = (char*)(uintptr_t)extra[i];
  }
  out[n] = NULL;
  return 0;
}

static int
spawn_with(const char* bridge,
           int ctl,
           int log,
           int shm,
           const char* const* extra,
           pid_t* pid)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  char path[PATH_MAX];
  char flag[] = "--control-fd";
  char fd_text[] = "3";
  char shm_flag[] = "--shm-fd";
  char shm_text[] = "4";
  if (snprintf(path, sizeof(path), "%s", bridge) >= (int)sizeof(path))
    return -ENAMETOOLONG;
  char* argv[] = { path, flag, fd_text, shm_flag, shm_text, NULL };
  if (shm < 0)
    argv[3] = NULL;
  char* full[PB_LAUNCH_MAX_ARGS + 8];
  int err = join_args(argv, extra, full, sizeof(full) / sizeof(full[0]));
  if (err)
    return err;

  err = -posix_spawn_file_actions_init(&fa);
  if (err)
    return err;
  err = -posix_spawnattr_init(&attr);
  if (err)
    goto done_fa;
  err = make_actions(&fa, ctl, log, shm);
  if (!err)
    err = make_attr(&attr);
  if (!err)
    err = -posix_spawn(pid, path, &fa, &attr, full, environ);
  (void)posix_spawnattr_destroy(&attr);
done_fa:
  (void)posix_spawn_file_actions_destroy(&fa);
  return err;
}

/* A copy of the caller's shm fd above 4 (or -1 for none); the caller's
 * own fd stays as it is. */
static int
shm_source(int shm_fd, int* copy)
{
  *copy = -1;
  if (shm_fd < 0 || shm_fd > SHM_FD)
    return 0;
  *copy = fcntl(shm_fd, F_DUPFD_CLOEXEC, SHM_FD + 1);
  return *copy < 0 ? -errno : 0;
}

int
pb_launch_start(const char* bridge, int shm_fd, pb_child_t* out)
{
  int sv[2] = { -1, -1 };
  int lp[2] = { -1, -1 };
  int shm_copy = -1;
  out->pid = 0;
  out->ctl_fd = out->log_fd = out->pidfd = -1;

  int err = make_channels(sv, lp);
  if (!err)
    err = shm_source(shm_fd, &shm_copy);
  if (!err)
    err = spawn_with(bridge,
                     sv[1],
                     lp[1],
                     shm_copy >= 0 ? shm_copy : shm_fd,
                     out->args,
                     &out->pid);
  if (shm_copy >= 0)
    (void)close(shm_copy);
  if (sv[1] >= 0)
    (void)close(sv[1]);
  if (lp[1] >= 0)
    (void)close(lp[1]);
  if (err) {
    if (sv[0] >= 0)
      (void)close(sv[0]);
    if (lp[0] >= 0)
      (void)close(lp[0]);
    return err;
  }
  out->ctl_fd = sv[0];
  out->log_fd = lp[0];
  out->pidfd = open_pidfd(out->pid);
  return 0;
}

void
pb_launch_kill(const pb_child_t* child)
{
#ifdef SYS_pidfd_send_signal
  if (child->pidfd >= 0 &&
      syscall(SYS_pidfd_send_signal, child->pidfd, SIGKILL, NULL, 0) == 0)
    return;
#endif
  if (child->pid > 0)
    (void)kill(child->pid, SIGKILL);
}

void
pb_launch_close_fds(pb_child_t* child)
{
  int* fds[] = { &child->ctl_fd, &child->log_fd, &child->pidfd };
  for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); ++i) {
    if (*fds[i] >= 0)
      (void)close(*fds[i]);
    *fds[i] = -1;
  }
}
