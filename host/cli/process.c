/* plugbox process: open the input file, the plugin at the file's rate and
 * a temporary output beside OUT; configure the plugin from the command
 * line; render; rename the output into place only if all went well. */
#define _POSIX_C_SOURCE 200809L

#include "process.h"

#include "args.h"
#include "main.h"
#include "process_conf.h"
#include "process_run.h"
#include "json.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char pb_cli_process_help[] =
  "Usage: plugbox process [OPTIONS] PLUGIN IN OUT\n"
  "\n"
  "Render the audio file IN (WAV, FLAC, AIFF, Ogg) through PLUGIN into OUT.\n"
  "The plugin runs at IN's sample rate (8000 to 384000 Hz).  OUT is\n"
  "written under a temporary name beside it and renamed only on success.\n"
  "\n"
  "Channels: a mono IN feeds every plugin input; otherwise channel i of IN\n"
  "feeds input i, extra channels of IN are dropped and inputs past IN's\n"
  "channels get silence.  OUT has one channel per plugin output (a plugin\n"
  "without outputs is an error).\n"
  "\n"
  "Options:\n"
  "  --format F         OUT's format: wav, flac, aiff or ogg (default:\n"
  "                     from OUT's extension)\n"
  "  --subtype S        pcm16, pcm24 or float (default: IN's for wav, aiff\n"
  "                     and flac; float for wav and aiff, pcm24 for flac\n"
  "                     when IN's does not fit; Vorbis for ogg)\n"
  "  --block N          frames per process call, exactly, for every call;\n"
  "                     the last block is padded with silence (default 512)\n"
  "  --sample-rate HZ   must equal IN's rate (no resampling is done)\n"
  "  --param P=VALUE    set parameter P (its name or index) before\n"
  "                     rendering: VALUE is a normalized number from 0 to 1,\n"
  "                     or text the plugin parses (\"Output Gain=-6 dB\");\n"
  "                     repeatable\n"
  "  --program N        select program N first\n"
  "  --state FILE       restore the plugin's state (bank chunk) from FILE\n"
  "  --midi FILE        send the events of a Standard MIDI File (for\n"
  "                     synths); IN is extended with silence to its end\n"
  "  --tail SECONDS     silence processed after the input (default: the\n"
  "                     tail the plugin declares, at most 30 s, or 0)\n"
  "  --compensate-latency\n"
  "                     drop the plugin's latency from OUT's start and\n"
  "                     process as many frames more at the end\n"
  "  --double           process 64-bit samples\n"
  "  --bridge PATH      bridge executable to run the plugin in\n"
  "  --sandbox PROFILE  confine the bridge: off, basic or strict (default:\n"
  "                     strict)\n"
  "  --json             print a summary object on stdout: frames, blocks,\n"
  "                     sandbox profile, peak per channel, time, realtime\n"
  "                     factor\n"
  "  --quiet            no progress bar and no summary line (--json still\n"
  "                     prints its object; errors are still reported)\n"
  "  -h, --help         show this help\n"
  "\n"
  "A progress bar is drawn on stderr when it is a terminal.\n"
  "\n"
  "Exit status: 0 on success, 2 for a bad option or parameter; see\n"
  "'plugbox --help' for the others.\n";

static double
realtime_factor(const pb_cli_render_stats_t* stats, double rate)
{
  const double audio = (double)stats->processed / rate;
  return stats->seconds > 0.0 ? audio / stats->seconds : 0.0;
}

static int
summary_json(const pb_cli_process_conf_t* conf,
             const pb_cli_audio_in_t* in,
             const pb_cli_render_stats_t* stats)
{
  const double rate = (double)in->info.samplerate;
  pb_json_t json;
  pb_json_init(&json, stdout, 1);
  pb_json_object_begin(&json);
  pb_json_key(&json, "plugin");
  pb_json_string(&json, conf->plugin_path);
  pb_json_key(&json, "input");
  pb_json_string(&json, conf->in_path);
  pb_json_key(&json, "output");
  pb_json_string(&json, conf->out_path);
  pb_json_key(&json, "sample_rate");
  pb_json_int(&json, in->info.samplerate);
  pb_json_key(&json, "channels");
  pb_json_int(&json, stats->n_channels);
  pb_json_key(&json, "block_frames");
  pb_json_int(&json, conf->open.max_block_frames);
  pb_json_key(&json, "sandbox");
  pb_json_string(&json, pb_args_sandbox_name(conf->open.sandbox));
  pb_json_key(&json, "frames");
  pb_json_int(&json, (int64_t)stats->frames);
  pb_json_key(&json, "frames_processed");
  pb_json_int(&json, (int64_t)stats->processed);
  pb_json_key(&json, "blocks");
  pb_json_int(&json, (int64_t)stats->blocks);
  pb_json_key(&json, "latency_frames");
  pb_json_int(&json, stats->latency_frames);
  pb_json_key(&json, "peak");
  pb_json_array_begin(&json);
  for (uint32_t c = 0; c < stats->n_channels; ++c)
    pb_json_double(&json, stats->peaks[c]);
  pb_json_array_end(&json);
  pb_json_key(&json, "time_s");
  pb_json_double(&json, stats->seconds);
  pb_json_key(&json, "realtime_factor");
  pb_json_double(&json, realtime_factor(stats, rate));
  pb_json_object_end(&json);
  return pb_json_finish(&json) == 0 ? 0 : PB_CLI_EXIT_FAILURE;
}

/* One line: what was written, the loudest channel and the speed. */
static int
summary_text(const pb_cli_process_conf_t* conf,
             const pb_cli_audio_in_t* in,
             const pb_cli_render_stats_t* stats)
{
  const double rate = (double)in->info.samplerate;
  double peak = 0.0;
  for (uint32_t c = 0; c < stats->n_channels; ++c)
    peak = stats->peaks[c] > peak ? stats->peaks[c] : peak;
  pb_text_t out;
  pb_text_init(&out, stdout);
  pb_text_puts_safe(&out, conf->out_path);
  pb_text_printf(&out,
                 ": %llu frames (%.3f s), %u channel%s, %llu blocks, "
                 "peak %.1f dBFS, %.1fx realtime\n",
                 (unsigned long long)stats->frames,
                 (double)stats->frames / rate,
                 (unsigned)stats->n_channels,
                 stats->n_channels == 1 ? "" : "s",
                 (unsigned long long)stats->blocks,
                 peak > 0.0 ? 20.0 * log10(peak) : -INFINITY,
                 realtime_factor(stats, rate));
  return out.failed ? PB_CLI_EXIT_FAILURE : 0;
}

/* The output and the render, once the plugin is configured. */
static int
render_to_file(const pb_cli_process_conf_t* conf,
               pb_cli_render_t* render,
               pb_cli_render_stats_t* stats)
{
  pb_cli_audio_out_t out;
  const int n_outputs = pb_plugin_info(render->plugin)->n_outputs;
  int code = pb_cli_audio_out_open(&out,
                                   conf->out_path,
                                   conf->out_format,
                                   n_outputs,
                                   render->in->info.samplerate);
  if (code != 0)
    return code;
  render->out = &out;
  code = pb_cli_render(render, stats);
  if (code == 0)
    return pb_cli_audio_out_commit(&out);
  pb_cli_audio_out_abort(&out);
  return code;
}

static int
run_plugin(const pb_cli_process_conf_t* conf,
           pb_plugin_t* plugin,
           pb_cli_audio_in_t* in,
           pb_cli_midi_t* midi)
{
  pb_cli_render_t render;
  memset(&render, 0, sizeof render);
  render.plugin_path = conf->plugin_path;
  render.plugin = plugin;
  render.in = in;
  render.midi = midi;
  render.block_frames = conf->open.max_block_frames;
  render.compensate_latency = conf->compensate_latency;
  render.use_double = conf->use_double;
  render.progress = !conf->quiet && isatty(2);
  int code = pb_cli_process_configure(conf, plugin, in, &render.tail_frames);
  if (code != 0)
    return code;
  pb_cli_render_stats_t stats;
  code = render_to_file(conf, &render, &stats);
  if (code == 0 && (conf->json || !conf->quiet))
    code = conf->json ? summary_json(conf, in, &stats)
                      : summary_text(conf, in, &stats);
  free(stats.peaks);
  return code;
}

static int
report(const char* subject, pb_status_t status, const char* detail)
{
  pb_cli_error(subject, detail && detail[0] ? detail : pb_strerror(status));
  return pb_cli_exit_code(status);
}

static int
open_and_run(pb_cli_process_conf_t* conf,
             pb_cli_audio_in_t* in,
             pb_cli_midi_t* midi)
{
  pb_host_t* host = NULL;
  pb_status_t status = pb_host_new(&host);
  if (status != PB_OK)
    return report("cannot start", status, NULL);
  conf->open.sample_rate = (double)in->info.samplerate;
  pb_plugin_t* plugin = NULL;
  int code = 0;
  status = pb_plugin_open(host, conf->plugin_path, &conf->open, &plugin);
  if (status == PB_OK)
    code = run_plugin(conf, plugin, in, midi);
  else
    code = report(conf->plugin_path, status, pb_host_last_error(host));
  pb_plugin_close(plugin);
  pb_host_free(host);
  return code;
}

int
pb_cli_process_main(int argc, char** argv)
{
  pb_cli_process_conf_t conf;
  int code = pb_cli_process_parse(argc, argv, &conf);
  if (code >= 0) { /* --help, or a usage error */
    pb_cli_process_conf_fini(&conf);
    return code;
  }
  pb_cli_audio_in_t in = { NULL, { 0 } };
  pb_cli_midi_t* midi = NULL;
  code = pb_cli_process_prepare(&conf, &in);
  if (code == 0 && conf.midi_path)
    code = pb_cli_midi_load(conf.midi_path, (double)in.info.samplerate, &midi);
  if (code == 0)
    code = open_and_run(&conf, &in, midi);
  pb_cli_midi_free(midi);
  pb_cli_audio_in_close(&in);
  pb_cli_process_conf_fini(&conf);
  return code;
}
