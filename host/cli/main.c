/* The plugbox command: dispatch to a subcommand, and the conventions all
 * of them share (exit codes, one-line errors, checked output). */
#include "main.h"

#include "doctor.h"
#include "info.h"
#include "text.h"
#include "process.h"

#include <errno.h>
#include <string.h>

typedef struct
{
  const char* name;
  const char* summary;
  const char* help;
  int (*run)(int argc, char** argv); /* argv[0] is the command's name */
} command_t;

static int run_help(int argc, char** argv);

static const char help_help[] =
  "Usage: plugbox help [COMMAND]\n"
  "\n"
  "Show the help of COMMAND, or the general help.\n";

/* A new subcommand is one row here and one file in host/cli/. */
static const command_t commands[] = {
  { "info",
    "load a plugin and print what it declares",
    pb_cli_info_help,
    pb_cli_info_main },
  { "process",
    "render an audio file through a plugin",
    pb_cli_process_help,
    pb_cli_process_main },
  { "doctor",
    "say which sandbox layers this machine supports",
    pb_cli_doctor_help,
    pb_cli_doctor_main },
  { "help", "show the help of a command", help_help, run_help },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const char general_usage[] =
  "Usage: plugbox [--help | --version] COMMAND [OPTIONS] [ARGS]\n"
  "\n"
  "Run VST2 audio plugins in a separate, sandboxed bridge process.\n"
  "\n"
  "Commands:\n";

static const char general_tail[] =
  "\n"
  "'plugbox help COMMAND' or 'plugbox COMMAND --help' shows its options.\n"
  "\n"
  "Exit status:\n"
  "  0  success\n"
  "  1  any other failure, including an error writing the output\n"
  "  2  usage error: unknown command or option, missing argument\n"
  "  3  the plugin file does not exist or cannot be read\n"
  "  4  not a plugin that can be loaded: not ELF, no bridge for its\n"
  "     architecture, a missing library, no VST entry point\n"
  "  5  the plugin crashed its bridge process\n"
  "  6  the plugin did not answer in time\n"
  "  7  the bridge is missing or misbehaved (an installation problem)\n";

int
pb_cli_exit_code(pb_status_t status)
{
  switch (status) {
    case PB_OK:
      return PB_CLI_EXIT_OK;
    case PB_ERR_NOT_FOUND:
    case PB_ERR_ACCESS:
      return PB_CLI_EXIT_NOT_FOUND;
    case PB_ERR_NOT_ELF:
    case PB_ERR_ARCH:
    case PB_ERR_LOAD:
    case PB_ERR_NOT_PLUGIN:
      return PB_CLI_EXIT_NOT_PLUGIN;
    case PB_ERR_CRASHED:
      return PB_CLI_EXIT_CRASHED;
    case PB_ERR_TIMEOUT:
      return PB_CLI_EXIT_TIMEOUT;
    case PB_ERR_BRIDGE:
    case PB_ERR_PROTOCOL:
      return PB_CLI_EXIT_BRIDGE;
    default:
      return PB_CLI_EXIT_FAILURE;
  }
}

/* The first line of `message`, without a leading "SUBJECT: " (loader
 * messages often start with the path the caller already names). */
static const char*
strip_subject(const char* message, const char* subject, size_t* len)
{
  size_t n = strlen(subject);
  if (n > 0 && strncmp(message, subject, n) == 0 &&
      strncmp(message + n, ": ", 2) == 0)
    message += n + 2;
  message += strspn(message, " \t\r\n");
  *len = strcspn(message, "\r\n");
  while (*len > 0 && (message[*len - 1] == ' ' || message[*len - 1] == '\t'))
    --*len;
  return message;
}

static int
names_subject(const char* line, size_t len, const char* subject)
{
  const size_t n = strlen(subject);
  for (size_t i = 0; n > 0 && i + n <= len; ++i)
    if (memcmp(line + i, subject, n) == 0)
      return 1;
  return 0;
}

void
pb_cli_error(const char* subject, const char* message)
{
  size_t len = 0;
  const char* line = strip_subject(message ? message : "", subject, &len);
  /* stderr is where failures go; if it fails too, the exit code tells. */
  pb_text_t err;
  pb_text_init(&err, stderr);
  pb_text_printf(&err, "plugbox: ");
  /* The library's messages usually name the file already; say it once. */
  if (!names_subject(line, len, subject)) {
    pb_text_puts_safe(&err, subject);
    pb_text_printf(&err, ": ");
  }
  pb_text_write_safe(&err, line, len, 0);
  pb_text_printf(&err, "\n");
}

void
pb_cli_error_detail(const char* message)
{
  const char* rest = message ? strpbrk(message, "\r\n") : NULL;
  if (!rest)
    return;
  rest += strspn(rest, "\r\n");
  size_t len = strlen(rest);
  if (len == 0)
    return;
  pb_text_t err;
  pb_text_init(&err, stderr);
  pb_text_write_safe(&err, rest, len, PB_TEXT_KEEP_LINES);
  if (rest[len - 1] != '\n')
    pb_text_printf(&err, "\n");
}

static const command_t*
find_command(const char* name)
{
  for (size_t i = 0; i < N_COMMANDS; ++i)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

/* A usage error of the plugbox command itself, about argument `arg`. */
static int
usage_error(const char* what, const char* arg)
{
  pb_text_t err;
  pb_text_init(&err, stderr);
  pb_text_printf(&err, "plugbox: %s '", what);
  pb_text_puts_safe(&err, arg);
  pb_text_printf(&err, "' (see 'plugbox --help')\n");
  return PB_CLI_EXIT_USAGE;
}

static int
print_general_help(void)
{
  pb_text_t out;
  pb_text_init(&out, stdout);
  pb_text_printf(&out, "%s", general_usage);
  for (size_t i = 0; i < N_COMMANDS; ++i)
    pb_text_printf(&out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  pb_text_printf(&out, "%s", general_tail);
  return PB_CLI_EXIT_OK;
}

int
pb_cli_help(const char* command)
{
  if (!command)
    return print_general_help();
  const command_t* c = find_command(command);
  if (!c)
    return usage_error("no such command", command);
  pb_text_t out;
  pb_text_init(&out, stdout);
  pb_text_printf(&out, "%s", c->help);
  return PB_CLI_EXIT_OK;
}

static int
run_help(int argc, char** argv)
{
  if (argc < 2)
    return pb_cli_help(NULL);
  if (argc > 2)
    return usage_error("help takes one command, not", argv[2]);
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
    return pb_cli_help(argv[0]);
  return pb_cli_help(argv[1]);
}

static int
dispatch(int argc, char** argv)
{
  if (argc < 2) {
    pb_cli_error("missing command", "see 'plugbox --help'");
    return PB_CLI_EXIT_USAGE;
  }
  const char* arg = argv[1];
  if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
    return pb_cli_help(NULL);
  if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
    pb_text_t out;
    pb_text_init(&out, stdout);
    pb_text_printf(&out, "plugbox %s\n", PB_VERSION_STRING);
    return PB_CLI_EXIT_OK;
  }
  if (arg[0] == '-')
    return usage_error("unknown option", arg);
  const command_t* c = find_command(arg);
  if (!c)
    return usage_error("unknown command", arg);
  return c->run(argc - 1, argv + 1);
}

/* Every byte meant for stdout must have reached it: a full disk or a
 * closed stdout is a failure, reported once, here, for all commands.
 * fclose() failing with EBADF after a clean flush only means stdout was
 * closed and nothing was written to it. */
static int
finish_output(int code)
{
  int failed = fflush(stdout) != 0 || ferror(stdout);
  int err = errno;
  if (fclose(stdout) != 0 && !failed && errno != EBADF) {
    failed = 1;
    err = errno;
  }
  if (!failed)
    return code;
  pb_cli_error("error writing output", strerror(err));
  return code != PB_CLI_EXIT_OK ? code : PB_CLI_EXIT_FAILURE;
}

int
main(int argc, char** argv)
{
  return finish_output(dispatch(argc, argv));
}
