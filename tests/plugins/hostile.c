/* pb_test_hostile: a plugin that, when opened, tries everything a sandbox
 * must forbid and reports what happened as its product string:
 *
 *   "tcp=allowed udp=denied:EPERM ... files=1021 memory=skipped"
 *
 * and, for what aims at the host process itself, its vendor string
 * ("fcntl_owner_host=denied:EPERM ...").
 * "allowed" means the action got past every layer: it succeeded, or failed
 * only for a reason outside the sandbox (ECONNREFUSED: nobody listens).
 * "denied:ERRNO" is anything else.  files= counts the files it could hold
 * open (it tries 100000); memory= is "skipped" in a bridge built with
 * AddressSanitizer, which cannot run under an address-space limit, and in
 * a 32-bit one, which has no 8 GiB to reserve.
 * Whatever it creates it removes, whatever it stops it resumes.
 *
 * One action is not in effOpen, because it must kill a sandboxed bridge:
 * switching the plugin on (effMainsChanged 1) makes a 32-bit syscall
 * (int 0x80, getpid) from 64-bit code.
 *
 * What the plugin can see of other processes is asked through canDo, so
 * the host can name its own pid (which a plugin in a pid namespace has no
 * number for): "hostile:pid" answers getpid(); "hostile:procs" the number
 * of processes /proc lists (minus errno if it cannot list it);
 * "hostile:sched:N", "hostile:kill:N" and "hostile:proc:N" answer 0 when
 * getpriority(PRIO_PROCESS, N), kill(N, 0) and stat("/proc/N") succeed,
 * else their errno. */
#define _GNU_SOURCE /* strerrorname_np, dladdr, RTLD_DEFAULT */

#include "plugin_base.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_FILES 100000
#if SIZE_MAX > 0xffffffffu
#define BIG_BYTES ((size_t)8 << 30)
#else
#define BIG_BYTES ((size_t)0) /* no 8 GiB in 32 bits: memory=skipped */
#endif

extern char** environ;

static char outcome[480];
static char more[500];
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
note_in(char* buf, size_t cap, const char* name, int err)
{
  const size_t used = strlen(buf);
  const char* e = err ? strerrorname_np(err) : NULL;
  (void)snprintf(buf + used,
                 cap - used,
                 "%s%s=%s%s",
                 used ? " " : "",
                 name,
                 err ? "denied:" : "allowed",
                 err ? (e ? e : "E?") : "");
}

static void
note(const char* name, int err)
{
  note_in(outcome, sizeof outcome, name, err);
}

/* The second page (the vendor string): what aims at the host process. */
static void
note_more(const char* name, int err)
{
  note_in(more, sizeof more, name, err);
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

/* Make the host the owner of a socket (what O_ASYNC would then signal),
 * then give it back to nobody: by fcntl, or by the sockets' ioctl. */
static int
try_own_for_host(int by_ioctl)
{
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    return errno;
  int host = (int)getppid();
  const int rc =
    by_ioctl ? ioctl(fds[0], FIOSETOWN, &host) : fcntl(fds[0], F_SETOWN, host);
  const int err = rc < 0 ? errno : 0;
  (void)fcntl(fds[0], F_SETOWN, 0);
  (void)close(fds[0]);
  (void)close(fds[1]);
  return err;
}

/* Whether this process holds any capability (CapEff in its status):
 * root does, and so does the creator of a user namespace until it drops
 * them. */
static int
try_hold_caps(void)
{
  char line[256];
  unsigned long long eff = 0;
  FILE* f = fopen("/proc/self/status", "re");
  if (!f)
    return errno;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "CapEff: %llx", &eff) == 1)
      break;
  (void)fclose(f);
  return eff ? 0 : EPERM;
}

/* Set the host's CPU affinity to what it already is: harmless, but a
 * plugin allowed this could pin the host's audio thread anywhere. */
static int
try_host_affinity(void)
{
  cpu_set_t set;
  const pid_t host = getppid();
  if (sched_getaffinity(host, sizeof set, &set) < 0)
    return errno;
  return sched_setaffinity(host, sizeof set, &set) < 0 ? errno : 0;
}

/* Renice the host to the niceness it has: changes nothing, but a plugin
 * allowed this could lower the host's priority. */
static int
try_host_nice(void)
{
  const pid_t host = getppid();
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, (id_t)host);
  if (nice == -1 && errno)
    return errno;
  return setpriority(PRIO_PROCESS, (id_t)host, nice) < 0 ? errno : 0;
}

/* Set the host's scheduling policy to what it is (SCHED_OTHER, or an
 * audio thread's SCHED_FIFO): a plugin allowed this could demote it. */
static int
try_host_scheduler(void)
{
  struct sched_param param;
  const pid_t host = getppid();
  const int policy = sched_getscheduler(host);
  if (policy < 0 || sched_getparam(host, &param) < 0)
    return errno;
  return sched_setscheduler(host, policy, &param) < 0 ? errno : 0;
}

/* The same on our own process (its main thread), by pid and by 0: what
 * the sandbox must keep allowing. */
static int
try_self_affinity(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) < 0)
    return errno;
  if (sched_setaffinity(0, sizeof set, &set) < 0)
    return errno;
  if (sched_getaffinity(getpid(), sizeof set, &set) < 0)
    return errno;
  return sched_setaffinity(getpid(), sizeof set, &set) < 0 ? errno : 0;
}

static void*
park(void* arg)
{
  char c;
  (void)!read(*(const int*)arg, &c, 1);
  return NULL;
}

/* The same on another thread of our own, by its tid (as
 * pthread_setaffinity_np does): strict denies it, since no filter can tell
 * our tids from the host's (docs/sandbox.md). */
static int
try_thread_affinity(void)
{
  int fds[2];
  pthread_t thread;
  cpu_set_t set;
  if (pipe2(fds, O_CLOEXEC) < 0)
    return errno;
  int err = pthread_create(&thread, NULL, park, &fds[0]);
  if (!err) {
    err = pthread_getaffinity_np(thread, sizeof set, &set);
    if (!err)
      err = pthread_setaffinity_np(thread, sizeof set, &set);
    (void)!write(fds[1], "x", 1);
    (void)pthread_join(thread, NULL);
  }
  (void)close(fds[0]);
  (void)close(fds[1]);
  return err;
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

/* Whether the host's /tmp shows through: test_sandbox.c keeps this file
 * there; a private tmpfs on /tmp does not have it. */
static int
try_see_tmp(void)
{
  struct stat st;
  return stat("/tmp/pb-hostile-marker", &st) < 0 ? errno : 0;
}

/* chmod of the plugin's own file to the mode it has: changes nothing, but
 * only an owner (or root) on a writable mount may do it, and Landlock
 * does not stop it. */
static int
try_chmod_plugin(void)
{
  Dl_info info;
  struct stat st;
  if (!dladdr(&anchor, &info) || !info.dli_fname)
    return ENOENT;
  if (stat(info.dli_fname, &st) < 0)
    return errno;
  return chmod(info.dli_fname, st.st_mode & 07777) < 0 ? errno : 0;
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

/* Signal (0: only the permission check) the host's process group: the
 * parent's, as this process sees it. */
static int
try_host_group(void)
{
  const pid_t group = getpgid(getppid());
  if (group <= 0)
    return group < 0 ? errno : ESRCH;
  return result(kill(-group, 0), 0);
}

/* ------------------------------------------------------ undoing layers */

/* Switch off death with the parent, then put back what was there. */
static int
try_pdeathsig(void)
{
  int was = 0;
  if (prctl(PR_GET_PDEATHSIG, &was, 0, 0, 0) < 0)
    return errno;
  if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
    return errno;
  return prctl(PR_SET_PDEATHSIG, was, 0, 0, 0) < 0 ? errno : 0;
}

/* Let any process trace this one.  EINVAL: the kernel has no Yama, the
 * request reached it all the same. */
static int
try_ptracer(void)
{
  const int err =
    result(prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0), EINVAL);
  if (!err)
    (void)prctl(PR_SET_PTRACER, 0, 0, 0, 0);
  return err;
}

/* Make this thread real-time (FIFO 1), then put it back.  Past
 * RLIMIT_RTPRIO without CAP_SYS_NICE: EPERM. */
static int
try_rt_self(void)
{
  struct sched_param sp = { .sched_priority = 1 };
  if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
    return errno;
  sp.sched_priority = 0;
  return sched_setscheduler(0, SCHED_OTHER, &sp) < 0 ? errno : 0;
}

/* Push a byte into the input of fd 0 (the bridge's is /dev/null, which
 * answers ENOTTY: the request reached the driver). */
static int
try_tiocsti(void)
{
  const char c = '\n';
  return result(ioctl(0, TIOCSTI, &c), ENOTTY);
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
  if (BIG_BYTES == 0 || dlsym(RTLD_DEFAULT, "__asan_init")) {
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

/* ----------------------------------------------------------- architecture */

/* getpid by its i386 number through the 32-bit entry: what a plugin might
 * try to get past a filter written for x86_64 numbers only.  The kernel
 * may clear r8-r11 on the way back. */
static void
try_foreign_syscall(void)
{
#if defined(__x86_64__)
  long rc = 20; /* __NR_getpid on i386 */
  __asm__ volatile("int $0x80"
                   : "+a"(rc)
                   :
                   : "r8", "r9", "r10", "r11", "memory");
  (void)rc;
#endif
}

/* ------------------------------------------------------------- processes */

static int32_t
count_procs(void)
{
  DIR* dir = opendir("/proc");
  if (!dir)
    return -errno;
  int32_t n = 0;
  const struct dirent* e = NULL;
  while ((e = readdir(dir)))
    n += e->d_name[0] >= '1' && e->d_name[0] <= '9';
  (void)closedir(dir);
  return n;
}

static int32_t
probe_pid(const char* what, long pid)
{
  char path[64];
  struct stat st;
  if (!strcmp(what, "sched")) {
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, (id_t)pid);
    return nice == -1 && errno ? errno : 0;
  }
  if (!strcmp(what, "kill"))
    return kill((pid_t)pid, 0) < 0 ? errno : 0;
  (void)snprintf(path, sizeof path, "/proc/%ld", pid);
  return stat(path, &st) < 0 ? errno : 0;
}

/* The canDo questions above; 0 for any other. */
static int32_t
answer(const char* question)
{
  static const char prefix[] = "hostile:";
  char what[16];
  long pid = 0;
  if (strncmp(question, prefix, sizeof prefix - 1))
    return 0;
  question += sizeof prefix - 1;
  if (!strcmp(question, "pid"))
    return (int32_t)getpid();
  if (!strcmp(question, "procs"))
    return count_procs();
  if (sscanf(question, "%15[a-z]:%ld", what, &pid) != 2 || pid <= 0)
    return 0;
  if (strcmp(what, "sched") && strcmp(what, "kill") && strcmp(what, "proc"))
    return 0;
  return probe_pid(what, pid);
}

/* ------------------------------------------------------------------ plugin */

static void
attack(void)
{
  outcome[0] = '\0';
  more[0] = '\0';
  note_more("fcntl_owner_host", try_own_for_host(0));
  note_more("ioctl_owner_host", try_own_for_host(1));
  note_more("affinity_host", try_host_affinity());
  note_more("nice_host", try_host_nice());
  note_more("sched_host", try_host_scheduler());
  note_more("affinity_self", try_self_affinity());
  note_more("affinity_thread", try_thread_affinity());
  note_more("caps", try_hold_caps());
  note_more("undo_pdeathsig", try_pdeathsig());
  note_more("ptracer_any", try_ptracer());
  note_more("tiocsti", try_tiocsti());
  note_more("rt_self", try_rt_self());
  note("tcp", try_inet(SOCK_STREAM));
  note("udp", try_inet(SOCK_DGRAM));
  note("unix", try_unix());
  note("exec", try_exec());
  note("fork", try_fork());
  note("ptrace", try_ptrace());
  note("kill_host", result(kill(getppid(), 0), 0));
  note("kill_group", result(kill(0, 0), 0));
  note_more("kill_host_group", try_host_group());
  note("write_tmp", try_create("/tmp"));
  note("see_host_tmp", try_see_tmp());
  note("chmod_plugin", try_chmod_plugin());
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
  if (opcode == PB_VST_EFF_MAINS_CHANGED && value == 1)
    try_foreign_syscall();
  if (opcode == PB_VST_EFF_CAN_DO && ptr &&
      !strncmp((const char*)ptr, "hostile:", 8))
    return answer((const char*)ptr);
  /* Longer than the format's 64 bytes: the bridge's buffers hold 512. */
  if (opcode == PB_VST_EFF_GET_PRODUCT_STRING)
    return pb_tp_str_copy(ptr, outcome, sizeof outcome);
  if (opcode == PB_VST_EFF_GET_VENDOR_STRING && more[0])
    return pb_tp_str_copy(ptr, more, sizeof more);
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
