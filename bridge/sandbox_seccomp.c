/* Sandbox layer: seccomp, through libseccomp.  The allow list of
 * sandbox_seccomp_allow.c, then a forbid list over a default of ALLOW: no
 * sockets, no exec, no new processes (threads are fine), no ptrace or
 * access to other processes' memory, no signals or rlimits aimed at other
 * processes, no file owners (another way to signal them), no mounts,
 * namespaces, keyrings, BPF, perf, io_uring (whose operations bypass
 * seccomp), module or kexec calls.  Violations answer EPERM; clone3
 * answers ENOSYS, so glibc falls back to clone, whose flags a filter can
 * read.
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
#define _GNU_SOURCE /* CLONE_THREAD */

#include "bridge/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
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
    err = seccomp_load(ctx);
  seccomp_release(ctx);
  return err;
}

/* Two stacked filters (../shared/DESIGN.md): the allow list first, then
 * this forbid list, whose EPERM wins over the allow list's ENOSYS. */
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
