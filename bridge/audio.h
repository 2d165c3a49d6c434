/* The bridge's audio thread: waits on the shared block's request doorbell,
 * runs the plugin's processReplacing / processDoubleReplacing on exactly
 * the frames asked for, and rings done.  There is one plugin per bridge,
 * so the state is process-wide.
 *
 * Timed parameter changes: a change at frame 0 is applied before the
 * block; the block is split at the frame of every other change, which is
 * applied between the two parts.  A block without changes past frame 0 is
 * processed in one call, never re-blocked. */
#ifndef PB_BRIDGE_AUDIO_H
#define PB_BRIDGE_AUDIO_H

#include "bridge/vst2.h"
#include "common/vst2_abi.h"

#include <stdint.h>

/** Map the shared block inherited on `fd` (taken).  [main-thread]
 *  Returns 0 or -errno. */
int pb_audio_map(int fd);

/** The SCHED_FIFO priority the audio thread takes when it starts (1..99),
 *  or 0 to keep the inherited policy.  [main-thread] */
void pb_audio_set_priority(int priority);

/** Start the audio thread for the opened `plugin` (borrowed until
 *  pb_audio_stop()), after capturing the calling thread's floating-point
 *  environment, which every block then runs under.  No-op without a
 *  block.  [main-thread]  Returns 0 or -errno. */
int pb_audio_start(pb_vst2_t* plugin);

/** Stop and join the audio thread, if running.  [main-thread] */
void pb_audio_stop(void);

/** Whether the caller is the audio thread inside a block.  [any-thread] */
int pb_audio_in_block(void);

/** The time info of the current block, for GET_TIME.  [audio-thread] */
struct pb_vst_time_info* pb_audio_time(float sample_rate);

/** Collect events the plugin sends during the block.  [audio-thread] */
intptr_t pb_audio_events_out(const struct pb_vst_events* events);

/** Record a parameter event (PB_SHM_PARAM_*) the plugin raised, in the
 *  reply's bounded array, if the caller is the audio thread inside a
 *  block: no lock, no system call.  Returns 1 if taken (kept, or counted
 *  as dropped when the array is full), 0 if the caller is another thread
 *  (the event then goes through the pipe's queue).  [any-thread] */
int pb_audio_param_event(uint32_t kind, int32_t index, float value);

#endif /* PB_BRIDGE_AUDIO_H */
