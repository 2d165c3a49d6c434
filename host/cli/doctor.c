/* plugbox doctor: which sandbox layers this machine supports.  The bridge
 * knows how to apply them, so it is asked: `plugbox-bridge --probe` applies
 * the strict profile in a throwaway child and prints one line per layer,
 * "name: applied (detail)" or "name: unavailable: reason (detail)".  As
 * root it is asked twice: as root, and as nobody (an ordinary user).
 *
 * pipe2, setgroups and setresuid are GNU extensions. */
#define _GNU_SOURCE

#include "doctor.h"

#include "args.h"
#include "json.h"
#include "main.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PB_BRIDGE_INSTALL_DIR
#define PB_BRIDGE_INSTALL_DIR "/usr/local/libexec/plugbox"
#endif

#define REPORT_CAP 8192
#define NOBODY 65534 /* the ordinary user a root doctor also asks as */

extern char** environ;

const char pb_cli_doctor_help[] =
  "Usage: plugbox doctor [OPTIONS]\n"
  "\n"
  "Say which sandbox layers this machine supports: each is applied in a\n"
  "throwaway process, as the strict profile would, and reported as\n"
  "applied or unavailable with the reason.  A missing layer never stops\n"
  "a plugin from loading; it only leaves that hole open.\n"
  "\n"
  "Run as root, it also asks as an ordinary user (uid 65534, nobody):\n"
  "the layers differ between the two, and plugins usually run as one.\n"
  "\n"
  "Options:\n"
  "  --json         print one JSON object instead of the listing\n"
  "  --bridge PATH  bridge executable to ask (default: $PLUGBOX_BRIDGE,\n"
  "                 then the one installed with plugbox)\n"
  "  -h, --help     show this help\n"
  "\n"
  "Exit status: 0 when every layer is available (to the user running\n"
  "doctor), 1 when some are not, 7 when the bridge cannot be run.\n";

enum
{
  OPT_JSON,
  OPT_BRIDGE,
};

static const pb_args_option_t options[] = {
  { "--json", 0, OPT_JSON },
  { "--bridge", 1, OPT_BRIDGE },
  { NULL, 0, 0 },
};

typedef struct
{
  int json;
  const char* bridge;
} doctor_args_t;

/* ------------------------------------------------------------- bridge */

static int
fits(int written, size_t cap)
{
  return written >= 0 && (size_t)written < cap;
}

/* Next to this executable (the build tree and a relocated install), in
 * ../libexec/plugbox from it, then where plugbox was installed. */
static int
find_bridge(const char* chosen, char* out, size_t cap)
{
  const char* env = getenv("PLUGBOX_BRIDGE");
  if (chosen || (env && env[0])) {
    (void)snprintf(out, cap, "%s", chosen ? chosen : env);
    return access(out, X_OK) == 0 ? 0 : -errno;
  }
  char dir[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
  if (n > 0) {
    dir[n] = '\0';
    char* slash = strrchr(dir, '/');
    if (slash)
      *slash = '\0';
    if (fits(snprintf(out, cap, "%s/plugbox-bridge", dir), cap) &&
        access(out, X_OK) == 0)
      return 0;
    if (fits(snprintf(out, cap, "%s/../libexec/plugbox/plugbox-bridge", dir),
             cap) &&
        access(out, X_OK) == 0)
      return 0;
  }
  (void)snprintf(out, cap, "%s/plugbox-bridge", PB_BRIDGE_INSTALL_DIR);
  return access(out, X_OK) == 0 ? 0 : -errno;
}

static void
read_all(int fd, char* buf, size_t cap)
{
  size_t len = 0;
  ssize_t n = 0;
  while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    len += (size_t)n;
  }
  buf[len] = '\0';
}

/* In the child: become nobody (all ids, no groups) and run the probe;
 * 126 if the ids cannot change, 127 if the bridge cannot be run. */
static void
exec_as_nobody(char* const* argv, int out_fd)
{
  if (dup2(out_fd, STDOUT_FILENO) < 0)
    _exit(127);
  if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
      setresuid(NOBODY, NOBODY, NOBODY) < 0)
    _exit(126);
  (void)execve(argv[0], argv, environ);
  _exit(127);
}

/* Run `bridge --probe` (as nobody if `as_nobody`) and collect what it
 * prints.  Returns 0, -EPROTO when the probe failed, -EACCES when nobody
 * cannot run the bridge, or -errno. */
static int
probe(const char* bridge, int as_nobody, char* report, size_t cap)
{
  int fds[2];
  pid_t pid = 0;
  int status = 0;
  posix_spawn_file_actions_t fa;
  char* argv[] = { (char*)(uintptr_t)bridge,
                   (char*)(uintptr_t) "--probe",
                   NULL };
  report[0] = '\0';
  if (pipe2(fds, O_CLOEXEC) < 0)
    return -errno;
  int err = 0;
  if (as_nobody) {
    pid = fork();
    if (pid == 0)
      exec_as_nobody(argv, fds[1]);
    err = pid < 0 ? errno : 0;
  } else {
    err = posix_spawn_file_actions_init(&fa);
    if (!err) {
      err = posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
      if (!err)
        err = posix_spawn(&pid, bridge, &fa, NULL, argv, environ);
      (void)posix_spawn_file_actions_destroy(&fa);
    }
  }
  (void)close(fds[1]);
  if (!err)
    read_all(fds[0], report, cap);
  (void)close(fds[0]);
  if (err)
    return -err;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) >= 126 ? -EACCES : -EPROTO;
}

/* ------------------------------------------------------------- output */

/* Split "name: state[: reason][ (detail)]" in place. */
typedef struct
{
  const char* name;
  const char* state; /* "applied", "unavailable", "off", or the profile */
  const char* rest;  /* what follows, possibly "" */
} line_t;

static int
split(char* text, line_t* out)
{
  char* colon = strstr(text, ": ");
  if (!colon)
    return -1;
  *colon = '\0';
  char* state = colon + 2;
  char* more = state + strcspn(state, ":(");
  out->name = text;
  out->state = state;
  out->rest = "";
  if (*more) {
    out->rest = more + (*more == ':' ? 2 : 0);
    while (more > state && more[-1] == ' ')
      --more;
    *more = '\0';
  }
  return 0;
}

static int
print_text(char* report, int* missing)
{
  pb_text_t out;
  pb_text_init(&out, stdout);
  for (char* line = strtok(report, "\n"); line; line = strtok(NULL, "\n")) {
    line_t l;
    if (split(line, &l))
      continue;
    *missing += !strcmp(l.state, "unavailable");
    pb_text_printf(&out, "%-13s %s%s", l.name, l.state, l.rest[0] ? " " : "");
    pb_text_puts_safe(&out, l.rest);
    pb_text_printf(&out, "\n");
  }
  return out.failed ? -1 : 0;
}

/* What a failed probe() means, in one phrase. */
static const char*
probe_failure(int err)
{
  if (err == -EPROTO)
    return "the bridge's probe failed";
  if (err == -EACCES)
    return "the bridge cannot be run by uid 65534 (make its folders "
           "readable to all)";
  return strerror(-err);
}

/* The second listing of a root doctor; `err` from probe(). */
static int
print_text_nobody(char* report, int err)
{
  int missing = 0;
  pb_text_t out;
  pb_text_init(&out, stdout);
  pb_text_printf(&out, "\nAs an ordinary user (uid %d):\n", NOBODY);
  if (!err)
    return out.failed ? -1 : print_text(report, &missing);
  pb_text_printf(&out, "not asked: %s\n", probe_failure(err));
  return out.failed ? -1 : 0;
}

/* "layers": [...], "complete": bool of `report`, into an open object. */
static void
json_layers(pb_json_t* json, char* report, int* missing)
{
  pb_json_key(json, "layers");
  pb_json_array_begin(json);
  for (char* line = strtok(report, "\n"); line; line = strtok(NULL, "\n")) {
    line_t l;
    if (split(line, &l) || !strcmp(l.name, "profile"))
      continue;
    *missing += !strcmp(l.state, "unavailable");
    pb_json_object_begin(json);
    pb_json_key(json, "name");
    pb_json_string(json, l.name);
    pb_json_key(json, "available");
    pb_json_bool(json, !strcmp(l.state, "applied"));
    pb_json_key(json, "detail");
    /* "(detail)" without its parentheses. */
    const size_t n = strlen(l.rest);
    if (n >= 2 && l.rest[0] == '(' && l.rest[n - 1] == ')')
      pb_json_string_n(json, l.rest + 1, n - 2);
    else
      pb_json_string(json, l.rest);
    pb_json_object_end(json);
  }
  pb_json_array_end(json);
  pb_json_key(json, "complete");
  pb_json_bool(json, *missing == 0);
}

/* The listing of this user; for a root doctor also "unprivileged": the
 * listing as nobody, or null and "unprivileged_error". */
static int
print_json(char* report,
           int* missing,
           int asked_nobody,
           char* nobody,
           int nobody_err)
{
  pb_json_t json;
  pb_json_init(&json, stdout, 1);
  pb_json_object_begin(&json);
  json_layers(&json, report, missing);
  if (asked_nobody) {
    pb_json_key(&json, "unprivileged");
    if (nobody_err) {
      pb_json_null(&json);
      pb_json_key(&json, "unprivileged_error");
      pb_json_string(&json, probe_failure(nobody_err));
    } else {
      int nobody_missing = 0;
      pb_json_object_begin(&json);
      pb_json_key(&json, "uid");
      pb_json_int(&json, NOBODY);
      json_layers(&json, nobody, &nobody_missing);
      pb_json_object_end(&json);
    }
  }
  pb_json_object_end(&json);
  return pb_json_finish(&json) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------- command */

static int
parse_args(int argc, char** argv, doctor_args_t* o)
{
  pb_args_t args;
  pb_args_init(&args, "doctor", argc, argv);
  for (;;) {
    const int id = pb_args_next(&args, options);
    if (id == PB_ARGS_END)
      return -1;
    if (id == PB_ARGS_HELP)
      return pb_cli_help("doctor");
    if (id == PB_ARGS_ERROR)
      return PB_CLI_EXIT_USAGE;
    if (id == PB_ARGS_OPERAND) {
      pb_args_error(&args, "takes no operand, not '%s'", args.value);
      return PB_CLI_EXIT_USAGE;
    }
    if (id == OPT_JSON)
      o->json = 1;
    else
      o->bridge = args.value;
  }
}

int
pb_cli_doctor_main(int argc, char** argv)
{
  doctor_args_t o = { 0, NULL };
  char bridge[PATH_MAX];
  static char report[REPORT_CAP];
  static char nobody[REPORT_CAP];
  int code = parse_args(argc, argv, &o);
  if (code >= 0)
    return code;
  int err = find_bridge(o.bridge, bridge, sizeof bridge);
  if (!err)
    err = probe(bridge, 0, report, sizeof report);
  if (err) {
    pb_cli_error(bridge, probe_failure(err));
    return PB_CLI_EXIT_BRIDGE;
  }
  const int as_root = geteuid() == 0;
  const int nobody_err = as_root ? probe(bridge, 1, nobody, sizeof nobody) : 0;
  int missing = 0;
  int failed = 0;
  if (o.json) {
    failed = print_json(report, &missing, as_root, nobody, nobody_err);
  } else {
    failed = print_text(report, &missing);
    if (!failed && as_root)
      failed = print_text_nobody(nobody, nobody_err);
  }
  if (failed)
    return PB_CLI_EXIT_FAILURE;
  return missing ? PB_CLI_EXIT_FAILURE : PB_CLI_EXIT_OK;
}
