/* Sandbox layer: namespaces.  A user namespace (the bridge keeps its own
 * uid, mapped onto itself), and inside it a network namespace (no
 * interface but a loopback that is down: no network at all) and an IPC
 * namespace (no System V objects of the host).
 *
 * unshare() cannot be undone, so the user namespace is tried first in a
 * throwaway child; net and ipc either take effect whole or fail without
 * changing anything, so they are tried in place.  unshare(CLONE_NEWUSER)
 * fails with EINVAL in a process with threads: this runs before libuv or
 * the plugin start any.  unshare() is a GNU extension. */
#define _GNU_SOURCE

#include "bridge/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_CAPS 64 /* past the last capability any kernel knows */

typedef struct
{
  uid_t uid;
  gid_t gid;
} ids_t;

static int
write_file(const char* path, const char* text)
{
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  const size_t len = strlen(text);
  const ssize_t n = write(fd, text, len);
  const int err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
  (void)close(fd);
  return err;
}

/* Map our ids onto themselves, so files keep their owners as seen from
 * inside.  setgroups must be denied before an unprivileged gid map. */
static int
map_ids(const ids_t* ids)
{
  char line[64];
  int err = write_file("/proc/self/setgroups", "deny");
  if (err && err != -ENOENT)
    return err;
  (void)snprintf(
    line, sizeof line, "%u %u 1\n", (unsigned)ids->gid, (unsigned)ids->gid);
  err = write_file("/proc/self/gid_map", line);
  if (err)
    return err;
  (void)snprintf(
    line, sizeof line, "%u %u 1\n", (unsigned)ids->uid, (unsigned)ids->uid);
  return write_file("/proc/self/uid_map", line);
}

static int
enter_userns(void* arg)
{
  if (unshare(CLONE_NEWUSER) < 0)
    return -errno;
  return map_ids((const ids_t*)arg);
}

static int
unshare_one(pb_sandbox_report_t* r, const char* name, int flag)
{
  const int err = unshare(flag) < 0 ? -errno : 0;
  pb_sandbox_note(r, name, err, NULL);
  return err;
}

int
pb_sandbox_namespaces(pb_sandbox_report_t* r)
{
  ids_t ids = { geteuid(), getegid() };
  int err = pb_sandbox_in_child(enter_userns, &ids);

  if (!err)
    err = enter_userns(&ids);
  pb_sandbox_note(r, "userns", err, err ? "probed in a child" : NULL);
  if (err) {
    pb_sandbox_note(r, "netns", -ENOTSUP, "needs a user namespace");
    pb_sandbox_note(r, "ipcns", -ENOTSUP, "needs a user namespace");
    return err;
  }
  (void)unshare_one(r, "netns", CLONE_NEWNET);
  (void)unshare_one(r, "ipcns", CLONE_NEWIPC);
  return 0;
}

/* The creator of a user namespace holds every capability inside it: over
 * the namespaces it made and the files of its mapped ids.  Nothing after
 * this point needs one (Landlock and seccomp rely on no_new_privs), so
 * all go: the bounding set first (that needs CAP_SETPCAP), then the
 * ambient, effective, permitted and inheritable sets. */
int
pb_sandbox_drop_caps(pb_sandbox_report_t* r)
{
  int err = 0;
  int n = 0;
  while (n < MAX_CAPS && prctl(PR_CAPBSET_DROP, n, 0, 0, 0) == 0)
    ++n;
  if (n < MAX_CAPS && errno != EINVAL) /* EINVAL: past the last one */
    err = -errno;
  if (!err && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
      errno != EINVAL)
    err = -errno;
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct none[2];
  memset(none, 0, sizeof none);
  if (!err && syscall(SYS_capset, &header, none) < 0)
    err = -errno;
  pb_sandbox_note(r, "caps", err, err ? NULL : "all %d dropped", n);
  return err;
}
