/* MIDI files for plugbox process.  The whole file is read up front into
 * one array sorted by frame (libsmf merges the tracks in time order), so
 * the render loop only walks an index forward. */
#include "process_midi.h"

#include "main.h"

#include <errno.h>
#include <math.h>
#include <smf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  uint64_t frame; /* from the start of the file */
  pb_midi_event_t event;
} timed_event_t;

struct pb_cli_midi
{
  smf_t* smf; /* owns the sysex bytes the events point to */
  timed_event_t* events;
  size_t n_events, cap_events;
  size_t next; /* the first event not yet handed out */
};

/* libsmf reports through GLib's log; keep its last message for ours
 * rather than let it print lines of its own. */
static char smf_message[256];

static void
keep_message(const gchar* domain,
             GLogLevelFlags level,
             const gchar* message,
             gpointer data)
{
  (void)domain;
  (void)level;
  (void)data;
  (void)snprintf(smf_message, sizeof smf_message, "%s", message);
}

static int
append(pb_cli_midi_t* midi, const timed_event_t* e)
{
  if (midi->n_events == midi->cap_events) {
    size_t cap = midi->cap_events ? 2 * midi->cap_events : 256;
    timed_event_t* grown = realloc(midi->events, cap * sizeof *grown);
    if (!grown)
      return -1;
    midi->events = grown;
    midi->cap_events = cap;
  }
  midi->events[midi->n_events++] = *e;
  return 0;
}

/* Channel and system messages go to the plugin; meta events, and sysex
 * past what one event carries, do not. */
static int
take_event(pb_cli_midi_t* midi, const smf_event_t* in, double rate)
{
  const int len = in->midi_buffer_length;
  if (smf_event_is_metadata(in) || len < 1)
    return 0;
  timed_event_t e;
  memset(&e, 0, sizeof e);
  e.frame = (uint64_t)llround(fmax(in->time_seconds, 0.0) * rate);
  e.event.size = (uint32_t)len;
  if (smf_event_is_sysex(in)) {
    if ((uint32_t)len > PB_SYSEX_MAX_BYTES)
      return 0;
    e.event.sysex = in->midi_buffer;
  } else if (len <= 3) {
    memcpy(e.event.data, in->midi_buffer, (size_t)len);
  } else {
    return 0;
  }
  return append(midi, &e);
}

static int
load_fail(pb_cli_midi_t* midi, const char* path, const char* message)
{
  pb_cli_error(path, message);
  pb_cli_midi_free(midi);
  return PB_CLI_EXIT_FAILURE;
}

/* Whether `path` starts like a Standard MIDI File.  libsmf leaks what it
 * allocated when a load fails, so the plainest mistake (not a MIDI file
 * at all) is caught before it; 0, or -errno, or -EINVAL. */
static int
check_header(const char* path)
{
  char magic[4] = { 0 };
  FILE* file = fopen(path, "rb");
  if (!file)
    return -errno;
  size_t n = fread(magic, 1, sizeof magic, file);
  (void)fclose(file); /* read-only */
  return n == sizeof magic && memcmp(magic, "MThd", 4) == 0 ? 0 : -EINVAL;
}

int
pb_cli_midi_load(const char* path, double sample_rate, pb_cli_midi_t** out)
{
  *out = NULL;
  const int err = check_header(path);
  if (err != 0)
    return load_fail(
      NULL, path, err == -EINVAL ? "not a Standard MIDI File" : strerror(-err));
  pb_cli_midi_t* midi = calloc(1, sizeof *midi);
  if (!midi)
    return load_fail(NULL, path, pb_strerror(PB_ERR_NOMEM));
  smf_message[0] = '\0';
  GLogFunc previous = g_log_set_default_handler(keep_message, NULL);
  midi->smf = smf_load(path);
  (void)g_log_set_default_handler(previous, NULL);
  if (!midi->smf)
    return load_fail(midi,
                     path,
                     smf_message[0] ? smf_message
                                    : "not a readable Standard MIDI File");
  smf_event_t* event = NULL;
  smf_rewind(midi->smf);
  while ((event = smf_get_next_event(midi->smf)) != NULL)
    if (take_event(midi, event, sample_rate) != 0)
      return load_fail(midi, path, pb_strerror(PB_ERR_NOMEM));
  *out = midi;
  return 0;
}

uint64_t
pb_cli_midi_end_frame(const pb_cli_midi_t* midi)
{
  if (!midi || midi->n_events == 0)
    return 0;
  return midi->events[midi->n_events - 1].frame + 1;
}

uint32_t
pb_cli_midi_block(pb_cli_midi_t* midi,
                  uint64_t start,
                  uint32_t n_frames,
                  pb_midi_event_t* events,
                  uint32_t cap)
{
  uint32_t n = 0;
  if (!midi)
    return 0;
  while (n < cap && midi->next < midi->n_events) {
    const timed_event_t* e = &midi->events[midi->next];
    if (e->frame >= start + n_frames)
      break;
    events[n] = e->event;
    events[n].frame = e->frame > start ? (uint32_t)(e->frame - start) : 0;
    ++n;
    ++midi->next;
  }
  return n;
}

void
pb_cli_midi_free(pb_cli_midi_t* midi)
{
  if (!midi)
    return;
  if (midi->smf)
    smf_delete(midi->smf);
  free(midi->events);
  free(midi);
}
