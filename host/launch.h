/* Finding the bridge executable and starting it.  Private to libplugbox. */
#ifndef PB_HOST_LAUNCH_H
#define PB_HOST_LAUNCH_H

#include "common/elf.h"

#include <stddef.h>
#include <sys/types.h>

/* A started bridge and the host's ends of its channels. */
typedef struct
{
  pid_t pid;
  int ctl_fd; /* host end of the control socket (the bridge has fd 3) */
  int log_fd; /* read end of the bridge's stdout + stderr */
  int pidfd;  /* pidfd of the child, or -1 if the kernel lacks pidfd_open */
  /* In: more bridge arguments (the sandbox's), NULL-terminated, at most
   * PB_LAUNCH_MAX_ARGS; or NULL.  Borrowed; pb_launch_start() keeps it. */
  const char* const* args;
} pb_child_t;

#define PB_LAUNCH_MAX_ARGS 80

/** Find the bridge for plugins of `arch`: `explicit_path` if not NULL,
 *  else $PLUGBOX_BRIDGE if set, else plugbox-bridge next to the library, in
 *  ../libexec/plugbox beside it, and in the install directory.  For i386
 *  plugins in a 64-bit host, $PLUGBOX_BRIDGE_32 and plugbox-bridge-32
 *  instead.  Writes the executable's path to `out`.  Returns 0, or -ENOENT
 *  with `err` naming every path tried. */
int pb_launch_find(const char* explicit_path,
                   pb_arch_t arch,
                   char* out,
                   size_t out_cap,
                   char* err,
                   size_t err_cap);

/** Start `bridge` with the control socket on fd 3, stdin from /dev/null and
 *  stdout + stderr into one pipe, and, if `shm_fd` >= 0, the shared audio
 *  block on fd 4 (`--shm-fd 4`; the caller keeps `shm_fd`).  All returned
 *  fds are close-on-exec and the control socket is non-blocking.  Returns
 *  0 or -errno. */
int pb_launch_start(const char* bridge, int shm_fd, pb_child_t* out);

/** Send SIGKILL to `child`, through its pidfd when there is one (immune to
 *  pid reuse), else by pid.  The caller guarantees the child is not yet
 *  reaped when there is no pidfd. */
void pb_launch_kill(const pb_child_t* child);

/** Close the fds of `child` that are still open (>= 0) and set them to -1.
 *  Does not touch the process. */
void pb_launch_close_fds(pb_child_t* child);

#endif /* PB_HOST_LAUNCH_H */
