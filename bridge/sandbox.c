/* The sandbox's order of layers, its report and the checks that follow
 * from it.  The layers themselves live one per file (sandbox.h).
 *
 * The order is the one that works (../shared/DESIGN.md): fds and the
 * environment first (cheap, and nothing later needs them), rlimits, then
 * the credential changes (root drops to nobody, user namespace, pid
 * namespace: from there on the caller is a supervisor and the layers go on
 * in its grandchild, sandbox_pidns.c), then parent death (a credential change
 * clears it), no_new_privs, and last Landlock and seccomp, which forbid what
 * the earlier steps needed. */
#include "bridge/sandbox.h"

#include "host/plugbox.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pb_sandbox_report_t the_report;
static const pb_sandbox_config_t* the_config;

static const char* const profile_names[] = { "off", "basic", "strict" };

/* Layers in report order, with the lowest profile that applies each. */
static const struct
{
  const char* name;
  int profile;
} layers[] = {
  { "fds", PB_SANDBOX_BASIC },          { "env", PB_SANDBOX_BASIC },
  { "rlimit", PB_SANDBOX_BASIC },       { "uid", PB_SANDBOX_STRICT },
  { "userns", PB_SANDBOX_STRICT },      { "netns", PB_SANDBOX_STRICT },
  { "ipcns", PB_SANDBOX_STRICT },       { "pidns", PB_SANDBOX_STRICT },
  { "mountns", PB_SANDBOX_STRICT },     { "nproc", PB_SANDBOX_STRICT },
  { "caps", PB_SANDBOX_STRICT },        { "pdeathsig", PB_SANDBOX_BASIC },
  { "no_new_privs", PB_SANDBOX_BASIC }, { "landlock", PB_SANDBOX_STRICT },
  { "seccomp", PB_SANDBOX_STRICT },
};

/* ---------------------------------------------------------------- report */

static void
append(pb_sandbox_report_t* r, const char* fmt, va_list args)
{
  if (r->len + 1 >= sizeof r->text)
    return;
  const int n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, args);
  if (n > 0)
    r->len += (size_t)n < sizeof r->text - r->len ? (size_t)n
                                                  : sizeof r->text - r->len - 1;
}

static void append_line(pb_sandbox_report_t* r, const char* fmt, ...)
  __attribute__((format(printf, 2, 3)));

static void
append_line(pb_sandbox_report_t* r, const char* fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  append(r, fmt, args);
  va_end(args);
}

void
pb_sandbox_note(pb_sandbox_report_t* r,
                const char* layer,
                int err,
                const char* fmt,
                ...)
{
  va_list args;

  append_line(r, "%s: %s", layer, err ? "unavailable: " : "applied");
  if (err)
    append_line(r, "%s", strerror(-err));
  if (fmt) {
    append_line(r, " (");
    va_start(args, fmt);
    append(r, fmt, args);
    va_end(args);
    append_line(r, ")");
  }
  append_line(r, "\n");
}

void
pb_sandbox_note_off(pb_sandbox_report_t* r, const char* layer)
{
  append_line(r, "%s: off\n", layer);
}

const char*
pb_sandbox_report(void)
{
  return the_report.text;
}

/* ---------------------------------------------------------------- profile */

const char*
pb_sandbox_profile_name(int profile)
{
  if (profile < 0 || profile > PB_SANDBOX_STRICT)
    return "unknown";
  return profile_names[profile];
}

int
pb_sandbox_profile_parse(const char* name)
{
  for (int i = 0; i <= PB_SANDBOX_STRICT; ++i)
    if (!strcmp(name, profile_names[i]))
      return i;
  return -1;
}

/* ------------------------------------------------------------------ apply */

static void
note_skipped(pb_sandbox_report_t* r, int profile)
{
  for (size_t i = 0; i < sizeof layers / sizeof layers[0]; ++i)
    if (layers[i].profile > profile)
      pb_sandbox_note_off(r, layers[i].name);
}

/* The credential changes of the strict profile.  A layer that fails is
 * reported and the next one still tried.  From the pid namespace on, this
 * runs in the worker, whose parent is the namespace's init (`*parent`).
 * Returns 0, or the pid namespace's fatal -ESRCH or -ECHILD. */
static int
apply_credentials(const pb_sandbox_config_t* cfg,
                  pb_sandbox_report_t* r,
                  pid_t* parent)
{
  (void)pb_sandbox_drop_uid(r);
  if (pb_sandbox_namespaces(r) == 0) {
    const int err = pb_sandbox_pid_namespace(cfg, r);
    if (err == -ESRCH || err == -ECHILD)
      return err;
    if (!err)
      *parent = 1;
    (void)pb_sandbox_mount_view(cfg, r);
    (void)pb_sandbox_rlimit_nproc(r);
    (void)pb_sandbox_drop_caps(r);
  } else {
    pb_sandbox_note(r, "pidns", -ENOTSUP, "needs a user namespace");
    pb_sandbox_note(r, "mountns", -ENOTSUP, "needs a user namespace");
    pb_sandbox_note(r, "nproc", -ENOTSUP, "needs a user namespace");
    pb_sandbox_note(r, "caps", -ENOTSUP, "none without a user namespace");
  }
  return 0;
}

int
pb_sandbox_apply(const pb_sandbox_config_t* cfg)
{
  pb_sandbox_report_t* r = &the_report;
  const int strict = cfg->profile >= PB_SANDBOX_STRICT;
  pid_t parent = cfg->parent;

  the_config = cfg;
  r->len = 0;
  r->text[0] = '\0';
  append_line(r, "profile: %s\n", pb_sandbox_profile_name(cfg->profile));
  if (cfg->profile <= PB_SANDBOX_OFF) {
    note_skipped(r, PB_SANDBOX_OFF);
    return 0;
  }
  (void)pb_sandbox_close_fds(cfg, r);
  (void)pb_sandbox_clean_env(cfg, r);
  (void)pb_sandbox_rlimits(cfg, r);
  if (strict) {
    const int err = apply_credentials(cfg, r, &parent);
    if (err)
      return err;
  }
  if (pb_sandbox_parent_death(parent, r) == -ESRCH)
    return -ESRCH;
  (void)pb_sandbox_no_new_privs(r);
  if (strict) {
    (void)pb_sandbox_landlock(cfg, r);
    (void)pb_sandbox_seccomp(r);
  } else {
    note_skipped(r, cfg->profile);
  }
  return 0;
}

/* ------------------------------------------------------------ after it */

int
pb_sandbox_check_open(const char* path, char* err, size_t err_size)
{
  const pb_sandbox_config_t* cfg = the_config;

  if (!cfg || cfg->profile < PB_SANDBOX_STRICT || !cfg->plugin_path)
    return 0;
  if (!strcmp(path, cfg->plugin_path))
    return 0;
  (void)snprintf(err,
                 err_size,
                 "the strict sandbox admits only %s, not %s",
                 cfg->plugin_path,
                 path);
  return -EPERM;
}

/* -------------------------------------------------------------- children */

int
pb_sandbox_in_child(int (*fn)(void* arg), void* arg)
{
  int status = 0;
  const pid_t pid = fork();

  if (pid < 0)
    return -errno;
  if (pid == 0) {
    const int err = fn(arg);
    _exit(err < 0 && err > -256 ? -err : err ? 255 : 0);
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  if (!WIFEXITED(status))
    return -ECHILD;
  return -WEXITSTATUS(status);
}

/* The whole strict profile applied in a child, which writes its report to
 * a pipe: what this machine supports, without touching this process. */
static int
probe_child(int fd)
{
  pb_sandbox_config_t cfg;

  memset(&cfg, 0, sizeof cfg);
  cfg.profile = PB_SANDBOX_STRICT;
  cfg.keep_fd_max = fd;
  cfg.parent = getppid();
  (void)pb_sandbox_apply(&cfg);
  const char* text = pb_sandbox_report();
  size_t left = strlen(text);
  while (left) {
    const ssize_t n = write(fd, text, left);
    if (n <= 0)
      return -EIO;
    text += n;
    left -= (size_t)n;
  }
  return 0;
}

static void
read_all(int fd, pb_sandbox_report_t* r)
{
  ssize_t n = 0;
  while (r->len + 1 < sizeof r->text &&
         (n = read(fd, r->text + r->len, sizeof r->text - r->len - 1)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    r->len += (size_t)n;
  }
  r->text[r->len] = '\0';
}

int
pb_sandbox_probe(pb_sandbox_report_t* r)
{
  int fds[2];
  int status = 0;

  r->len = 0;
  r->text[0] = '\0';
  if (pipe(fds) < 0)
    return -errno;
  const pid_t pid = fork();
  const int fork_err = pid < 0 ? -errno : 0;
  if (pid == 0) {
    (void)close(fds[0]);
    _exit(probe_child(fds[1]) ? 1 : 0);
  }
  (void)close(fds[1]);
  if (pid > 0)
    read_all(fds[0], r);
  (void)close(fds[0]);
  if (fork_err)
    return fork_err;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return 0;
}
