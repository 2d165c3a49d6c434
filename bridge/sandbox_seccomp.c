/* Sandbox layer: seccomp, through libseccomp.  The allow list of
 * sandbox_seccomp_allow.c, then a forbid list over a default of ALLOW: no
 * sockets, no exec, no new processes (threads are fine), no ptrace or access to
 * other processes' memory, no signals or rlimits aimed at other processes, no
 * mounts, namespaces, keyrings, BPF, perf, io_uring (whose operations bypass
 * seccomp), module or kexec calls.  Violations answer EPERM; clone3 answers
 * ENOSYS, so glibc falls back to clone, whose flags a filter can read.
 *
 * Arguments that are C ints are compared on their low 32 bits only: the
 * kernel reads 32 bits, libseccomp compares 64, and a caller may set the
 * high half.  The checks below deny whatever is not exactly allowed, so a
 * set high half is denied, never let through. */
#define _GNU_SOURCE /* CLONE_THREAD */

#include "bridge/sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
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

static int
forbid(void)
{
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  int err = ctx ? 0 : -ENOMEM;

  if (!err)
    err = deny_all(ctx);
  if (!err)
    err = deny_others(ctx);
  if (!err)
    err = deny_processes(ctx);
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
