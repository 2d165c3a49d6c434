#include "args.h"

#include "plugbox.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
pb_args_init(pb_args_t* args, const char* command, int argc, char** argv)
{
  memset(args, 0, sizeof *args);
  args->command = command;
  args->argc = argc;
  args->argv = argv;
  args->next = 1;
}

void
pb_args_error(const pb_args_t* args, const char* format, ...)
{
  char message[512];
  va_list ap;
  va_start(ap, format);
  /* A cut message is still the right message: the return is not needed. */
  (void)vsnprintf(message, sizeof message, format, ap);
  va_end(ap);
  /* stderr is where failures are reported; a failure to write there has
   * nowhere left to go, and the exit status still tells. */
  pb_text_t err;
  pb_text_init(&err, stderr);
  pb_text_printf(&err, "plugbox %s: ", args->command);
  pb_text_puts_safe(&err, message);
  pb_text_printf(&err, " (see 'plugbox help %s')\n", args->command);
}

/* The option of `options` that `arg` names (up to '=' if any). */
static const pb_args_option_t*
find_option(const pb_args_option_t* options, const char* arg)
{
  size_t len = strcspn(arg, "=");
  for (const pb_args_option_t* o = options; o->name; ++o)
    if (strlen(o->name) == len && strncmp(o->name, arg, len) == 0)
      return o;
  return NULL;
}

/* The value of `o` named by `arg`: after its '=', or the next argument. */
static int
take_value(pb_args_t* args, const pb_args_option_t* o, const char* arg)
{
  const char* eq = strchr(arg, '=');
  if (!o->has_value) {
    if (!eq)
      return o->id;
    pb_args_error(args, "option '%s' takes no value", o->name);
    return PB_ARGS_ERROR;
  }
  if (eq) {
    args->value = eq + 1;
    return o->id;
  }
  if (args->next >= args->argc) {
    pb_args_error(args, "option '%s' needs a value", o->name);
    return PB_ARGS_ERROR;
  }
  args->value = args->argv[args->next++];
  return o->id;
}

static int
operand(pb_args_t* args, const char* arg)
{
  args->option = NULL;
  args->value = arg;
  return PB_ARGS_OPERAND;
}

int
pb_args_next(pb_args_t* args, const pb_args_option_t* options)
{
  if (args->next >= args->argc)
    return PB_ARGS_END;
  const char* arg = args->argv[args->next++];
  if (args->operands_only || arg[0] != '-' || strcmp(arg, "-") == 0)
    return operand(args, arg);
  if (strcmp(arg, "--") == 0) {
    args->operands_only = 1;
    return pb_args_next(args, options);
  }
  if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
    return PB_ARGS_HELP;
  const pb_args_option_t* o = find_option(options, arg);
  if (!o) {
    pb_args_error(args, "unknown option '%s'", arg);
    return PB_ARGS_ERROR;
  }
  args->option = o->name;
  args->value = NULL;
  return take_value(args, o, arg);
}

static int
bad_value(const pb_args_t* args, const char* expected)
{
  pb_args_error(
    args, "option '%s': '%s' is not %s", args->option, args->value, expected);
  return -1;
}

int
pb_args_u32(const pb_args_t* args, uint32_t min, uint32_t max, uint32_t* out)
{
  const char* s = args->value;
  char* end = NULL;
  char expected[64];
  (void)snprintf(expected,
                 sizeof expected,
                 "a whole number from %u to %u",
                 (unsigned)min,
                 (unsigned)max);
  if (s[0] < '0' || s[0] > '9')
    return bad_value(args, expected);
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return bad_value(args, expected);
  *out = (uint32_t)v;
  return 0;
}

int
pb_args_double(const pb_args_t* args, double min, double max, double* out)
{
  const char* s = args->value;
  char* end = NULL;
  char expected[64];
  (void)snprintf(
    expected, sizeof expected, "a number from %.10g to %.10g", min, max);
  if ((s[0] < '0' || s[0] > '9') && s[0] != '.')
    return bad_value(args, expected);
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
    return bad_value(args, expected);
  *out = v;
  return 0;
}

/* Indexed by pb_sandbox_profile_t. */
static const char* const profile_names[] = { "off", "basic", "strict" };

int
pb_args_sandbox(const pb_args_t* args, int* out)
{
  for (int i = PB_SANDBOX_OFF; i <= PB_SANDBOX_STRICT; ++i)
    if (strcmp(args->value, profile_names[i]) == 0) {
      *out = i;
      return 0;
    }
  return bad_value(args, "off, basic or strict");
}

const char*
pb_args_sandbox_name(int profile)
{
  if (profile < PB_SANDBOX_OFF || profile > PB_SANDBOX_STRICT)
    return "unknown";
  return profile_names[profile];
}
