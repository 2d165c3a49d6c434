/* Sandbox layer: seccomp, through libseccomp.  The allow list of
 * sandbox_seccomp_allow.c, then a forbid list over a default of ALLOW: no
 * sockets, no exec, no new processes (threads are fine), no ptrace or
 * access to other processes' memory, no signals, rlimits or scheduling
 * aimed at other processes, no file owners (another way to signal them),
 * no mounts, namespaces, keyrings, BPF, perf, io_uring (whose operations
 * bypass seccomp), module or kexec calls, and the few ioctl and prctl
 * requests that would undo a layer or reach past the sandbox.
 * Violations answer EPERM; clone3 answers ENOSYS, so glibc falls back to
 * clone, whose flags a filter can read.
 *
 * A syscall of another architecture (int 0x80 in a 64-bit bridge, x32
 * calls) is no errno case: each filter answers it with a trap, and the
 * SIGSYS handler below names the call on stderr (the host's log) and
 * kills the bridge, which the host reports as a sandbox violation.  A
 * thread that blocks SIGSYS is killed by the kernel all the same.
 *
 * Arguments that are C ints are compared on their low 32 bits only: the
 * kernel reads 32 bits, libseccomp compares 64, and a caller may set the
 * high half.  The checks below deny whatever is not exactly allowed, so a
 * set high half is denied, never let through. */
#define _GNU_SOURCE /* CLONE_THREAD, syscall */

#include "bridge/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Forbidden whatever their arguments. */
static const int denied[] = {
  SCMP_SYS(socket),
  SCMP_SYS(connect),
  SCMP_SYS(bind),
  SCMP_SYS(listen),
  SCMP_SYS(accept),
  SCMP_SYS(accept4),
  SCMP_SYS(execve),
  SCMP_SYS(execveat),
  SCMP_SYS(fork),
  SCMP_SYS(vfork),
  SCMP_SYS(ptrace),
  SCMP_SYS(process_vm_readv),
  SCMP_SYS(process_vm_writev),
  SCMP_SYS(mount),
  SCMP_SYS(umount2),
  SCMP_SYS(pivot_root),
  SCMP_SYS(chroot),
  SCMP_SYS(setns),
  SCMP_SYS(unshare),
  SCMP_SYS(bpf),
  SCMP_SYS(perf_event_open),
  SCMP_SYS(keyctl),
  SCMP_SYS(add_key),
  SCMP_SYS(request_key),
  SCMP_SYS(kexec_load),
  SCMP_SYS(kexec_file_load),
  SCMP_SYS(init_module),
  SCMP_SYS(finit_module),
  SCMP_SYS(delete_module),
  SCMP_SYS(reboot),
  SCMP_SYS(swapon),
  SCMP_SYS(swapoff),
  SCMP_SYS(pidfd_open),
  SCMP_SYS(pidfd_getfd),
  SCMP_SYS(pidfd_send_signal),
  SCMP_SYS(kcmp),
  SCMP_SYS(open_by_handle_at),
  SCMP_SYS(userfaultfd),
  SCMP_SYS(io_uring_setup),
  SCMP_SYS(io_uring_enter),
  SCMP_SYS(io_uring_register),
  SCMP_SYS(mount_setattr),
  SCMP_SYS(fsopen),
  SCMP_SYS(fsmount),
  SCMP_SYS(move_mount),
  SCMP_SYS(open_tree),
};

/* Aimed at a process by their first argument: allowed only at ourselves. */
static const int self_only[] = {
  SCMP_SYS(kill),
  SCMP_SYS(tgkill),
  SCMP_SYS(tkill),
  SCMP_SYS(rt_sigqueueinfo),
  SCMP_SYS(rt_tgsigqueueinfo),
};

static int
deny_all(scmp_filter_ctx ctx)
{
  int err = 0;
  for (size_t i = 0; !err && i < sizeof denied / sizeof *denied; ++i)
    err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
  return err;
}

/* kill(0) and kill(-1) reach the host too: anything but our own pid is
 * denied.  prlimit64 with pid 0 is how glibc's setrlimit works. */
static int
deny_others(scmp_filter_ctx ctx)
{
  const scmp_datum_t self = (scmp_datum_t)getpid();
  int err = 0;
  for (size_t i = 0; !err && i < sizeof self_only / sizeof *self_only; ++i)
    err = seccomp_rule_add(
      ctx, SCMP_ACT_ERRNO(EPERM), self_only[i], 1, SCMP_A0(SCMP_CMP_NE, self));
  if (!err)
    err = seccomp_rule_add(ctx,
                           SCMP_ACT_ERRNO(EPERM),
                           SCMP_SYS(prlimit64),
                           1,
                           SCMP_A0(SCMP_CMP_NE, 0));
  return err;
}

/* A file's owner (F_SETOWN) gets its SIGIO, SIGURG and F_NOTIFY signals:
 * owning a file with O_ASYNC set would be a way to signal the host past
 * the kill rules (the kernel checks only that the uids match, which they
 * do for a host that is not root).  Nobody but that trick needs an owner
 * in a plugin, so setting one is denied, by fcntl or by ioctl. */
static int
deny_owners(scmp_filter_ctx ctx)
{
  enum
  {
    N_CMDS = 2
  };
  static const char* const fcntls[] = { "fcntl", "fcntl64" };
  static const scmp_datum_t fcntl_cmds[N_CMDS] = { F_SETOWN, F_SETOWN_EX };
  static const scmp_datum_t ioctl_cmds[N_CMDS] = { FIOSETOWN, SIOCSPGRP };
  const scmp_datum_t low = 0xffffffffu;
  int err = 0;
  for (size_t i = 0; !err && i < sizeof fcntls / sizeof *fcntls; ++i) {
    const int nr = seccomp_syscall_resolve_name(fcntls[i]);
    for (size_t c = 0; nr != __NR_SCMP_ERROR && !err && c < N_CMDS; ++c)
      err = seccomp_rule_add(ctx,
                             SCMP_ACT_ERRNO(EPERM),
                             nr,
                             1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, low, fcntl_cmds[c]));
  }
  for (size_t c = 0; !err && c < N_CMDS; ++c)
    err = seccomp_rule_add(ctx,
                           SCMP_ACT_ERRNO(EPERM),
                           SCMP_SYS(ioctl),
                           1,
                           SCMP_A1(SCMP_CMP_MASKED_EQ, low, ioctl_cmds[c]));
  return err;
}

/* Requests of allowed calls that would undo a layer or reach out of the
 * sandbox.  prctl: PR_SET_PDEATHSIG would let the bridge outlive its host
 * (pdeathsig is how it dies with it), PR_SET_PTRACER would admit a
 * tracer from outside, PR_SET_MM rewrites what /proc says of the process.
 * ioctl: TIOCSTI pushes input into a terminal (into the user's shell,
 * should one ever be reachable: the classic sandbox escape), TIOCLINUX
 * reaches the console.  Other requests stay allowed: plugins and their
 * libraries ask terminals (TCGETS, for isatty) and set names (PR_SET_NAME)
 * and no other one reaches past the earlier layers. */
static int
deny_requests(scmp_filter_ctx ctx)
{
  static const scmp_datum_t prctls[] = { PR_SET_PDEATHSIG,
                                         PR_SET_PTRACER,
                                         PR_SET_MM };
  static const scmp_datum_t ioctls[] = { TIOCSTI, TIOCLINUX };
  const scmp_datum_t low = 0xffffffffu;
  int err = 0;
  for (size_t i = 0; !err && i < sizeof prctls / sizeof *prctls; ++i)
    err = seccomp_rule_add(ctx,
                           SCMP_ACT_ERRNO(EPERM),
                           SCMP_SYS(prctl),
                           1,
                           SCMP_A0(SCMP_CMP_MASKED_EQ, low, prctls[i]));
  for (size_t i = 0; !err && i < sizeof ioctls / sizeof *ioctls; ++i)
    err = seccomp_rule_add(ctx,
                           SCMP_ACT_ERRNO(EPERM),
                           SCMP_SYS(ioctl),
                           1,
                           SCMP_A1(SCMP_CMP_MASKED_EQ, low, ioctls[i]));
  return err;
}

/* Threads (CLONE_THREAD) are fine; a new process is not. */
static int
deny_processes(scmp_filter_ctx ctx)
{
  int err = seccomp_rule_add(
    ctx,
    SCMP_ACT_ERRNO(EPERM),
    SCMP_SYS(clone),
    1,
    SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)CLONE_THREAD, 0));
  if (!err)
    err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  return err;
}

/* -------------------------------------------------- others' scheduling */

/* Calls that change (or, get_robust_list, read) the scheduling of the
 * thread or process their pid argument names: allowed only at pid 0 (the
 * calling thread) or at our own pid (our main thread).  Without a pid
 * namespace the host's threads have numbers here, and a host that is not
 * root shares our uid, so the kernel's own checks let a plugin pin,
 * renice or demote them.  Our other threads' tids are denied too: no
 * filter can tell them from the host's (docs/sandbox.md, "others'
 * scheduling").  setpriority and ioprio_set aim at a process only with
 * PRIO_PROCESS and IOPRIO_WHO_PROCESS; a process group or a user (which
 * includes the host) is denied.  The pid arguments are C ints: only their
 * low 32 bits are compared, as the kernel reads them.
 *
 * libseccomp rejects two comparisons of one argument in a rule (EINVAL),
 * so "pid is 0 or ours" is this short program of its own, stacked after
 * the forbid list and built here because it holds our pid. */

#define IOPRIO_WHO_PROCESS_ 1 /* linux/ioprio.h, not in every libc */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LOW_HALF 4
#else
#define LOW_HALF 0
#endif
#define ARG_LOW(i)                                                             \
  ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i) + LOW_HALF))

/* The calls whose first argument is the pid. */
static const uint32_t pid_first[] = {
  SYS_sched_setaffinity, SYS_sched_setparam,  SYS_sched_setscheduler,
  SYS_sched_setattr,     SYS_get_robust_list,
};

static int
deny_others_scheduling(void)
{
  enum
  {
    N_FIRST = sizeof pid_first / sizeof *pid_first,
    /* labels, counted from the first syscall compare (prog[4]) */
    AT_A0 = N_FIRST + 3, /* after the compares, the two others and ALLOW */
    AT_PRIO = AT_A0 + 4, /* A0 block: load, two compares, deny */
    AT_IOPRIO = AT_PRIO + 2,
    AT_A1 = AT_IOPRIO + 2,
    AT_DENY = AT_A1 + 3,
    AT_ALLOW = AT_DENY + 1,
    N = 4 + AT_ALLOW + 1 /* the arch check and the nr load come first */
  };
  const uint32_t self = (uint32_t)getpid();
  const uint32_t allow = SECCOMP_RET_ALLOW;
  const uint32_t deny = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
  struct sock_filter prog[N];
  size_t n = 0;
  /* Another architecture's calls: the other filters trap them. */
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                           offsetof(struct seccomp_data, arch));
  prog[n++] = (struct sock_filter)BPF_JUMP(
    BPF_JMP | BPF_JEQ | BPF_K, seccomp_arch_native(), 1, 0);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, allow);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                           offsetof(struct seccomp_data, nr));
  /* A jump's offsets count from the instruction after it; label L of the
   * enum sits at prog[4 + L]. */
  for (size_t i = 0; i < N_FIRST; ++i)
    prog[n++] = (struct sock_filter)BPF_JUMP(
      BPF_JMP | BPF_JEQ | BPF_K, pid_first[i], (uint8_t)(AT_A0 - i - 1), 0);
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                           SYS_setpriority,
                                           (uint8_t)(AT_PRIO - N_FIRST - 1),
                                           0);
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                           SYS_ioprio_set,
                                           (uint8_t)(AT_IOPRIO - N_FIRST - 2),
                                           0);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, allow);
  /* AT_A0: pid in the first argument */
  prog[n++] =
    (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0));
  prog[n++] = (struct sock_filter)BPF_JUMP(
    BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)(AT_ALLOW - AT_A0 - 2), 0);
  prog[n++] = (struct sock_filter)BPF_JUMP(
    BPF_JMP | BPF_JEQ | BPF_K, self, (uint8_t)(AT_ALLOW - AT_A0 - 3), 0);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
  /* AT_PRIO: setpriority(which, who, nice), which must be PRIO_PROCESS */
  prog[n++] =
    (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0));
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                           PRIO_PROCESS,
                                           (uint8_t)(AT_A1 - AT_PRIO - 2),
                                           (uint8_t)(AT_DENY - AT_PRIO - 2));
  /* AT_IOPRIO: ioprio_set(which, who, prio), IOPRIO_WHO_PROCESS only */
  prog[n++] =
    (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0));
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                           IOPRIO_WHO_PROCESS_,
                                           (uint8_t)(AT_A1 - AT_IOPRIO - 2),
                                           (uint8_t)(AT_DENY - AT_IOPRIO - 2));
  /* AT_A1: the pid in the second argument */
  prog[n++] =
    (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(1));
  prog[n++] = (struct sock_filter)BPF_JUMP(
    BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)(AT_ALLOW - AT_A1 - 2), 0);
  prog[n++] = (struct sock_filter)BPF_JUMP(
    BPF_JMP | BPF_JEQ | BPF_K, self, (uint8_t)(AT_ALLOW - AT_A1 - 3), 0);
  /* AT_DENY, AT_ALLOW */
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, allow);
  if (n != N)
    return -EFAULT; /* the labels above are wrong */
  struct sock_fprog fprog = { .len = (unsigned short)n, .filter = prog };
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0 ? 0
                                                                       : -errno;
}

/* ------------------------------------------------------- violations */

#define TRAPPED_BY_SECCOMP 1 /* si_code of a seccomp trap: SYS_SECCOMP */

static struct sigaction chained; /* the SIGSYS action before ours */

static size_t
put_str(char* buf, size_t at, size_t cap, const char* s)
{
  while (*s && at + 1 < cap)
    buf[at++] = *s++;
  return at;
}

static size_t
put_dec(char* buf, size_t at, size_t cap, unsigned long v)
{
  char digits[24];
  size_t n = 0;
  do
    digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (n && at + 1 < cap)
    buf[at++] = digits[--n];
  return at;
}

static const char*
arch_name(unsigned arch)
{
  switch (arch) {
    case SCMP_ARCH_X86:
      return "i386 ";
    case SCMP_ARCH_X86_64:
      return "x86_64 ";
    case SCMP_ARCH_X32:
      return "x32 ";
    default:
      return "";
  }
}

/* Write "sandbox violation (i386 syscall 20: getpid)" to stderr, then hand
 * over to the handler that was there before (the crash note), else die of
 * SIGSYS.  The name lookup allocates: acceptable on the way out, since a
 * trap fires at a syscall instruction, never inside malloc. */
static void
on_sigsys(int sig, siginfo_t* info, void* context)
{
  char line[160];
  size_t n = put_str(
    line, 0, sizeof line, "\nplugbox-bridge: " PB_SANDBOX_VIOLATION " (");
  if (info->si_code == TRAPPED_BY_SECCOMP) {
    n = put_str(line, n, sizeof line, arch_name(info->si_arch));
    n = put_str(line, n, sizeof line, "syscall ");
    n = put_dec(line, n, sizeof line, (unsigned long)info->si_syscall);
    const char* name =
      seccomp_syscall_resolve_num_arch(info->si_arch, info->si_syscall);
    n = put_str(line, n, sizeof line, ": ");
    n = put_str(line, n, sizeof line, name ? name : "?");
  } else {
    n = put_str(line, n, sizeof line, "SIGSYS");
  }
  n = put_str(line, n, sizeof line, ")\n");
  (void)!write(STDERR_FILENO, line, n);
  if ((chained.sa_flags & SA_SIGINFO) && chained.sa_sigaction) {
    chained.sa_sigaction(sig, info, context);
    return;
  }
  (void)signal(sig, SIG_DFL);
  (void)raise(sig);
}

static int
trap_violations(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  (void)sigemptyset(&sa.sa_mask);
  return sigaction(SIGSYS, &sa, &chained) < 0 ? -errno : 0;
}

/* ------------------------------------------------------------ filter */

static int
forbid(void)
{
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  int err = ctx ? 0 : -ENOMEM;

  if (!err)
    err = pb_sandbox_seccomp_bad_arch(ctx);
  if (!err)
    err = deny_all(ctx);
  if (!err)
    err = deny_others(ctx);
  if (!err)
    err = deny_processes(ctx);
  if (!err)
    err = deny_owners(ctx);
  if (!err)
    err = deny_requests(ctx);
  if (!err)
    err = seccomp_load(ctx);
  seccomp_release(ctx);
  if (!err)
    err = deny_others_scheduling();
  return err;
}

/* Stacked filters (../shared/DESIGN.md): the allow list first, then this
 * forbid list (and its scheduling part), whose EPERM wins over the allow
 * list's ENOSYS. */
int
pb_sandbox_seccomp(pb_sandbox_report_t* r)
{
  /* Without the allow list the forbid list still holds. */
  (void)trap_violations();
  const int allow_err = pb_sandbox_seccomp_allow();
  const int err = forbid();
  pb_sandbox_note(r,
                  "seccomp",
                  err,
                  "%s",
                  allow_err ? "forbid list only, EPERM"
                            : "allow list (ENOSYS) + forbid list (EPERM)");
  return err;
}
