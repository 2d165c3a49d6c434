/* The command line of plugbox process, and the plugin set up from it. */
#ifndef PB_HOST_CLI_PROCESS_CONF_H
#define PB_HOST_CLI_PROCESS_CONF_H

#include "plugbox.h"
#include "process_io.h"

#include <stddef.h>
#include <stdint.h>

typedef struct
{
  const char* plugin_path;
  const char* in_path;
  const char* out_path;
  const char* format;  /**< --format, or NULL */
  const char* subtype; /**< --subtype, or NULL */
  int out_format;      /**< libsndfile's, set by pb_cli_process_prepare() */
  double sample_rate;  /**< --sample-rate, or 0 */
  const char** params; /**< --param values, in order; owned array */
  size_t n_params;
  int32_t program; /**< --program, or -1 */
  const char* state_path;
  const char* midi_path;
  double tail_seconds; /**< --tail, or -1 for the plugin's */
  int compensate_latency;
  int use_double;
  int json;
  int quiet;
  pb_open_opts_t open; /**< max_block_frames is --block */
} pb_cli_process_conf_t;

/** Read the command line into `conf`.  Returns -1 to go on (then
 *  pb_cli_process_conf_fini() it), or the exit code to return now. */
int pb_cli_process_parse(int argc, char** argv, pb_cli_process_conf_t* conf);

/** Open the input and settle the output format.  Returns 0, or an exit
 *  code after reporting the problem. */
int pb_cli_process_prepare(pb_cli_process_conf_t* conf, pb_cli_audio_in_t* in);

/** Apply --program, --state and --param to the open plugin, check it can
 *  render (outputs, 64-bit processing) and settle the tail in frames.
 *  Returns 0, or an exit code after reporting the problem. */
int pb_cli_process_configure(const pb_cli_process_conf_t* conf,
                             pb_plugin_t* plugin,
                             const pb_cli_audio_in_t* in,
                             uint64_t* tail_frames);

/** Free what pb_cli_process_parse() allocated. */
void pb_cli_process_conf_fini(pb_cli_process_conf_t* conf);

#endif /* PB_HOST_CLI_PROCESS_CONF_H */
