/* What the plugbox subcommands share: exit codes, error reporting, help. */
#ifndef PB_HOST_CLI_MAIN_H
#define PB_HOST_CLI_MAIN_H

#include "plugbox.h"

/** Exit codes of the plugbox command.  The numbers are stable (scripts
 *  depend on them) and documented in `plugbox --help`. */
enum
{
  PB_CLI_EXIT_OK = 0,
  PB_CLI_EXIT_FAILURE = 1,    /**< anything else, writing output too */
  PB_CLI_EXIT_USAGE = 2,      /**< bad command line */
  PB_CLI_EXIT_NOT_FOUND = 3,  /**< no such file, or unreadable */
  PB_CLI_EXIT_NOT_PLUGIN = 4, /**< not ELF, architecture, load, entry */
  PB_CLI_EXIT_CRASHED = 5,    /**< the plugin crashed its bridge */
  PB_CLI_EXIT_TIMEOUT = 6,    /**< the plugin missed a deadline */
  PB_CLI_EXIT_BRIDGE = 7,     /**< bridge missing or misbehaving */
};

/** The exit code for a failure with `status` (0 for PB_OK). */
int pb_cli_exit_code(pb_status_t status);

/** Report a failure as one line on stderr: "plugbox: SUBJECT: MESSAGE".
 *  `message` is untrusted (a plugin's loader error): it is cut at its
 *  first line break and made safe for a terminal.  A leading
 *  "SUBJECT: " in `message` is not repeated. */
void pb_cli_error(const char* subject, const char* message);

/** Write the lines of `message` after its first (what pb_cli_error() left
 *  out, such as the plugin's last output) on stderr, made safe for a
 *  terminal but with its line breaks.  Nothing if there are none. */
void pb_cli_error_detail(const char* message);

/** Print the help of `command` (NULL: the general help) on stdout.
 *  Returns an exit code: PB_CLI_EXIT_USAGE if there is no such command. */
int pb_cli_help(const char* command);

#endif /* PB_HOST_CLI_MAIN_H */
