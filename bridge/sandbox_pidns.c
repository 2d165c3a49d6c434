/* Sandbox layer: a pid namespace.  The process the host spawned stays in
 * the host's namespace as a SUPERVISOR; after unshare(CLONE_NEWPID) it
 * forks the namespace's INIT (pid 1), which forks the WORKER (pid 2): the
 * worker returns from here, finishes the sandbox and runs the bridge.
 *
 * Why three processes: a pid 1 ignores the signals it raises at itself
 * with the default action (the crash note's re-raise, abort(), SIGSYS, a
 * plugin's SIGSTOP), so the plugin must not run as pid 1; and the host
 * holds the pid, pidfd and wait status of the process it spawned, so that
 * one must stay outside and end the way the worker ended.  Init waits for
 * the worker (and reaps anything else), writes the worker's raw wait
 * status to a pipe and exits, which kills whatever is left in the
 * namespace; the supervisor reads the status and ends the same way: the
 * same signal raised at itself, or the same exit code.
 *
 * The supervisor and init run no plugin code and no libuv: they close
 * every fd but stdout, stderr and the status pipe as soon as they have
 * forked (so the host sees EOF on the control channel when the worker
 * dies), then only wait, read, write and exit.  Both die with their
 * parent: the supervisor through PR_SET_PDEATHSIG against the host, init
 * through PR_SET_PDEATHSIG against the supervisor (SIGKILL from an
 * ancestor namespace reaches a pid 1) plus a look at the status pipe,
 * since getppid() reads 0 in a pid 1 whose parent is outside: a pipe with
 * no reader left reports POLLERR to its writer.
 *
 * After unshare(CLONE_NEWPID) the supervisor can no longer start threads
 * (the kernel refuses CLONE_THREAD once the caller's children would live
 * in another namespace), so a fork that fails after it is fatal rather
 * than a layer to skip.  unshare() is a GNU extension. */
#define _GNU_SOURCE

#include "bridge/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_SETUP 1 /* the bridge's "setup failed" (PB_SERVER_EXIT_SETUP) */

static int in_new_pidns;

int
pb_sandbox_in_pid_namespace(void)
{
  return in_new_pidns;
}

/* ------------------------------------------------------------ fds */

static void
close_range_or_loop(unsigned first, unsigned last)
{
  if (first > last || close_range(first, last, 0) == 0)
    return;
  struct rlimit lim;
  unsigned top = 1024u;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
      lim.rlim_cur < 65536u)
    top = (unsigned)lim.rlim_cur;
  for (unsigned fd = first; fd <= last && fd < top; ++fd)
    (void)close((int)fd);
}

/* Everything but stdout, stderr and `keep`: the control channel and the
 * shared block stay with the worker alone. */
static void
close_all_but(int keep)
{
  (void)close(STDIN_FILENO);
  close_range_or_loop(STDERR_FILENO + 1u, (unsigned)keep - 1u);
  close_range_or_loop((unsigned)keep + 1u, ~0u);
}

/* ------------------------------------------------------------ init */

/* Whether the supervisor is gone: nobody reads the status pipe then. */
static int
supervisor_gone(int status_fd)
{
  struct pollfd p = { status_fd, POLLOUT, 0 };
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* Reap children until the worker has ended; its raw wait status. */
static int
wait_worker(pid_t worker)
{
  int status = 0;
  for (;;) {
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid == worker)
      return status;
    if (pid < 0 && errno != EINTR)
      return EXIT_SETUP << 8; /* no worker to wait for: "setup failed" */
  }
}

/* pid 1.  Returns 0 in the worker (pid 2); never in init itself. */
static int
run_init(int status_fd)
{
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
      supervisor_gone(status_fd))
    _exit(EXIT_SETUP);
  const pid_t worker = fork();
  if (worker == 0) {
    (void)close(status_fd);
    return 0;
  }
  close_all_but(status_fd);
  if (worker < 0)
    _exit(EXIT_SETUP);
  const int status = wait_worker(worker);
  const char* p = (const char*)&status;
  size_t left = sizeof status;
  while (left) {
    const ssize_t n = write(status_fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    p += n;
    left -= (size_t)n;
  }
  _exit(0);
}

/* ------------------------------------------------------------ supervisor */

/* The worker's wait status from init, or -1 when init wrote none. */
static int
read_status(int status_fd)
{
  int status = 0;
  char* p = (char*)&status;
  size_t have = 0;
  while (have < sizeof status) {
    const ssize_t n = read(status_fd, p + have, sizeof status - have);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    have += (size_t)n;
  }
  return status;
}

/* End the way `status` says: the same signal (default action, unblocked,
 * raised at ourselves) or the same exit code.  No core dump of ours:
 * RLIMIT_CORE is 0 under basic and strict, but a core_pattern that pipes
 * to a helper leaves that limit to the helper, and the worker's dump is
 * the one that would count. */
static void __attribute__((noreturn)) end_like(int status)
{
  if (WIFSIGNALED(status)) {
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    const int sig = WTERMSIG(status);
    struct sigaction dfl;
    sigset_t set;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    (void)sigaction(sig, &dfl, NULL);
    (void)sigemptyset(&set);
    (void)sigaddset(&set, sig);
    (void)sigprocmask(SIG_UNBLOCK, &set, NULL);
    (void)raise(sig);
    _exit(128 + sig); /* a signal whose default is not to terminate */
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_SETUP);
}

static void __attribute__((noreturn)) supervise(pid_t init, int status_fd)
{
  close_all_but(status_fd);
  const int worker_status = read_status(status_fd);
  int init_status = EXIT_SETUP << 8;
  while (waitpid(init, &init_status, 0) < 0 && errno == EINTR)
    ;
  end_like(worker_status != -1 ? worker_status : init_status);
}

/* ------------------------------------------------------------ layer */

static int
default_sigchld(void)
{
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  return sigaction(SIGCHLD, &dfl, NULL) < 0 ? -errno : 0;
}

int
pb_sandbox_pid_namespace(const pb_sandbox_config_t* cfg, pb_sandbox_report_t* r)
{
  int fds[2];
  /* The credential changes cleared the parent-death signal: the
   * supervisor must die with the host before it forks anything. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
      (cfg->parent > 0 && getppid() != cfg->parent))
    return -ESRCH;
  /* An inherited SIG_IGN would make the kernel reap the children
   * itself, and their statuses would be lost. */
  int err = default_sigchld();
  if (!err && pipe2(fds, O_CLOEXEC) < 0)
    err = -errno;
  if (err) {
    pb_sandbox_note(r, "pidns", err, NULL);
    return err;
  }
  if (unshare(CLONE_NEWPID) < 0) {
    err = -errno;
    (void)close(fds[0]);
    (void)close(fds[1]);
    pb_sandbox_note(r, "pidns", err, NULL);
    return err;
  }
  const pid_t init = fork();
  if (init < 0) {
    err = -errno;
    pb_sandbox_note(r, "pidns", err, "fork after unshare: fatal");
    return -ECHILD;
  }
  if (init > 0) {
    (void)close(fds[1]);
    supervise(init, fds[0]);
  }
  (void)close(fds[0]);
  (void)run_init(fds[1]);
  in_new_pidns = 1;
  pb_sandbox_note(
    r, "pidns", 0, "pid %d, under an init and a supervisor", (int)getpid());
  return 0;
}
