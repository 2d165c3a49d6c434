/* Sandbox layer: a mount namespace of the bridge's own, inside its user
 * namespace.  Every mount it inherits becomes read-only, which closes
 * what Landlock leaves open on readable files (chmod, chown, utime,
 * xattrs); the writable folder, if any, is bind-mounted onto itself first
 * and stays writable; and /tmp is a private tmpfs, the plugin's scratch
 * space, gone with the bridge.  Landlock then admits writes to that /tmp
 * (pb_sandbox_private_tmp()).  What the bridge needs from the host's
 * /tmp (the plugin's folder, the extra read paths, the writable folder)
 * is bind-mounted into the new /tmp at the same path.  In a pid namespace
 * of its own (sandbox_pidns.c) the bridge also mounts a /proc of that
 * namespace over the host's: it shows the bridge's own two processes and
 * init, and none of the host's.
 *
 * A mount namespace made in a user namespace is less privileged than the
 * host's: mounts shared with the host arrive as slaves, so nothing made
 * here propagates back.  mount_setattr() needs Linux 5.12; without it the
 * view stays writable (Landlock still decides) and the report says so. */
#define _GNU_SOURCE /* unshare, mount_setattr */

#include "bridge/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRIVATE_TMP "/tmp"
#define TMPFS_OPTIONS "size=64m,nr_inodes=16384,mode=0700"
#define MAX_KEPT (PB_SANDBOX_MAX_PATHS + 2)

/* Paths under the host's /tmp to carry into the private one, held open
 * (O_PATH) across the tmpfs mount. */
typedef struct
{
  const char* path[MAX_KEPT];
  char plugin_dir[4096];
  int fd[MAX_KEPT];
  size_t n;
} kept_t;

static int private_tmp_mounted;

const char*
pb_sandbox_private_tmp(void)
{
  return private_tmp_mounted ? PRIVATE_TMP : NULL;
}

static int
set_readonly(const char* path, int on)
{
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  if (on)
    attr.attr_set = MOUNT_ATTR_RDONLY;
  else
    attr.attr_clr = MOUNT_ATTR_RDONLY;
  return mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr) < 0
           ? -errno
           : 0;
}

/* Everything read-only but the writable folder, kept as its own bind
 * mount.  Returns 0 or -errno. */
static int
readonly_view(const pb_sandbox_config_t* cfg)
{
  const char* keep = cfg->scratch_dir;
  if (keep && mount(keep, keep, NULL, MS_BIND | MS_REC, NULL) < 0)
    return -errno;
  int err = set_readonly("/", 1);
  if (!err && keep)
    err = set_readonly(keep, 0);
  return err;
}

/* A /proc of our pid namespace on top of the host's, before the view goes
 * read-only (which then covers it too).  The kernel admits it only where
 * the host's /proc is fully visible (no paths masked by other mounts). */
static int
fresh_proc(void)
{
  if (!pb_sandbox_in_pid_namespace())
    return -ENOTSUP;
  return mount(
           "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0
           ? -errno
           : 0;
}

static int
under_tmp(const char* path)
{
  const size_t n = strlen(PRIVATE_TMP);
  return path && !strncmp(path, PRIVATE_TMP, n) && path[n] == '/';
}

static void
keep(kept_t* k, const char* path)
{
  if (!under_tmp(path) || k->n == MAX_KEPT)
    return;
  const int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0)
    return; /* missing: nothing to carry over */
  k->path[k->n] = path;
  k->fd[k->n++] = fd;
}

static void
keep_all(kept_t* k, const pb_sandbox_config_t* cfg)
{
  k->n = 0;
  if (cfg->plugin_path &&
      snprintf(k->plugin_dir, sizeof k->plugin_dir, "%s", cfg->plugin_path) <
        (int)sizeof k->plugin_dir) {
    char* slash = strrchr(k->plugin_dir, '/');
    if (slash)
      *slash = '\0';
    keep(k, k->plugin_dir);
  }
  for (size_t i = 0; i < cfg->n_read_paths; ++i)
    keep(k, cfg->read_paths[i]);
  keep(k, cfg->scratch_dir);
}

/* mkdir -p for `path` inside the new /tmp, the last part a folder or an
 * empty file as `fd` is, to mount onto. */
static int
make_mount_point(const char* path, int fd)
{
  char buf[4096];
  struct stat st;
  if (fstat(fd, &st) < 0 ||
      snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return -ENAMETOOLONG;
  for (char* at = buf + strlen(PRIVATE_TMP) + 1; (at = strchr(at, '/')); ++at) {
    *at = '\0';
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
      return -errno;
    *at = '/';
  }
  if (S_ISDIR(st.st_mode))
    return mkdir(path, 0700) < 0 && errno != EEXIST ? -errno : 0;
  const int file = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (file < 0)
    return -errno;
  (void)close(file);
  return 0;
}

/* Bind each kept path at its old place in the new /tmp; closes the fds. */
static int
carry_over(kept_t* k)
{
  char from[64];
  int err = 0;
  for (size_t i = 0; i < k->n; ++i) {
    (void)snprintf(from, sizeof from, "/proc/self/fd/%d", k->fd[i]);
    if (!err)
      err = make_mount_point(k->path[i], k->fd[i]);
    if (!err && mount(from, k->path[i], NULL, MS_BIND | MS_REC, NULL) < 0)
      err = -errno;
    (void)close(k->fd[i]);
  }
  k->n = 0;
  return err;
}

/* The tmpfs on /tmp, with what the bridge needs from the old one. */
static int
private_tmp(const pb_sandbox_config_t* cfg)
{
  kept_t k;
  keep_all(&k, cfg);
  int err =
    mount("tmpfs", PRIVATE_TMP, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_OPTIONS) <
        0
      ? -errno
      : 0;
  const int carry_err = carry_over(&k);
  if (!err && carry_err) {
    /* Half a /tmp would hide the plugin: take the tmpfs away again. */
    (void)umount2(PRIVATE_TMP, MNT_DETACH);
    err = carry_err;
  }
  return err;
}

int
pb_sandbox_mount_view(const pb_sandbox_config_t* cfg, pb_sandbox_report_t* r)
{
  char detail[240];
  if (unshare(CLONE_NEWNS) < 0) {
    const int err = -errno;
    pb_sandbox_note(r, "mountns", err, NULL);
    return err;
  }
  const int proc_err = fresh_proc();
  const int ro_err = readonly_view(cfg);
  const int tmp_err = private_tmp(cfg);
  private_tmp_mounted = !tmp_err;
  (void)snprintf(detail,
                 sizeof detail,
                 "view %s%s%s, %s %s%s%s, /proc %s%s",
                 ro_err ? "writable: " : "read-only",
                 ro_err ? strerror(-ro_err) : "",
                 ro_err || !cfg->scratch_dir ? "" : " but the writable folder",
                 PRIVATE_TMP,
                 tmp_err ? "not private: " : "private tmpfs",
                 tmp_err ? strerror(-tmp_err) : "",
                 tmp_err ? "" : " (64 MiB)",
                 proc_err ? "the host's: " : "of the pid namespace",
                 proc_err ? strerror(-proc_err) : "");
  pb_sandbox_note(r, "mountns", 0, "%s", detail);
  return 0;
}
