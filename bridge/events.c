#include "bridge/events.h"

#include <string.h>

int
pb_events_init(pb_events_t* q, pb_events_notify_fn notify, void* notify_data)
{
  memset(q, 0, sizeof *q);
  q->notify = notify;
  q->notify_data = notify_data;
  return -pthread_mutex_init(&q->lock, NULL);
}

void
pb_events_fini(pb_events_t* q)
{
  (void)pthread_mutex_destroy(&q->lock);
}

void
pb_events_push(pb_events_t* q, const pb_event_t* ev)
{
  (void)pthread_mutex_lock(&q->lock);
  if (q->count < PB_EVENTS_CAPACITY) {
    q->ring[(q->head + q->count) % PB_EVENTS_CAPACITY] = *ev;
    ++q->count;
  } else {
    ++q->n_dropped;
  }
  (void)pthread_mutex_unlock(&q->lock);
  if (q->notify)
    q->notify(q->notify_data);
}

int
pb_events_pop(pb_events_t* q, pb_event_t* out, uint32_t* n_dropped)
{
  int got = 0;

  (void)pthread_mutex_lock(&q->lock);
  *n_dropped = q->n_dropped;
  q->n_dropped = 0;
  if (q->count > 0) {
    *out = q->ring[q->head];
    q->head = (q->head + 1) % PB_EVENTS_CAPACITY;
    --q->count;
    got = 1;
  }
  (void)pthread_mutex_unlock(&q->lock);
  return got;
}
