/* plugbox info: open a plugin in its bridge, print its description, close
 * it.  The listing goes to stdout; errors and the plugin's own output
 * (--log) go to stderr. */
#include "info.h"

#include "args.h"
#include "describe.h"
#include "json.h"
#include "main.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char pb_cli_info_help[] =
  "Usage: plugbox info [OPTIONS] PLUGIN\n"
  "\n"
  "Load PLUGIN (a VST2 .so file) in a bridge process and print what it\n"
  "declares: names, programs, parameters, unique id, flags, I/O.\n"
  "\n"
  "Options:\n"
  "  --json             print one JSON object instead of the listing\n"
  "  --sample-rate HZ   sample rate to open the plugin at (default 48000)\n"
  "  --block N          largest block size, in frames (default 512)\n"
  "  --timeout-ms N     time allowed to start, load and open the plugin,\n"
  "                     in milliseconds (default 10000)\n"
  "  --bridge PATH      bridge executable to run the plugin in (default:\n"
  "                     $PLUGBOX_BRIDGE, then the one installed with\n"
  "                     plugbox)\n"
  "  --log              then print what the plugin itself printed, on\n"
  "                     stderr (if it failed to load: the whole error)\n"
  "  --sandbox PROFILE  confine the bridge: off, basic or strict (default\n"
  "                     strict; see 'plugbox doctor')\n"
  "  --sandbox-report   then print each sandbox layer's state on stderr\n"
  "  -h, --help         show this help\n"
  "\n"
  "Exit status: 0 on success; see 'plugbox --help' for the others.\n";

enum
{
  OPT_JSON,
  OPT_SAMPLE_RATE,
  OPT_BLOCK,
  OPT_TIMEOUT,
  OPT_BRIDGE,
  OPT_LOG,
  OPT_SANDBOX,
  OPT_SANDBOX_REPORT,
};

static const pb_args_option_t options[] = {
  { "--json", 0, OPT_JSON },
  { "--sample-rate", 1, OPT_SAMPLE_RATE },
  { "--block", 1, OPT_BLOCK },
  { "--timeout-ms", 1, OPT_TIMEOUT },
  { "--bridge", 1, OPT_BRIDGE },
  { "--log", 0, OPT_LOG },
  { "--sandbox", 1, OPT_SANDBOX },
  { "--sandbox-report", 0, OPT_SANDBOX_REPORT },
  { NULL, 0, 0 },
};

/* Limits of the command line; the library checks its own on top. */
#define MIN_SAMPLE_RATE 1.0
#define MAX_SAMPLE_RATE 10000000.0
#define MAX_BLOCK_FRAMES 1048576u
#define MAX_TIMEOUT_MS 86400000u /* a day */

typedef struct
{
  const char* path;
  int json;
  int log;
  pb_open_opts_t open;
  int sandbox_report;
} info_args_t;

/* Returns 0, or -1 after reporting a bad value. */
static int
apply_option(const pb_args_t* args, int id, info_args_t* o)
{
  switch (id) {
    case OPT_JSON:
      o->json = 1;
      return 0;
    case OPT_SAMPLE_RATE:
      return pb_args_double(
        args, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE, &o->open.sample_rate);
    case OPT_BLOCK:
      return pb_args_u32(args, 1, MAX_BLOCK_FRAMES, &o->open.max_block_frames);
    case OPT_TIMEOUT:
      return pb_args_u32(args, 1, MAX_TIMEOUT_MS, &o->open.load_timeout_ms);
    case OPT_BRIDGE:
      o->open.bridge_path = args->value;
      return 0;
    case OPT_SANDBOX:
      return pb_args_sandbox(args, &o->open.sandbox);
    case OPT_SANDBOX_REPORT:
      o->sandbox_report = 1;
      return 0;
    default: /* OPT_LOG */
      o->log = 1;
      return 0;
  }
}

static int
take_operand(const pb_args_t* args, info_args_t* o)
{
  if (o->path) {
    pb_args_error(args, "one PLUGIN only, not also '%s'", args->value);
    return -1;
  }
  o->path = args->value;
  return 0;
}

/* Returns -1 to go on, or the exit code to return now. */
static int
parse_args(int argc, char** argv, info_args_t* o)
{
  pb_args_t args;
  pb_args_init(&args, "info", argc, argv);
  for (;;) {
    int id = pb_args_next(&args, options);
    if (id == PB_ARGS_END)
      break;
    if (id == PB_ARGS_HELP)
      return pb_cli_help("info");
    int failed = id == PB_ARGS_ERROR ||
                 (id == PB_ARGS_OPERAND ? take_operand(&args, o)
                                        : apply_option(&args, id, o)) != 0;
    if (failed)
      return PB_CLI_EXIT_USAGE;
  }
  if (!o->path) {
    pb_args_error(&args, "missing PLUGIN");
    return PB_CLI_EXIT_USAGE;
  }
  return -1;
}

static int
print_description(const pb_info_t* info, int as_json)
{
  if (as_json) {
    pb_json_t json;
    pb_json_init(&json, stdout, 1);
    pb_describe_json(&json, info);
    return pb_json_finish(&json) == 0 ? 0 : -1;
  }
  pb_text_t out;
  pb_text_init(&out, stdout);
  pb_describe_text(&out, info);
  return out.failed ? -1 : 0;
}

/* The plugin's captured stdout and stderr, between two marker lines,
 * with line breaks kept and anything that could drive a terminal
 * replaced. */
static void
print_log(pb_plugin_t* plugin, uint32_t capacity_bytes)
{
  size_t cap = (size_t)capacity_bytes + 1;
  char* buf = malloc(cap);
  if (!buf) {
    pb_cli_error("--log", pb_strerror(PB_ERR_NOMEM));
    return;
  }
  size_t n = pb_plugin_log(plugin, buf, cap);
  n = n < cap ? n : cap - 1;
  pb_text_t err;
  pb_text_init(&err, stderr);
  pb_text_printf(&err, "--- plugin output (%zu bytes) ---\n", n);
  pb_text_write_safe(&err, buf, n, PB_TEXT_KEEP_LINES);
  if (n > 0 && buf[n - 1] != '\n')
    pb_text_printf(&err, "\n");
  pb_text_printf(&err, "--- end of plugin output ---\n");
  free(buf);
}

static void
print_sandbox_report(pb_plugin_t* plugin)
{
  char buf[4096];
  const pb_status_t st = pb_plugin_sandbox_report(plugin, buf, sizeof buf);
  if (st) {
    pb_cli_error("--sandbox-report", pb_strerror(st));
    return;
  }
  pb_text_t err;
  pb_text_init(&err, stderr);
  pb_text_printf(&err, "--- sandbox ---\n");
  pb_text_write_safe(&err, buf, strlen(buf), PB_TEXT_KEEP_LINES);
  pb_text_printf(&err, "--- end of sandbox ---\n");
}

static int
report(const char* path, pb_status_t status, const char* detail)
{
  const char* message = detail && detail[0] ? detail : pb_strerror(status);
  pb_cli_error(path, message);
  return pb_cli_exit_code(status);
}

static int
describe_plugin(pb_plugin_t* plugin, const info_args_t* o)
{
  const pb_info_t* info = pb_plugin_info(plugin);
  if (!info)
    return report(o->path, PB_ERR_PROTOCOL, pb_plugin_last_error(plugin));
  int written = print_description(info, o->json);
  if (o->log)
    print_log(plugin, o->open.log_capacity_bytes);
  if (o->sandbox_report)
    print_sandbox_report(plugin);
  if (written == 0)
    return PB_CLI_EXIT_OK;
  /* A write error is reported once, when stdout is closed. */
  if (!ferror(stdout))
    pb_cli_error(o->path, "could not format the description");
  return PB_CLI_EXIT_FAILURE;
}

int
pb_cli_info_main(int argc, char** argv)
{
  info_args_t o = { NULL, 0, 0, { 0 }, 0 };
  pb_open_opts_init(&o.open);
  /* People probe plugins they do not trust: strict unless told. */
  o.open.sandbox = PB_SANDBOX_STRICT;
  int code = parse_args(argc, argv, &o);
  if (code >= 0)
    return code;
  pb_host_t* host = NULL;
  pb_status_t status = pb_host_new(&host);
  if (status != PB_OK)
    return report("cannot start", status, NULL);
  pb_plugin_t* plugin = NULL;
  status = pb_plugin_open(host, o.path, &o.open, &plugin);
  if (status == PB_OK) {
    code = describe_plugin(plugin, &o);
    pb_plugin_close(plugin);
  } else {
    code = report(o.path, status, pb_host_last_error(host));
    if (o.log)
      pb_cli_error_detail(pb_host_last_error(host));
  }
  pb_host_free(host);
  return code;
}
