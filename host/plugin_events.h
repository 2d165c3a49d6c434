/* The events a plugin raised, as pb_plugin_poll_event() hands them out:
 * those that came over the pipe (kept by the conn, host/conn.c) and those
 * of the audio thread's blocks, read from the shared reply by the process
 * caller into a ring of the plugin.  Private to libplugbox.
 *
 * Threads: the ring has one producer, the thread in pb_plugin_process(),
 * and one consumer, the thread in pb_plugin_poll_event(); each may be a
 * different thread, but each side is used by one thread at a time.  The
 * producer neither locks nor allocates.  With the on_event option the
 * ring stays empty: block events go to the callback on the producer's
 * thread, pipe events on the I/O thread. */
#ifndef PB_HOST_PLUGIN_EVENTS_H
#define PB_HOST_PLUGIN_EVENTS_H

#include "plugin.h"

/** Route the pipe's events to the on_event option, if set.  Before the
 *  conn starts.  [main-thread] */
void pb_plugin_events_attach(pb_plugin_t* p);

/** Queue an event of the block, or pass it to the on_event option that just
 * returned.  `after`: the pipe events received by then (pb_conn_t.ev_total),
 * which poll_event hands out first.  Counts it as dropped when the ring is
 * full. [audio-thread, rt] */
void pb_plugin_events_push_block(pb_plugin_t* p,
                                 const pb_plugin_event_t* ev,
                                 uint64_t after);

/** Count `n` block events lost on the way.  [audio-thread, rt] */
void pb_plugin_events_drop(pb_plugin_t* p, uint64_t n);

#endif /* PB_HOST_PLUGIN_EVENTS_H */
