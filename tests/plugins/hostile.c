/* pb_test_hostile: a plugin that, when opened, tries everything a sandbox
 * must forbid and reports what happened as its product string:
 *
 *   "tcp=allowed udp=denied:EPERM ... files=1021 memory=skipped"
 *
 * "allowed" means the action got past every layer: it succeeded, or failed
 * only for a reason outside the sandbox (ECONNREFUSED: nobody listens).
 * "denied:ERRNO" is anything else.  files= counts the files it could hold
 * open (it tries 100000); memory= is "skipped" in a bridge built with
 * AddressSanitizer, which cannot run under an address-space limit.
 * Whatever it creates it removes, whatever it stops it resumes. */
#define _GNU_SOURCE /* strerrorname_np, dladdr, RTLD_DEFAULT */

#include "plugin_base.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_FILES 100000
#define BIG_BYTES (8ull << 30)

extern char** environ;

static char outcome[480];
static const char anchor = 0; /* an object in this file, for dladdr */

static const char* const no[] = { NULL };

static const pb_tp_desc_t desc = {
  .name = "plugbox test hostile",
  .vendor = "plugbox tests",
  .product = "not opened",
  .vendor_version = 1,
  .category = PB_VST_CAT_EFFECT,
  .vst_version = 2400,
  .can_do_yes = no,
  .can_do_no = no,
};

/* ---------------------------------------------------------------- record */

static void
note(const char* name, int err)
{
  const size_t used = strlen(outcome);
  const char* e = err ? strerrorname_np(err) : NULL;
  (void)snprintf(outcome + used,
                 sizeof outcome - used,
                 "%s%s=%s%s",
                 used ? " " : "",
                 name,
                 err ? "denied:" : "allowed",
                 err ? (e ? e : "E?") : "");
}

/* 0 if the call succeeded or `ok_err` explains its failure, else errno. */
static int
result(int rc, int ok_err)
{
  if (rc >= 0 || errno == ok_err)
    return 0;
  return errno ? errno : EIO;
}

/* ---------------------------------------------------------------- network */

static int
try_inet(int type)
{
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons(type == SOCK_STREAM ? 1 : 9);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  int err = 0;
  if (type == SOCK_STREAM)
    err = result(connect(fd, (struct sockaddr*)&to, sizeof to), ECONNREFUSED);
  else
    err = result((int)sendto(fd, "x", 1, 0, (struct sockaddr*)&to, sizeof to),
                 ECONNREFUSED);
  (void)close(fd);
  return err;
}

/* Nobody listens at that path: ENOENT still means the socket was made and
 * the connect reached the file system. */
static int
try_unix(void)
{
  struct sockaddr_un to;
  memset(&to, 0, sizeof to);
  to.sun_family = AF_UNIX;
  (void)snprintf(to.sun_path, sizeof to.sun_path, "/run/pb-hostile-none");
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  int err = result(connect(fd, (struct sockaddr*)&to, sizeof to), ENOENT);
  if (err == ECONNREFUSED)
    err = 0;
  (void)close(fd);
  return err;
}

/* -------------------------------------------------------------- processes */

static int
try_exec(void)
{
  char sh[] = "sh";
  char c[] = "-c";
  char cmd[] = "exit 7";
  char* argv[] = { sh, c, cmd, NULL };
  pid_t pid = 0;
  int status = 0;
  const int err = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
  if (err)
    return err;
  if (waitpid(pid, &status, 0) < 0)
    return errno;
  return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : ECHILD;
}

static int
try_fork(void)
{
  const pid_t pid = fork();
  if (pid < 0)
    return errno;
  if (pid == 0)
    _exit(0);
  (void)waitpid(pid, NULL, 0);
  return 0;
}

/* Seize the host, stop it, let it go again: what a debugger (or a thief
 * of its memory) would do first. */
static int
try_ptrace(void)
{
  const pid_t host = getppid();
  if (ptrace(PTRACE_SEIZE, host, NULL, NULL) < 0)
    return errno;
  if (ptrace(PTRACE_INTERRUPT, host, NULL, NULL) == 0)
    (void)waitpid(host, NULL, __WALL);
  (void)ptrace(PTRACE_DETACH, host, NULL, NULL);
  return 0;
}

/* ------------------------------------------------------------------ files */

static int
try_create(const char* dir)
{
  char path[4096];
  if (!dir || !dir[0])
    return ENOENT;
  (void)snprintf(path, sizeof path, "%s/pb-hostile-%ld", dir, (long)getpid());
  const int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno;
  (void)close(fd);
  (void)unlink(path);
  return 0;
}

static int
try_plugin_dir(void)
{
  Dl_info info;
  char dir[4096];
  if (!dladdr(&anchor, &info) || !info.dli_fname)
    return ENOENT;
  (void)snprintf(dir, sizeof dir, "%s", info.dli_fname);
  char* slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  return try_create(dir);
}

static int
try_read(const char* path)
{
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  (void)close(fd);
  return 0;
}

static int
try_list(const char* path)
{
  DIR* dir = opendir(path);
  if (!dir)
    return errno;
  errno = 0;
  const int ok = readdir(dir) != NULL;
  const int err = ok ? 0 : errno ? errno : ENOENT;
  (void)closedir(dir);
  return err;
}

static int
try_parent_proc(void)
{
  char path[64];
  (void)snprintf(path, sizeof path, "/proc/%ld/environ", (long)getppid());
  return try_read(path);
}

/* A syscall no allow list names (POSIX message queues): the kernel
 * answers EBADF for the bad descriptor; only a filter answers ENOSYS. */
static int
try_unlisted(void)
{
  const long rc = syscall(SYS_mq_getsetattr, -1, NULL, NULL);
  return rc < 0 && errno == ENOSYS ? ENOSYS : 0;
}

/* -------------------------------------------------------------- resources */

static int
try_raise_nofile(void)
{
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) < 0)
    return errno;
  if (lim.rlim_max == RLIM_INFINITY)
    return ERANGE;
  lim.rlim_max += 1;
  lim.rlim_cur = lim.rlim_max;
  return setrlimit(RLIMIT_NOFILE, &lim) < 0 ? errno : 0;
}

static void
try_many_files(void)
{
  struct rlimit lim = { N_FILES + 64, N_FILES + 64 };
  if (setrlimit(RLIMIT_NOFILE, &lim) < 0 &&
      getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &lim);
  }
  int* fds = malloc(N_FILES * sizeof *fds);
  int n = 0;
  while (fds && n < N_FILES && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
    ++n;
  for (int i = 0; i < n; ++i)
    (void)close(fds[i]);
  free(fds);
  const size_t used = strlen(outcome);
  (void)snprintf(outcome + used, sizeof outcome - used, " files=%d", n);
}

/* Reserve 8 GiB without committing it (MAP_NORESERVE: no overcommit
 * heuristic to fail first) and touch both ends: only an address-space
 * limit stops it. */
static void
try_memory(void)
{
  if (dlsym(RTLD_DEFAULT, "__asan_init")) {
    const size_t used = strlen(outcome);
    (void)snprintf(outcome + used, sizeof outcome - used, " memory=skipped");
    return;
  }
  unsigned char* p = mmap(NULL,
                          BIG_BYTES,
                          PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                          -1,
                          0);
  if (p == MAP_FAILED) {
    note("memory", errno);
    return;
  }
  p[0] = 1;
  p[BIG_BYTES - 1] = 1;
  (void)munmap(p, BIG_BYTES);
  note("memory", 0);
}

/* ------------------------------------------------------------------ plugin */

static void
attack(void)
{
  outcome[0] = '\0';
  note("tcp", try_inet(SOCK_STREAM));
  note("udp", try_inet(SOCK_DGRAM));
  note("unix", try_unix());
  note("exec", try_exec());
  note("fork", try_fork());
  note("ptrace", try_ptrace());
  note("kill_host", result(kill(getppid(), 0), 0));
  note("kill_group", result(kill(0, 0), 0));
  note("write_tmp", try_create("/tmp"));
  note("write_home", try_create(getenv("HOME")));
  note("write_plugin_dir", try_plugin_dir());
  note("read_shadow", try_read("/etc/shadow"));
  note("list_root", try_list("/root"));
  note("read_host_proc", try_parent_proc());
  note("raise_nofile", try_raise_nofile());
  note("unlisted_syscall", try_unlisted());
  try_many_files();
  try_memory();
}

static intptr_t
dispatch(pb_vst_effect_t* effect,
         int32_t opcode,
         int32_t index,
         intptr_t value,
         void* ptr,
         float opt)
{
  if (opcode == PB_VST_EFF_OPEN)
    attack();
  /* Longer than the format's 64 bytes: the bridge's buffers hold 512. */
  if (opcode == PB_VST_EFF_GET_PRODUCT_STRING)
    return pb_tp_str_copy(ptr, outcome, sizeof outcome);
  return pb_tp_dispatch_default(effect, opcode, index, value, ptr, opt);
}

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  pb_tp_plugin_t* p = pb_tp_plugin_new(sizeof(*p), host, &desc, dispatch);
  if (!p)
    return NULL;
  p->effect.num_inputs = 2;
  p->effect.num_outputs = 2;
  p->effect.unique_id = PB_TP_ID('P', 'b', 'H', 's');
  return &p->effect;
}
