/* A bounded queue of the events a plugin raises through the host callback
 * (automation, begin/end edit, I/O changes), waiting to be written to the
 * host by the control loop.
 *
 * Plugins call the host callback from any thread (their own workers, the
 * audio thread later), but only the main thread may write to the control
 * pipe, so the callback pushes here and the loop pops. */
#ifndef PB_BRIDGE_EVENTS_H
#define PB_BRIDGE_EVENTS_H

#include <pthread.h>
#include <stdint.h>

#define PB_EVENTS_CAPACITY 4096u

/** One event; which fields count depends on `kind`. */
typedef struct pb_event
{
  uint32_t kind;     /* PB_MSG_EV_* */
  uint32_t index;    /* parameter (automate, begin/end edit) */
  float value;       /* normalized value (automate) */
  int32_t n_inputs;  /* io changed */
  int32_t n_outputs; /* io changed */
  int32_t delay;     /* io changed, latency: initial delay in frames */
} pb_event_t;

/** Called after each push, outside the lock, so the loop wakes up. */
typedef void (*pb_events_notify_fn)(void* data);

typedef struct pb_events
{
  pthread_mutex_t lock;
  pb_event_t ring[PB_EVENTS_CAPACITY];
  uint32_t head;      /* index of the oldest event */
  uint32_t count;     /* events held */
  uint32_t n_dropped; /* pushed while full, since the last pop */
  pb_events_notify_fn notify;
  void* notify_data;
} pb_events_t;

/** Start empty.  [main-thread] Returns 0 or a negative errno. */
int pb_events_init(pb_events_t* q,
                   pb_events_notify_fn notify,
                   void* notify_data);

/** [main-thread] */
void pb_events_fini(pb_events_t* q);

/** Queue a copy of `ev`; when full the event is dropped and counted.
 *  [any-thread] Does not allocate. */
void pb_events_push(pb_events_t* q, const pb_event_t* ev);

/** Take the oldest event into `*out`: returns 1, or 0 when empty.
 *  `*n_dropped` receives the number of events lost since the last pop.
 *  [main-thread] */
int pb_events_pop(pb_events_t* q, pb_event_t* out, uint32_t* n_dropped);

#endif /* PB_BRIDGE_EVENTS_H */
