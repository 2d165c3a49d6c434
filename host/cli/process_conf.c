/* The command line of plugbox process and what it sets on the plugin.
 * Parameters are named on the command line but resolved only once the
 * plugin is open; a name, index or value it does not know is still a
 * usage error (exit 2), reported like the option errors. */
#define _POSIX_C_SOURCE 200809L

#include "process_conf.h"

#include "args.h"
#include "main.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum
{
  OPT_FORMAT,
  OPT_SUBTYPE,
  OPT_BLOCK,
  OPT_SAMPLE_RATE,
  OPT_PARAM,
  OPT_PROGRAM,
  OPT_STATE,
  OPT_MIDI,
  OPT_TAIL,
  OPT_COMPENSATE,
  OPT_DOUBLE,
  OPT_BRIDGE,
  OPT_SANDBOX,
  OPT_JSON,
  OPT_QUIET,
};

static const pb_args_option_t options[] = {
  { "--format", 1, OPT_FORMAT },
  { "--subtype", 1, OPT_SUBTYPE },
  { "--block", 1, OPT_BLOCK },
  { "--sample-rate", 1, OPT_SAMPLE_RATE },
  { "--param", 1, OPT_PARAM },
  { "--program", 1, OPT_PROGRAM },
  { "--state", 1, OPT_STATE },
  { "--midi", 1, OPT_MIDI },
  { "--tail", 1, OPT_TAIL },
  { "--compensate-latency", 0, OPT_COMPENSATE },
  { "--double", 0, OPT_DOUBLE },
  { "--bridge", 1, OPT_BRIDGE },
  { "--sandbox", 1, OPT_SANDBOX },
  { "--json", 0, OPT_JSON },
  { "--quiet", 0, OPT_QUIET },
  { NULL, 0, 0 },
};

#define MAX_BLOCK_FRAMES 1048576u
#define MAX_PROGRAM 1000000u
#define MAX_TAIL_SECONDS 3600.0
#define MAX_DEFAULT_TAIL_SECONDS 30.0

static int usage(const char* format, ...) PB_TEXT_PRINTF(1, 2);

/* A usage error found after the command line was read. */
static int
usage(const char* format, ...)
{
  char message[512];
  va_list ap;
  va_start(ap, format);
  (void)vsnprintf(message, sizeof message, format, ap); /* cut is fine */
  va_end(ap);
  pb_args_t args;
  pb_args_init(&args, "process", 0, NULL);
  pb_args_error(&args, "%s", message);
  return PB_CLI_EXIT_USAGE;
}

static int
apply_value(const pb_args_t* args, int id, pb_cli_process_conf_t* c)
{
  uint32_t program = 0;
  switch (id) {
    case OPT_FORMAT:
      c->format = args->value;
      return pb_cli_audio_names_check(c->format, NULL);
    case OPT_SUBTYPE:
      c->subtype = args->value;
      return pb_cli_audio_names_check(NULL, c->subtype);
    case OPT_BLOCK:
      return pb_args_u32(args, 1, MAX_BLOCK_FRAMES, &c->open.max_block_frames);
    case OPT_SAMPLE_RATE:
      return pb_args_double(
        args, PB_CLI_RATE_MIN, PB_CLI_RATE_MAX, &c->sample_rate);
    case OPT_PARAM:
      c->params[c->n_params++] = args->value;
      return 0;
    case OPT_PROGRAM:
      if (pb_args_u32(args, 0, MAX_PROGRAM, &program) != 0)
        return -1;
      c->program = (int32_t)program;
      return 0;
    case OPT_TAIL:
      return pb_args_double(args, 0.0, MAX_TAIL_SECONDS, &c->tail_seconds);
    case OPT_SANDBOX:
      return pb_args_sandbox(args, &c->open.sandbox);
    default:
      break;
  }
  return 1; /* not an option with a checked value */
}

static int
apply_option(const pb_args_t* args, int id, pb_cli_process_conf_t* c)
{
  const int done = apply_value(args, id, c);
  if (done <= 0)
    return done;
  switch (id) {
    case OPT_STATE:
      c->state_path = args->value;
      return 0;
    case OPT_MIDI:
      c->midi_path = args->value;
      return 0;
    case OPT_COMPENSATE:
      c->compensate_latency = 1;
      return 0;
    case OPT_DOUBLE:
      c->use_double = 1;
      return 0;
    case OPT_BRIDGE:
      c->open.bridge_path = args->value;
      return 0;
    case OPT_JSON:
      c->json = 1;
      return 0;
    default: /* OPT_QUIET */
      c->quiet = 1;
      return 0;
  }
}

static int
take_operand(const pb_args_t* args, pb_cli_process_conf_t* c)
{
  const char** slot = !c->plugin_path ? &c->plugin_path
                      : !c->in_path   ? &c->in_path
                      : !c->out_path  ? &c->out_path
                                      : NULL;
  if (!slot) {
    pb_args_error(args, "too many operands: '%s'", args->value);
    return -1;
  }
  *slot = args->value;
  return 0;
}

static int
check_operands(const pb_args_t* args, const pb_cli_process_conf_t* c)
{
  const char* missing = !c->plugin_path ? "PLUGIN"
                        : !c->in_path   ? "IN"
                        : !c->out_path  ? "OUT"
                                        : NULL;
  if (!missing)
    return -1;
  pb_args_error(args, "missing %s", missing);
  return PB_CLI_EXIT_USAGE;
}

int
pb_cli_process_parse(int argc, char** argv, pb_cli_process_conf_t* c)
{
  memset(c, 0, sizeof *c);
  pb_open_opts_init(&c->open);
  /* The command line confines untrusted plugins fully unless told not to
   * (the library's default is basic). */
  c->open.sandbox = PB_SANDBOX_STRICT;
  c->program = -1;
  c->tail_seconds = -1.0;
  c->params = calloc((size_t)(argc > 0 ? argc : 1), sizeof *c->params);
  if (!c->params) {
    pb_cli_error("process", pb_strerror(PB_ERR_NOMEM));
    return PB_CLI_EXIT_FAILURE;
  }
  pb_args_t args;
  pb_args_init(&args, "process", argc, argv);
  for (int id = pb_args_next(&args, options); id != PB_ARGS_END;
       id = pb_args_next(&args, options)) {
    if (id == PB_ARGS_HELP)
      return pb_cli_help("process");
    int failed = id == PB_ARGS_ERROR ||
                 (id == PB_ARGS_OPERAND ? take_operand(&args, c)
                                        : apply_option(&args, id, c)) != 0;
    if (failed)
      return PB_CLI_EXIT_USAGE;
  }
  return check_operands(&args, c);
}

int
pb_cli_process_prepare(pb_cli_process_conf_t* c, pb_cli_audio_in_t* in)
{
  int code = pb_cli_audio_in_open(in, c->in_path);
  if (code != 0)
    return code;
  if (c->sample_rate > 0.0 && c->sample_rate != (double)in->info.samplerate) {
    char rates[96];
    (void)snprintf(rates,
                   sizeof rates,
                   "%.10g Hz but IN is at %d Hz",
                   c->sample_rate,
                   in->info.samplerate);
    return usage("--sample-rate is %s (no resampling is done)", rates);
  }
  if (pb_cli_audio_out_format(
        c->out_path, c->format, c->subtype, in->info.format, &c->out_format))
    return PB_CLI_EXIT_USAGE;
  return 0;
}

void
pb_cli_process_conf_fini(pb_cli_process_conf_t* c)
{
  free(c->params);
  c->params = NULL;
}

/* A failed call on the plugin: a crash or a timeout keeps its own exit
 * code, a refusal of what the command line asked is a usage error. */
static int
plugin_failed(pb_plugin_t* plugin,
              const char* path,
              pb_status_t status,
              const char* what)
{
  if (status == PB_ERR_RANGE || status == PB_ERR_REFUSED ||
      status == PB_ERR_INVALID)
    return usage("%s: %s", what, pb_strerror(status));
  const char* detail = pb_plugin_last_error(plugin);
  char message[512];
  (void)snprintf(message,
                 sizeof message,
                 "%s: %s",
                 what,
                 detail[0] ? detail : pb_strerror(status));
  pb_cli_error(path, message);
  return pb_cli_exit_code(status);
}

/* The index of the parameter named by the `len` bytes at `name`: its
 * exact name, then its name in any case, then a decimal index. */
static int
find_param(const pb_info_t* info, const char* name, size_t len, int32_t* out)
{
  for (int pass = 0; pass < 2; ++pass)
    for (int32_t i = 0; i < info->n_params; ++i) {
      const char* p = info->params[i].name ? info->params[i].name : "";
      if (strlen(p) == len && (pass == 0 ? strncmp(p, name, len)
                                         : strncasecmp(p, name, len)) == 0) {
        *out = i;
        return 0;
      }
    }
  if (len == 0 || len > 9 || strspn(name, "0123456789") < len)
    return -1;
  long index = strtol(name, NULL, 10);
  if (index >= info->n_params)
    return -1;
  *out = (int32_t)index;
  return 0;
}

/* VALUE as a normalized number, or -1 if it is text for the plugin. */
static double
normalized(const char* value)
{
  char* end = NULL;
  errno = 0;
  double v = strtod(value, &end);
  if (end == value || *end != '\0' || errno != 0 || !(v >= 0.0 && v <= 1.0))
    return -1.0;
  return v;
}

static int
apply_param(pb_plugin_t* plugin, const char* path, const char* spec)
{
  const char* eq = strchr(spec, '=');
  if (!eq || eq == spec)
    return usage("--param '%s': expected NAME=VALUE or INDEX=VALUE", spec);
  int32_t index = 0;
  if (find_param(pb_plugin_info(plugin), spec, (size_t)(eq - spec), &index))
    return usage("--param '%s': the plugin has no such parameter", spec);
  const double v = normalized(eq + 1);
  pb_status_t status =
    v >= 0.0 ? pb_plugin_param_set(plugin, index, (float)v)
             : pb_plugin_param_from_string(plugin, index, eq + 1, NULL);
  if (status == PB_OK)
    return 0;
  if (status == PB_ERR_REFUSED || status == PB_ERR_UNSUPPORTED)
    return usage(
      "--param '%s': the plugin does not accept the value '%s'", spec, eq + 1);
  return plugin_failed(plugin, path, status, spec);
}

/* The whole file, up to the largest chunk the library passes. */
static int
read_state(const char* path, void** data, size_t* size)
{
  FILE* file = fopen(path, "rb");
  if (!file)
    return -errno;
  unsigned char* buf = malloc(PB_CHUNK_MAX_BYTES + 1u);
  size_t n = buf ? fread(buf, 1, PB_CHUNK_MAX_BYTES + 1u, file) : 0;
  int err = !buf ? -ENOMEM : ferror(file) ? -EIO : 0;
  (void)fclose(file); /* read-only */
  if (err == 0 && n > PB_CHUNK_MAX_BYTES)
    err = -EFBIG;
  if (err != 0) {
    free(buf);
    return err;
  }
  *data = buf;
  *size = n;
  return 0;
}

static int
apply_state(pb_plugin_t* plugin, const char* path, const char* state_path)
{
  void* data = NULL;
  size_t size = 0;
  int err = read_state(state_path, &data, &size);
  if (err != 0) {
    pb_cli_error(state_path, strerror(-err));
    return PB_CLI_EXIT_FAILURE;
  }
  pb_status_t status = pb_plugin_chunk_set(plugin, 0, data, size);
  free(data);
  if (status == PB_OK)
    return 0;
  if (status == PB_ERR_UNSUPPORTED || status == PB_ERR_REFUSED) {
    pb_cli_error(state_path, pb_strerror(status));
    return PB_CLI_EXIT_FAILURE;
  }
  return plugin_failed(plugin, path, status, "--state");
}

static int
apply_settings(const pb_cli_process_conf_t* c, pb_plugin_t* plugin)
{
  if (c->program >= 0) {
    pb_status_t status = pb_plugin_program_set(plugin, c->program);
    if (status != PB_OK)
      return plugin_failed(plugin, c->plugin_path, status, "--program");
  }
  if (c->state_path) {
    int code = apply_state(plugin, c->plugin_path, c->state_path);
    if (code != 0)
      return code;
  }
  for (size_t i = 0; i < c->n_params; ++i) {
    int code = apply_param(plugin, c->plugin_path, c->params[i]);
    if (code != 0)
      return code;
  }
  return 0;
}

/* --tail, or what the plugin declares (1 is VST's "no tail"). */
static uint64_t
tail_frames(const pb_cli_process_conf_t* c, pb_plugin_t* plugin, double rate)
{
  if (c->tail_seconds >= 0.0)
    return (uint64_t)llround(c->tail_seconds * rate);
  int32_t frames = 0;
  if (pb_plugin_tail_size(plugin, &frames) != PB_OK || frames <= 1)
    return 0;
  const double most = MAX_DEFAULT_TAIL_SECONDS * rate;
  return (double)frames < most ? (uint64_t)frames : (uint64_t)most;
}

int
pb_cli_process_configure(const pb_cli_process_conf_t* c,
                         pb_plugin_t* plugin,
                         const pb_cli_audio_in_t* in,
                         uint64_t* tail)
{
  const pb_info_t* info = pb_plugin_info(plugin);
  if (info->n_outputs <= 0) {
    pb_cli_error(c->plugin_path, "the plugin has no audio outputs");
    return PB_CLI_EXIT_FAILURE;
  }
  if (c->use_double && !(info->flags & PB_FLAG_DOUBLE_REPLACING)) {
    pb_cli_error(c->plugin_path, "the plugin cannot process 64-bit samples");
    return PB_CLI_EXIT_FAILURE;
  }
  int code = apply_settings(c, plugin);
  if (code != 0)
    return code;
  *tail = tail_frames(c, plugin, (double)in->info.samplerate);
  return 0;
}
