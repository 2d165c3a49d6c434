/* A Standard MIDI File for plugbox process, read with libsmf and handed
 * out block by block as timed pb_midi_event_t. */
#ifndef PB_HOST_CLI_PROCESS_MIDI_H
#define PB_HOST_CLI_PROCESS_MIDI_H

#include "plugbox.h"

#include <stddef.h>
#include <stdint.h>

typedef struct pb_cli_midi pb_cli_midi_t;

/** Read the MIDI file at `path` and place its events at frames of
 *  `sample_rate`.  Returns 0 and `*out` (free with pb_cli_midi_free()), or
 *  an exit code after reporting the problem in one line. */
int pb_cli_midi_load(const char* path, double sample_rate, pb_cli_midi_t** out);

/** Frames up to and including the last event (0 if there is none). */
uint64_t pb_cli_midi_end_frame(const pb_cli_midi_t* midi);

/** Fill `events` (room for `cap`) with the events of the block of
 *  `n_frames` that starts at frame `start`, frames relative to the block.
 *  Events that do not fit, or that an earlier block could not take, come
 *  first in the next block at frame 0.  Returns the count.  Borrowed sysex
 *  data stays valid until pb_cli_midi_free(). */
uint32_t pb_cli_midi_block(pb_cli_midi_t* midi,
                           uint64_t start,
                           uint32_t n_frames,
                           pb_midi_event_t* events,
                           uint32_t cap);

/** Free the file's events.  Accepts NULL. */
void pb_cli_midi_free(pb_cli_midi_t* midi);

#endif /* PB_HOST_CLI_PROCESS_MIDI_H */
