/* Sandbox layer: Landlock.  The plugin may read (and map and execute) the
 * system folders, its own folder and the paths the user granted, and
 * write only in the scratch folder; everything else on the file system is
 * out of reach, whatever the file permissions say.
 *
 * Raw syscalls: glibc 2.36 has no wrappers.  The rights handled are those
 * of the ABI the kernel reports, so an older kernel gets what it can
 * enforce.  Landlock does not cover chmod, chown, utime or xattrs of
 * reachable files, nor files already open (the control socket). */
#define _GNU_SOURCE /* syscall() */

#include "bridge/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#define READ_RIGHTS                                                            \
  (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |                 \
   LANDLOCK_ACCESS_FS_READ_DIR)
#define FILE_RIGHTS                                                            \
  (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |                 \
   LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)

/* Read-only everywhere they exist.  /proc/self is resolved to this
 * process's own folder: the rest of /proc shows the host's processes. */
static const char* const system_paths[] = {
  "/usr",
  "/lib",
  "/lib64",
  "/lib32",
  "/bin",
  "/sbin",
  "/etc",
  "/opt",
  "/proc/self",
  "/proc/cpuinfo",
  "/proc/meminfo",
  "/proc/stat",
  "/sys/devices/system/cpu",
  "/dev/zero",
  "/dev/urandom",
  "/dev/random",
};

static long
ll_create(const struct landlock_ruleset_attr* attr, size_t size, uint32_t flags)
{
  return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

/* All rights the kernel's ABI knows, as a mask. */
static uint64_t
handled_rights(int abi)
{
  uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
  if (abi >= 2)
    all |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3)
    all |= LANDLOCK_ACCESS_FS_TRUNCATE;
  return all;
}

/* Allow `rights` (within `handled`) beneath `path`.  A missing path is no
 * error: not every system has /lib32 or /opt. */
static int
allow(int ruleset, const char* path, uint64_t rights, uint64_t handled)
{
  struct landlock_path_beneath_attr rule = { 0, -1 };
  struct stat st;

  rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
  if (rule.parent_fd < 0)
    return errno == ENOENT || errno == EACCES ? 0 : -errno;
  if (fstat(rule.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode))
    rights &= FILE_RIGHTS;
  rule.allowed_access = rights & handled;
  const long rc = syscall(
    SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
  const int err = rc < 0 ? -errno : 0;
  (void)close(rule.parent_fd);
  return err;
}

/* The folder holding the plugin: its presets, data files and the
 * libraries it ships beside itself. */
static int
allow_plugin_dir(int ruleset, const char* plugin, uint64_t handled)
{
  char dir[4096];
  if (!plugin || snprintf(dir, sizeof dir, "%s", plugin) >= (int)sizeof dir)
    return 0;
  char* slash = strrchr(dir, '/');
  if (!slash)
    return 0;
  slash[slash == dir ? 1 : 0] = '\0';
  return allow(ruleset, dir, READ_RIGHTS, handled);
}

static int
add_rules(int fd, const pb_sandbox_config_t* cfg, uint64_t handled)
{
  int err = 0;
  for (size_t i = 0; !err && i < sizeof system_paths / sizeof *system_paths;
       ++i)
    err = allow(fd, system_paths[i], READ_RIGHTS, handled);
  for (size_t i = 0; !err && i < cfg->n_read_paths; ++i)
    err = allow(fd, cfg->read_paths[i], READ_RIGHTS, handled);
  if (!err)
    err = allow_plugin_dir(fd, cfg->plugin_path, handled);
  if (!err)
    err = allow(fd, "/dev/null", READ_RIGHTS | FILE_RIGHTS, handled);
  if (!err && cfg->scratch_dir)
    err = allow(fd, cfg->scratch_dir, handled, handled);
  if (!err && pb_sandbox_private_tmp())
    err = allow(fd, pb_sandbox_private_tmp(), handled, handled);
  return err;
}

static int
restrict_self(const pb_sandbox_config_t* cfg, int abi)
{
  struct landlock_ruleset_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.handled_access_fs = handled_rights(abi);

  const long fd = ll_create(&attr, sizeof attr, 0);
  if (fd < 0)
    return -errno;
  int err = add_rules((int)fd, cfg, attr.handled_access_fs);
  /* Landlock needs no_new_privs (or CAP_SYS_ADMIN); it is set by now. */
  if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    err = -errno;
  if (!err && syscall(SYS_landlock_restrict_self, (int)fd, 0) < 0)
    err = -errno;
  (void)close((int)fd);
  return err;
}

int
pb_sandbox_landlock(const pb_sandbox_config_t* cfg, pb_sandbox_report_t* r)
{
  const long abi = ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) {
    const int err = -errno;
    pb_sandbox_note(r, "landlock", err, "kernel without Landlock");
    return err;
  }
  const int err = restrict_self(cfg, (int)abi);
  pb_sandbox_note(r,
                  "landlock",
                  err,
                  "ABI %ld, writable: %s%s%s",
                  abi,
                  cfg->scratch_dir ? cfg->scratch_dir : "",
                  cfg->scratch_dir && pb_sandbox_private_tmp() ? ", " : "",
                  pb_sandbox_private_tmp() ? "private /tmp"
                  : cfg->scratch_dir       ? ""
                                           : "none");
  return err;
}
