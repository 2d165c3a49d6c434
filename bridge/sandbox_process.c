/* Sandbox layers on the process itself: stray fds, the environment, the
 * user id, death with the host and no_new_privs.
 *
 * close_range(), clearenv() and setgroups() are GNU/BSD extensions. */
#define _GNU_SOURCE

#include "bridge/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Variables a plugin may read from the host's environment; everything
 * else (tokens, session addresses, proxies, LD_PRELOAD) stays behind.
 * The sanitizer options matter only to sanitizer builds of the bridge. */
static const char* const pass_names[] = {
  "PATH",         "LANG",          "LANGUAGE",     "TZ",
  "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
};

#define MAX_KEPT 64

/* ------------------------------------------------------------------ fds */

static int
close_by_listing(int first)
{
  DIR* dir = opendir("/proc/self/fd");
  if (!dir)
    return -errno;
  const struct dirent* e = NULL;
  while ((e = readdir(dir))) {
    const int fd = atoi(e->d_name);
    if (fd >= first && fd != dirfd(dir))
      (void)close(fd);
  }
  return closedir(dir) ? -errno : 0;
}

int
pb_sandbox_close_fds(const pb_sandbox_config_t* cfg, pb_sandbox_report_t* r)
{
  const unsigned first = (unsigned)cfg->keep_fd_max + 1u;
  int err = 0;

  if (close_range(first, ~0u, 0) < 0)
    err = close_by_listing((int)first);
  pb_sandbox_note(r, "fds", err, "open: 0..%d", cfg->keep_fd_max);
  return err;
}

/* ------------------------------------------------------------------ env */

static int
passes(const char* entry)
{
  if (!strncmp(entry, "LC_", 3))
    return 1;
  for (size_t i = 0; i < sizeof pass_names / sizeof pass_names[0]; ++i) {
    const size_t n = strlen(pass_names[i]);
    if (!strncmp(entry, pass_names[i], n) && entry[n] == '=')
      return 1;
  }
  return 0;
}

/* Copies of the entries that pass, because clearenv() may free them. */
static size_t
collect(char** kept)
{
  size_t n = 0;
  for (char** e = environ; e && *e && n < MAX_KEPT; ++e)
    if (passes(*e) && (kept[n] = strdup(*e)))
      ++n;
  return n;
}

static int
set_home(const pb_sandbox_config_t* cfg)
{
  const char* home = cfg->scratch_dir ? cfg->scratch_dir : "/nonexistent";
  if (setenv("HOME", home, 1) < 0)
    return -errno;
  if (cfg->scratch_dir && setenv("TMPDIR", cfg->scratch_dir, 1) < 0)
    return -errno;
  return 0;
}

int
pb_sandbox_clean_env(const pb_sandbox_config_t* cfg, pb_sandbox_report_t* r)
{
  char* kept[MAX_KEPT];
  const size_t n = collect(kept);
  int err = clearenv() ? -ENOMEM : 0;

  for (size_t i = 0; i < n; ++i) {
    /* putenv keeps the string: it belongs to the environment from now. */
    if (!err && putenv(kept[i]))
      err = -errno;
    else if (err)
      free(kept[i]);
  }
  if (!err)
    err = set_home(cfg);
  pb_sandbox_note(r,
                  "env",
                  err,
                  "%zu variables kept, HOME=%s",
                  n,
                  cfg->scratch_dir ? cfg->scratch_dir : "/nonexistent");
  return err;
}

/* ------------------------------------------------------------------ uid */

/* Root gives up root before anything else: a plugin must not be able to
 * read what only root reads (/etc/shadow, /root) or undo the rlimits. */
int
pb_sandbox_drop_uid(pb_sandbox_report_t* r)
{
  const gid_t id = PB_SANDBOX_NOBODY;
  int err = 0;

  if (geteuid() != 0) {
    pb_sandbox_note(
      r, "uid", 0, "already unprivileged: %u", (unsigned)getuid());
    return 0;
  }
  /* Changing uid makes the process undumpable, which leaves /proc/self
   * owned by root and the user namespace's id maps unwritable. */
  if (setgroups(0, NULL) < 0 || setresgid(id, id, id) < 0 ||
      setresuid(id, id, id) < 0 || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
    err = -errno;
  pb_sandbox_note(r, "uid", err, "root -> %u", (unsigned)id);
  return err;
}

/* ------------------------------------------------------- parent, privs */

/* Armed again here because changing credentials clears it; the host may
 * have died before it took hold, then we have been re-parented.  In a pid
 * namespace the parent is the namespace's init, pid 1. */
int
pb_sandbox_parent_death(pid_t parent, pb_sandbox_report_t* r)
{
  int err = 0;

  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    err = -errno;
  else if (parent > 0 && getppid() != parent)
    err = -ESRCH;
  pb_sandbox_note(r, "pdeathsig", err, NULL);
  return err;
}

int
pb_sandbox_no_new_privs(pb_sandbox_report_t* r)
{
  int err = 0;

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    err = -errno;
  pb_sandbox_note(r, "no_new_privs", err, NULL);
  return err;
}
