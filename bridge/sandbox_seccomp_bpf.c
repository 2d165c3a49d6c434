/* The first seccomp filter, loaded from the program compiled at build
 * time (sandbox_seccomp_gen.c, into sandbox_seccomp_allow_bpf.h): one
 * seccomp() call instead of libseccomp building the allow list at every
 * bridge start.  Should the kernel refuse that program, the list is built
 * with libseccomp as before.  No new privileges must already be set. */
#define _GNU_SOURCE /* syscall */

#include "bridge/sandbox.h"

#include "sandbox_seccomp_allow_bpf.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
load_built(void)
{
  void* ctx = NULL;
  int err = pb_sandbox_seccomp_allow_build(&ctx);
  if (!err)
    err = seccomp_load(ctx);
  seccomp_release(ctx);
  return err;
}

int
pb_sandbox_seccomp_allow(void)
{
  struct sock_fprog prog = {
    .len = (unsigned short)(sizeof pb_allow_bpf / sizeof *pb_allow_bpf),
    .filter = pb_allow_bpf,
  };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
    return 0;
  return load_built();
}
