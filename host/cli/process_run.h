/* The render loop of plugbox process: an input file through an open,
 * configured plugin into an output file, block by block. */
#ifndef PB_HOST_CLI_PROCESS_RUN_H
#define PB_HOST_CLI_PROCESS_RUN_H

#include "plugbox.h"
#include "process_io.h"
#include "process_midi.h"

#include <stdint.h>

/** What one render needs; filled by the caller, which keeps ownership. */
typedef struct
{
  const char* plugin_path; /**< named in messages */
  pb_plugin_t* plugin;     /**< open, configured, not yet active */
  pb_cli_audio_in_t* in;
  pb_cli_audio_out_t* out; /**< open with `n_outputs` channels */
  pb_cli_midi_t* midi;     /**< may be NULL */
  uint32_t block_frames;   /**< passed to every process call */
  uint64_t tail_frames;    /**< silence processed after the input */
  int compensate_latency;
  int use_double;
  int progress; /**< draw a progress bar on stderr */
} pb_cli_render_t;

/** What the render did, for the summary. */
typedef struct
{
  uint64_t frames;    /**< written to the output */
  uint64_t processed; /**< passed through the plugin */
  uint64_t blocks;
  uint32_t latency_frames; /**< dropped from the start when compensating */
  uint32_t n_channels;
  double* peaks; /**< n_channels absolute peaks; owned, free() it */
  double seconds;
} pb_cli_render_stats_t;

/** Run the plugin over the whole input.  Switches the plugin on before the
 *  first block and off after the last.  Returns 0, or an exit code after
 *  reporting the problem in one line (the output is then left for the
 *  caller to abort).  `stats->peaks` is the caller's to free either way. */
int pb_cli_render(const pb_cli_render_t* render, pb_cli_render_stats_t* stats);

#endif /* PB_HOST_CLI_PROCESS_RUN_H */
