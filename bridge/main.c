/* plugbox-bridge: runs one plugin for a host that talks to it over an
 * inherited control fd.  This file prepares the process (fds, parent
 * death, signals, output buffering) and hands over to the server.
 *
 * close_range() is a GNU extension. */
#define _GNU_SOURCE

#include "bridge/audio.h"
#include "bridge/crash.h"
#include "bridge/sandbox.h"
#include "bridge/sandbox_args.h"
#include "bridge/server.h"

#include "host/plugbox.h"
#include "proto/message.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
  "Usage: plugbox-bridge --control-fd N [--shm-fd M] [SANDBOX OPTIONS]\n"
  "Run one VST2 plugin for a plugbox host, which talks to it over the\n"
  "inherited socket N (3 or higher).  Not meant to be run by hand.\n"
  "\n"
  "  --control-fd N  the control channel\n"
  "  --shm-fd M      the shared audio block (a sealed memfd)\n"
  "  --sandbox P     off (default), basic or strict\n"
  "  --plugin PATH   the one plugin the strict sandbox admits\n"
  "  --scratch DIR   the one writable folder, also HOME\n"
  "  --memory BYTES  address space limit (default 4 GiB)\n"
  "  --read PATH     one more read-only path (repeatable)\n"
  "  --rt-priority N the audio thread's SCHED_FIFO priority (1..99), also\n"
  "                  the RLIMIT_RTPRIO of basic and strict (default 0)\n"
  "  --probe         print which sandbox layers this machine supports\n"
  "  --help          show this help\n"
  "  --version       show the version, protocol and architecture\n"
  "\n"
  "Exit status: 0 closed or host gone, 1 setup failed, 2 bad usage,\n"
  "3 malformed message from the host, 4 out of memory.\n";

static void warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

static void
warn(const char* fmt, ...)
{
  va_list args;

  va_start(args, fmt);
  fputs("plugbox-bridge: ", stderr);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
}

/* ------------------------------------------------------------ arguments */

static int
parse_fd(const char* text)
{
  char* end = NULL;

  errno = 0;
  const long fd = strtol(text, &end, 10);
  if (errno || end == text || *end || fd <= STDERR_FILENO || fd > INT_MAX)
    return -1;
  return (int)fd;
}

static int usage_error(const char* fmt, ...)
  __attribute__((format(printf, 1, 2)));

static int
usage_error(const char* fmt, ...)
{
  va_list args;

  va_start(args, fmt);
  fputs("plugbox-bridge: ", stderr);
  vfprintf(stderr, fmt, args);
  fputs(" (try --help)\n", stderr);
  va_end(args);
  return -PB_SERVER_EXIT_USAGE;
}

/* The optional `--shm-fd M` after the control fd: M, -1 when absent, or
 * minus the exit status. */
static int
parse_shm_fd(int argc, char** argv, int control_fd)
{
  int i = 3;
  while (i + 1 < argc && strcmp(argv[i], "--shm-fd"))
    i += 2;
  if (i + 1 >= argc)
    return -1;
  const int fd = parse_fd(argv[i + 1]);
  if (fd < 0 || fd == control_fd)
    return usage_error("bad value '%s' for --shm-fd", argv[i + 1]);
  if (fcntl(fd, F_GETFD) < 0)
    return usage_error("--shm-fd %s is not open", argv[i + 1]);
  return fd;
}

/* The sandbox options; pointers into argv. */
static pb_sandbox_config_t sandbox;

/* The options after the control fd, in pairs: the sandbox's, and
 * --shm-fd (parse_shm_fd). */
static int
parse_options(int argc, char** argv)
{
  for (int i = 0; i < argc; i += 2) {
    if (i + 1 >= argc)
      return usage_error("option '%s' needs a value", argv[i]);
    if (!strcmp(argv[i], "--shm-fd"))
      continue;
    const int taken = pb_sandbox_args_option(&sandbox, argv[i], argv[i + 1]);
    if (taken < 0)
      return usage_error("bad value '%s' for %s", argv[i + 1], argv[i]);
    if (taken == 0)
      return usage_error("unknown option '%s'", argv[i]);
  }
  return 0;
}

static int
run_probe(void)
{
  static pb_sandbox_report_t report;

  (void)pb_sandbox_probe(&report);
  fputs(report.text, stdout);
  return 0;
}

/* What kind of file `mode` says, for a message. */
static const char*
file_kind(mode_t mode)
{
  if (S_ISREG(mode))
    return "a regular file";
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISFIFO(mode))
    return "a pipe";
  if (S_ISLNK(mode))
    return "a symbolic link";
  return "an unknown kind of file";
}

/* The control fd must be a socket, checked before libuv sees it: libuv
 * aborts the process on an fd that epoll cannot watch (a regular file,
 * /dev/null), and a pipe carries bytes one way only, while the bridge both
 * reads requests and writes replies on the one fd.  Returns 0, or minus
 * the exit status. */
static int
check_control_fd(int fd, const char* text)
{
  struct stat st;

  if (fstat(fd, &st) < 0) {
    if (errno == EBADF)
      return usage_error("--control-fd %s is not open", text);
    return usage_error("--control-fd %s: %s", text, strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode))
    return usage_error(
      "--control-fd %s is %s, not a socket", text, file_kind(st.st_mode));
  /* Frames need a byte stream: a datagram socket would cut them. */
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
    return usage_error("--control-fd %s: %s", text, strerror(errno));
  if (type != SOCK_STREAM)
    return usage_error("--control-fd %s is not a stream socket", text);
  return 0;
}

/* Returns the control fd, or minus the exit status (0 after --help,
 * --version or --probe). */
static int
parse_args(int argc, char** argv)
{
  if (argc == 2 && !strcmp(argv[1], "--help")) {
    fputs(usage_text, stdout);
    return 0;
  }
  if (argc == 2 && !strcmp(argv[1], "--version")) {
    printf("plugbox-bridge %s (protocol %d, %s)\n",
           PB_VERSION_STRING,
           PB_PROTO_VERSION,
           PB_SERVER_ARCH);
    return 0;
  }
  if (argc == 2 && !strcmp(argv[1], "--probe"))
    return run_probe();
  if (argc < 3 || strcmp(argv[1], "--control-fd"))
    return usage_error("expected --control-fd N");

  const int fd = parse_fd(argv[2]);
  if (fd < 0)
    return usage_error("bad control fd '%s': want a number from 3 up", argv[2]);
  int err = check_control_fd(fd, argv[2]);
  if (!err)
    err = parse_options(argc - 3, argv + 3);
  return err ? err : fd;
}

/* -------------------------------------------------------------- process */

static int
close_fds_by_listing(int first_fd)
{
  DIR* dir = opendir("/proc/self/fd");
  if (!dir)
    return -errno;

  const struct dirent* entry = NULL;
  while ((entry = readdir(dir))) {
    const int fd = atoi(entry->d_name);
    if (fd >= first_fd && fd != dirfd(dir))
      (void)close(fd);
  }
  return closedir(dir) ? -errno : 0;
}

/* Nothing the host had open beyond the control fd reaches the plugin. */
static int
close_fds_above(int control_fd)
{
  const unsigned first = (unsigned)control_fd + 1u;

  if (close_range(first, ~0u, 0) == 0)
    return 0;
  return close_fds_by_listing((int)first);
}

static int
ignore_sigpipe(void)
{
  struct sigaction action;

  memset(&action, 0, sizeof action);
  action.sa_handler = SIG_IGN;
  return sigaction(SIGPIPE, &action, NULL) ? -errno : 0;
}

/* The bridge dies with its host.  The parent may have died before the
 * request took hold: then we have been re-parented already. */
static int
die_with_parent(pid_t parent)
{
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    return -errno;
  return getppid() == parent ? 0 : -ESRCH;
}

static int
prepare_process(int control_fd, pid_t parent)
{
  int err = close_fds_above(control_fd);
  if (err) {
    warn("cannot close inherited fds: %s", strerror(-err));
    return err;
  }
  if (fcntl(control_fd, F_SETFD, FD_CLOEXEC) < 0) {
    err = -errno;
    warn("cannot mark fd %d close-on-exec: %s", control_fd, strerror(-err));
    return err;
  }
  err = die_with_parent(parent);
  if (err) {
    warn("%s", err == -ESRCH ? "the host is gone" : strerror(-err));
    return err;
  }
  /* A process group of its own: a plugin that signals its group
   * (kill(0, ...)) reaches only its own bridge, never the host. */
  if (setpgid(0, 0) < 0)
    warn("cannot start a process group: %s", strerror(errno));
  err = ignore_sigpipe();
  if (err) {
    warn("cannot ignore SIGPIPE: %s", strerror(-err));
    return err;
  }
  /* Plugin output reaches the host's log line by line instead of being
   * lost in a buffer when the plugin crashes. */
  if (setvbuf(stdout, NULL, _IOLBF, 0))
    warn("cannot line-buffer stdout");
  return 0;
}

/* The shared block is mapped before anything else runs in the process. */
static int
map_shm(int shm_fd)
{
  if (shm_fd < 0)
    return 0;
  if (fcntl(shm_fd, F_SETFD, FD_CLOEXEC) < 0)
    return -errno;
  const int err = pb_audio_map(shm_fd);
  if (err)
    warn("cannot map the shared block: %s", strerror(-err));
  return err;
}

int
main(int argc, char** argv)
{
  const pid_t parent = getppid();
  const int control_fd = parse_args(argc, argv);

  if (control_fd <= 0)
    return -control_fd;
  const int shm_fd = parse_shm_fd(argc, argv, control_fd);
  if (shm_fd < -1)
    return -shm_fd;
  /* Fds above the higher of the two are closed. */
  const int keep = shm_fd > control_fd ? shm_fd : control_fd;
  if (prepare_process(keep, parent))
    return PB_SERVER_EXIT_SETUP;
  /* The crash handlers map the block's header themselves, before
   * pb_audio_map() takes the fd. */
  if (pb_crash_install(shm_fd))
    warn("cannot install the crash note handlers");
  if (fcntl(control_fd, F_SETFD, FD_CLOEXEC) < 0 || map_shm(shm_fd))
    return PB_SERVER_EXIT_SETUP;
  /* Before libuv or the plugin start a thread (see bridge/sandbox.h). */
  sandbox.keep_fd_max = keep;
  sandbox.parent = parent;
  if (pb_sandbox_apply(&sandbox))
    return PB_SERVER_EXIT_SETUP;
  pb_audio_set_priority(sandbox.rt_priority);
  /* Under strict this may be another process now, the worker of a pid
   * namespace, whose thread ids the crash note must compare with. */
  pb_crash_set_main_thread();
  return pb_server_run(control_fd);
}
