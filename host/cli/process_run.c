/* The render loop of plugbox process.  Every buffer is allocated before
 * the first block; the loop itself only reads, converts, processes and
 * writes.  Every process call gets exactly the block size asked for: the
 * last block is padded with silence and its extra output dropped.
 *
 * The blocks go through the plugin's queue (pb_plugin_submit()): while
 * the bridge runs one block, this thread reads and queues the next, then
 * writes the last one's output.  Each queued block has its own output
 * buffers; inputs, MIDI and transport are copied when it is queued. */
#define _POSIX_C_SOURCE 200809L

#include "process_run.h"

#include "main.h"
#include "text.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A queued block. */
typedef struct
{
  pb_process_t block;
  uint64_t pos; /* its first frame */
} slot_t;

typedef struct
{
  const pb_cli_render_t* r;
  pb_cli_render_stats_t* stats;
  uint32_t block, n_file, n_in, n_out;
  uint64_t in_left;       /* input frames not yet read */
  uint64_t content;       /* input (or MIDI) frames to render */
  uint64_t skip, n_write; /* output window: [skip, skip + n_write) */
  uint64_t total;         /* frames to pass through the plugin */
  double rate;
  double* file_in;  /* block × n_file, interleaved */
  double* file_out; /* block × n_out, interleaved */
  /* n_in + PB_QUEUE_MAX × n_out channels of `block` frames: the inputs,
   * then each queued block's outputs; float or double processing. */
  float* f_planar;
  double* d_planar;
  const float** f_in;
  float** f_out; /* PB_QUEUE_MAX × n_pins, by slot */
  const double** d_in;
  double** d_out;
  size_t n_pins;
  pb_midi_event_t* events;
  slot_t slot[PB_QUEUE_MAX];
  uint64_t queued;   /* blocks queued so far */
  uint32_t out_slot; /* the slot whose output is written */
  int percent;       /* last progress drawn, -1 none */
} run_t;

/* Set by SIGINT or SIGTERM: the loop stops at the next block and the
 * caller removes the partial output, instead of leaving it behind. */
static volatile sig_atomic_t interrupted;

static void
on_signal(int signal)
{
  (void)signal;
  interrupted = 1;
}

static void
catch_signals(int on, struct sigaction old[2])
{
  static const int signals[2] = { SIGINT, SIGTERM };
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  (void)sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 2; ++i) /* best effort: without it, the default */
    (void)sigaction(signals[i], on ? &sa : &old[i], on ? &old[i] : NULL);
}

static int
fail(const run_t* run, const char* message)
{
  pb_cli_error(run->r->plugin_path, message);
  return PB_CLI_EXIT_FAILURE;
}

static void
free_buffers(run_t* run)
{
  free(run->file_in);
  free(run->file_out);
  free(run->f_planar);
  free(run->d_planar);
  free(run->f_in);
  free(run->f_out);
  free(run->d_in);
  free(run->d_out);
  free(run->events);
}

static void
point_planar(run_t* run)
{
  const size_t b = run->block;
  for (uint32_t c = 0; c < run->n_in; ++c) {
    if (run->f_planar)
      run->f_in[c] = run->f_planar + c * b;
    else
      run->d_in[c] = run->d_planar + c * b;
  }
  for (uint32_t k = 0; k < PB_QUEUE_MAX; ++k)
    for (uint32_t c = 0; c < run->n_out; ++c) {
      const size_t at = (run->n_in + (size_t)k * run->n_out + c) * b;
      if (run->f_planar)
        run->f_out[k * run->n_pins + c] = run->f_planar + at;
      else
        run->d_out[k * run->n_pins + c] = run->d_planar + at;
    }
}

static int
alloc_buffers(run_t* run)
{
  const size_t b = run->block;
  const size_t n_planar =
    ((size_t)run->n_in + (size_t)PB_QUEUE_MAX * run->n_out) * b;
  const size_t n_pins = (size_t)run->n_in + run->n_out + 1;
  run->n_pins = n_pins;
  run->file_in = calloc(b * run->n_file, sizeof(double));
  run->file_out = calloc(b * run->n_out, sizeof(double));
  if (run->r->use_double)
    run->d_planar = calloc(n_planar, sizeof(double));
  else
    run->f_planar = calloc(n_planar, sizeof(float));
  run->f_in = calloc(n_pins, sizeof(float*));
  run->f_out = calloc(n_pins * PB_QUEUE_MAX, sizeof(float*));
  run->d_in = calloc(n_pins, sizeof(double*));
  run->d_out = calloc(n_pins * PB_QUEUE_MAX, sizeof(double*));
  run->events = calloc(PB_MIDI_MAX_EVENTS, sizeof(pb_midi_event_t));
  run->stats->peaks = calloc(run->n_out, sizeof(double));
  if (!run->file_in || !run->file_out || !(run->f_planar || run->d_planar) ||
      !run->f_in || !run->f_out || !run->d_in || !run->d_out || !run->events ||
      !run->stats->peaks)
    return -1;
  point_planar(run);
  return 0;
}

/* Read the next input frames, silence past the end.  Returns 0, or -1
 * after reporting a read error. */
static int
read_input(run_t* run, uint64_t pos)
{
  uint32_t n = run->in_left < run->block ? (uint32_t)run->in_left : run->block;
  int64_t got = n > 0 ? pb_cli_audio_in_read(run->r->in, run->file_in, n) : 0;
  if (got < 0) {
    char message[128];
    (void)snprintf(message,
                   sizeof message,
                   "read error at frame %llu: %s",
                   (unsigned long long)pos,
                   sf_strerror(run->r->in->file));
    (void)fail(run, message);
    return -1;
  }
  run->in_left = (uint64_t)got < n ? 0 : run->in_left - (uint64_t)got;
  memset(run->file_in + (size_t)got * run->n_file,
         0,
         (size_t)(run->block - (uint32_t)got) * run->n_file * sizeof(double));
  return 0;
}

/* A mono file feeds every input; otherwise channel c feeds input c, and
 * inputs past the file's channels get silence. */
static void
to_planar(run_t* run)
{
  for (uint32_t c = 0; c < run->n_in; ++c) {
    const uint32_t src = run->n_file == 1 ? 0 : c;
    float* f = run->f_planar ? run->f_planar + (size_t)c * run->block : NULL;
    double* d = run->d_planar ? run->d_planar + (size_t)c * run->block : NULL;
    for (uint32_t i = 0; i < run->block; ++i) {
      double v =
        src < run->n_file ? run->file_in[(size_t)i * run->n_file + src] : 0.0;
      if (f)
        f[i] = (float)v;
      else
        d[i] = v;
    }
  }
}

static double
out_sample(const run_t* run, uint32_t c, uint32_t i)
{
  const size_t pin = run->out_slot * run->n_pins + c;
  if (run->f_planar)
    return (double)run->f_out[pin][i];
  return run->d_out[pin][i];
}

/* Interleave the frames of the block at `pos` that fall in the output
 * window, keep the peaks and write them. */
static int
write_output(run_t* run, uint64_t pos)
{
  const uint64_t end = run->skip + run->n_write;
  const uint64_t from = pos > run->skip ? pos : run->skip;
  const uint64_t to = pos + run->block < end ? pos + run->block : end;
  if (to <= from)
    return 0;
  const uint32_t first = (uint32_t)(from - pos);
  const uint32_t n = (uint32_t)(to - from);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t c = 0; c < run->n_out; ++c) {
      double v = out_sample(run, c, first + i);
      run->file_out[(size_t)i * run->n_out + c] = v;
      if (fabs(v) > run->stats->peaks[c] || isnan(v))
        run->stats->peaks[c] = fabs(v);
    }
  }
  run->stats->frames += n;
  return pb_cli_audio_out_write(run->r->out, run->file_out, n);
}

/* A stopped-clock song at 120 BPM in 4/4, playing from the file's start. */
static void
fill_transport(const run_t* run, uint64_t pos, pb_transport_t* t)
{
  memset(t, 0, sizeof *t);
  t->flags = PB_TRANSPORT_PLAYING | (pos == 0 ? PB_TRANSPORT_CHANGED : 0u);
  t->tempo_bpm = 120.0;
  t->time_sig_num = 4;
  t->time_sig_den = 4;
  t->sample_pos = (double)pos;
  t->ppq_pos = (double)pos / run->rate * (t->tempo_bpm / 60.0);
  t->bar_start_ppq = floor(t->ppq_pos / 4.0) * 4.0;
}

static int
process_failed(const run_t* run, pb_status_t status, uint64_t pos)
{
  char message[512];
  const char* why = pb_plugin_last_error(run->r->plugin);
  pb_crash_t crash;
  memset(&crash, 0, sizeof crash);
  if (status == PB_ERR_CRASHED) {
    pb_plugin_crash(run->r->plugin, &crash);
    why = crash.reason[0] ? crash.reason : crash.signal_name;
  }
  (void)snprintf(message,
                 sizeof message,
                 "%s at frame %llu (%.3f s)%s%s",
                 status == PB_ERR_CRASHED   ? "the plugin crashed"
                 : status == PB_ERR_TIMEOUT ? "the plugin missed its deadline"
                                            : pb_strerror(status),
                 (unsigned long long)pos,
                 (double)pos / run->rate,
                 why && why[0] ? ": " : "",
                 why ? why : "");
  pb_cli_error(run->r->plugin_path, message);
  return pb_cli_exit_code(status);
}

/* Queue the block at `pos`, its input read and converted. */
static pb_status_t
submit_block(run_t* run, uint64_t pos)
{
  const uint32_t k = (uint32_t)(run->queued % PB_QUEUE_MAX);
  slot_t* s = &run->slot[k];
  pb_transport_t transport; /* copied when queued */
  fill_transport(run, pos, &transport);
  pb_process_t* block = &s->block;
  memset(block, 0, sizeof *block);
  s->pos = pos;
  block->n_frames = run->block;
  block->n_inputs = run->n_in;
  block->n_outputs = run->n_out;
  block->inputs = run->f_in;
  block->outputs = run->f_out + (size_t)k * run->n_pins;
  block->inputs64 = run->d_in;
  block->outputs64 = run->d_out + (size_t)k * run->n_pins;
  block->midi_in = run->events;
  block->n_midi_in = pb_cli_midi_block(
    run->r->midi, pos, run->block, run->events, PB_MIDI_MAX_EVENTS);
  block->transport = &transport;
  const pb_status_t status = run->r->use_double
                               ? pb_plugin_submit_double(run->r->plugin, block)
                               : pb_plugin_submit(run->r->plugin, block);
  block->transport = NULL;
  run->queued += status == PB_OK;
  return status;
}

/* Collect the oldest queued block; `*pos` is its first frame. */
static pb_status_t
collect_block(run_t* run, uint64_t* pos)
{
  pb_process_t* block = NULL;
  const pb_status_t status = pb_plugin_collect(run->r->plugin, &block);
  run->out_slot =
    (uint32_t)((run->queued - pb_plugin_queued(run->r->plugin) - 1u) %
               PB_QUEUE_MAX);
  *pos = run->slot[run->out_slot].pos;
  return status;
}

/* Collect whatever is still queued, after a failure: the plugin is
 * switched off next, which must not meet a block in the bridge. */
static void
drain(run_t* run)
{
  pb_process_t* block = NULL;
  while (pb_plugin_queued(run->r->plugin) > 0)
    (void)pb_plugin_collect(run->r->plugin, &block);
}

static void
draw_progress(run_t* run, uint64_t pos)
{
  int percent = (int)(run->total ? pos * 100 / run->total : 100);
  if (!run->r->progress || percent == run->percent)
    return;
  run->percent = percent;
  char bar[41];
  memset(bar, ' ', 40);
  memset(bar, '#', (size_t)(percent * 40 / 100));
  bar[40] = '\0';
  /* Progress is a courtesy: a failed write to the terminal is ignored. */
  (void)fprintf(stderr, "\rprocessing [%s] %3d%%", bar, percent);
  if (percent == 100)
    (void)fprintf(stderr, "\r%60s\r", "");
  (void)fflush(stderr);
}

/* Drop `latency` frames from the output's start, and process as many more
 * at the end. */
static void
compensate(run_t* run, int32_t latency)
{
  run->skip = latency > 0 ? (uint64_t)latency : 0;
  run->stats->latency_frames = (uint32_t)run->skip;
  run->total = run->skip + run->n_write;
}

static int
stopped(const run_t* run, uint64_t pos)
{
  char message[96];
  (void)snprintf(message,
                 sizeof message,
                 "interrupted at frame %llu",
                 (unsigned long long)pos);
  if (run->r->progress)
    (void)fprintf(stderr, "\n"); /* below the progress bar */
  return fail(run, message);
}

static int
loop(run_t* run)
{
  pb_plugin_t* plugin = run->r->plugin;
  uint64_t next = 0; /* the next block to queue */
  /* Until every block queued is back: the latency the first block reports
   * may move the end either way. */
  for (uint64_t done = 0; done < run->total || pb_plugin_queued(plugin) > 0;) {
    if (next < run->total && pb_plugin_queued(plugin) < PB_QUEUE_MAX) {
      draw_progress(run, done);
      if (interrupted) {
        drain(run);
        return stopped(run, done);
      }
      if (read_input(run, next) != 0) {
        drain(run);
        return PB_CLI_EXIT_FAILURE;
      }
      to_planar(run);
      const pb_status_t status = submit_block(run, next);
      if (status != PB_OK) {
        drain(run);
        return process_failed(run, status, next);
      }
      next += run->block;
      continue;
    }
    uint64_t pos = 0;
    const pb_status_t status = collect_block(run, &pos);
    if (status != PB_OK) {
      drain(run);
      return process_failed(run, status, pos);
    }
    /* Plugins that compute their latency (a lookahead from the sample
     * rate) often report it in their first process call; nothing has
     * been written yet, so the first block can still take it. */
    if (run->stats->blocks++ == 0 && run->r->compensate_latency)
      compensate(run, pb_plugin_latency(plugin));
    run->stats->processed += run->block;
    if (write_output(run, pos) != 0) {
      drain(run);
      return PB_CLI_EXIT_FAILURE;
    }
    done = pos + run->block;
  }
  draw_progress(run, run->total);
  return 0;
}

/* Switch the plugin on, or off; `quiet` after a failure already told. */
static int
switch_plugin(const run_t* run, int on, int quiet)
{
  pb_plugin_t* plugin = run->r->plugin;
  pb_status_t status =
    on ? pb_plugin_set_active(plugin, 1) : pb_plugin_set_processing(plugin, 0);
  if (status == PB_OK)
    status = on ? pb_plugin_set_processing(plugin, 1)
                : pb_plugin_set_active(plugin, 0);
  if (status == PB_OK || quiet)
    return 0;
  const char* why = pb_plugin_last_error(plugin);
  pb_cli_error(run->r->plugin_path, why[0] ? why : pb_strerror(status));
  return pb_cli_exit_code(status);
}

static void
plan(run_t* run)
{
  const pb_cli_render_t* r = run->r;
  run->in_left = (uint64_t)r->in->info.frames;
  run->content = run->in_left;
  if (pb_cli_midi_end_frame(r->midi) > run->content)
    run->content = pb_cli_midi_end_frame(r->midi);
  run->n_write = run->content + r->tail_frames;
  compensate(run, r->compensate_latency ? pb_plugin_latency(r->plugin) : 0);
}

static double
now_seconds(void)
{
  struct timespec ts = { 0, 0 };
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int
pb_cli_render(const pb_cli_render_t* render, pb_cli_render_stats_t* stats)
{
  const pb_info_t* info = pb_plugin_info(render->plugin);
  memset(stats, 0, sizeof *stats);
  run_t run;
  memset(&run, 0, sizeof run);
  run.r = render;
  run.stats = stats;
  run.block = render->block_frames;
  run.n_file = (uint32_t)render->in->info.channels;
  run.n_in = info->n_inputs > 0 ? (uint32_t)info->n_inputs : 0;
  run.n_out = (uint32_t)render->out->channels;
  run.rate = (double)render->in->info.samplerate;
  run.percent = -1;
  stats->n_channels = run.n_out;
  if (alloc_buffers(&run) != 0) {
    free_buffers(&run);
    return fail(&run, pb_strerror(PB_ERR_NOMEM));
  }
  int code = switch_plugin(&run, 1, 0);
  if (code == 0) {
    plan(&run);
    struct sigaction old[2];
    memset(old, 0, sizeof old);
    catch_signals(1, old);
    const double start = now_seconds();
    code = loop(&run);
    catch_signals(0, old);
    stats->seconds = now_seconds() - start;
    int off = switch_plugin(&run, 0, code != 0);
    code = code != 0 ? code : off;
  }
  free_buffers(&run);
  return code;
}
