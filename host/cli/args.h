/* Command-line options of the plugbox subcommands: long options only
 * ("--name VALUE" or "--name=VALUE"), "-h"/"--help", "--" to end them,
 * operands anywhere.  Errors are reported on stderr as one line naming the
 * command and the option. */
#ifndef PB_HOST_CLI_ARGS_H
#define PB_HOST_CLI_ARGS_H

#include "text.h"

#include <stdint.h>

/** What pb_args_next() found, besides an option id (>= 0). */
enum
{
  PB_ARGS_END = -1,     /**< no arguments left */
  PB_ARGS_OPERAND = -2, /**< an operand, in `value` */
  PB_ARGS_HELP = -3,    /**< -h or --help */
  PB_ARGS_ERROR = -4,   /**< reported; exit with PB_CLI_EXIT_USAGE */
};

/** One long option of a command; a table ends with a NULL name. */
typedef struct
{
  const char* name; /**< with its dashes: "--block" */
  int has_value;
  int id; /**< >= 0, returned by pb_args_next() */
} pb_args_option_t;

typedef struct
{
  const char* command; /**< "info", named in error messages */
  int argc;
  char** argv;
  int next;           /**< index of the next argument */
  int operands_only;  /**< "--" was seen */
  const char* option; /**< the option just returned */
  const char* value;  /**< its value, or the operand */
} pb_args_t;

/** Start reading `argv[1..argc-1]` (argv[0] is the command name). */
void pb_args_init(pb_args_t* args, const char* command, int argc, char** argv);

/** The next option's id, or one of PB_ARGS_*. */
int pb_args_next(pb_args_t* args, const pb_args_option_t* options);

/** Report a usage error about the command: "plugbox CMD: MESSAGE". */
void pb_args_error(const pb_args_t* args, const char* format, ...)
  PB_TEXT_PRINTF(2, 3);

/** Parse the current option's value as a decimal integer in [min, max].
 *  Returns 0, or -1 after reporting the error. */
int pb_args_u32(const pb_args_t* args,
                uint32_t min,
                uint32_t max,
                uint32_t* out);

/** Parse the current option's value as a finite number in [min, max].
 *  Returns 0, or -1 after reporting the error. */
int pb_args_double(const pb_args_t* args, double min, double max, double* out);

/** Parse the current option's value as a sandbox profile name ("off",
 *  "basic", "strict") into a pb_sandbox_profile_t.  Returns 0, or -1
 *  after reporting the error. */
int pb_args_sandbox(const pb_args_t* args, int* out);

/** The name of sandbox profile `profile`, or "unknown". */
const char* pb_args_sandbox_name(int profile);

#endif /* PB_HOST_CLI_ARGS_H */
