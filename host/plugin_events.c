/* Events of a plugin; see plugin_events.h.
 *
 * Order: a block event records how many pipe events had been received
 * when its block returned, and pb_plugin_poll_event() hands out those
 * pipe events before it.  Events that crossed the pipe while the block
 * ran may come out before or after it: the two paths have no common clock
 * finer than that. */
#define _POSIX_C_SOURCE 200809L

#include "plugin_events.h"

#include <string.h>

void
pb_plugin_events_push_block(pb_plugin_t* p,
                            const pb_plugin_event_t* ev,
                            uint64_t after)
{
  if (p->opts.on_event) {
    p->opts.on_event(p->opts.on_event_user, ev);
    return;
  }
  const uint32_t tail =
    atomic_load_explicit(&p->bev_tail, memory_order_relaxed);
  const uint32_t head =
    atomic_load_explicit(&p->bev_head, memory_order_acquire);
  if (tail - head >= PB_BLOCK_EVENT_RING) {
    pb_plugin_events_drop(p, 1);
    return;
  }
  pb_block_event_t* slot = &p->block_events[tail % PB_BLOCK_EVENT_RING];
  slot->ev = *ev;
  slot->after = after;
  atomic_store_explicit(&p->bev_tail, tail + 1u, memory_order_release);
}

void
pb_plugin_events_drop(pb_plugin_t* p, uint64_t n)
{
  atomic_fetch_add_explicit(&p->events_dropped, n, memory_order_relaxed);
}

static pb_plugin_event_kind_t
event_kind(uint32_t msg_kind)
{
  switch (msg_kind) {
    case PB_MSG_EV_AUTOMATE:
      return PB_EVENT_AUTOMATE;
    case PB_MSG_EV_BEGIN_EDIT:
      return PB_EVENT_BEGIN_EDIT;
    case PB_MSG_EV_END_EDIT:
      return PB_EVENT_END_EDIT;
    case PB_MSG_EV_IO_CHANGED:
      return PB_EVENT_IO_CHANGED;
    default:
      return PB_EVENT_LATENCY;
  }
}

static void
event_from_pipe(const pb_event_t* ev, pb_plugin_event_t* out)
{
  memset(out, 0, sizeof(*out));
  out->kind = event_kind(ev->kind);
  out->index = (int32_t)ev->index;
  out->value = ev->value;
  if (ev->kind == PB_MSG_EV_IO_CHANGED) {
    out->n_inputs = ev->a;
    out->n_outputs = ev->b;
    out->latency = ev->c;
  } else if (ev->kind == PB_MSG_EV_LATENCY) {
    out->latency = ev->a;
  }
}

static void
on_pipe_event(void* data, const pb_event_t* ev)
{
  const pb_plugin_t* p = (const pb_plugin_t*)data;
  pb_plugin_event_t out;
  event_from_pipe(ev, &out);
  p->opts.on_event(p->opts.on_event_user, &out);
}

void
pb_plugin_events_attach(pb_plugin_t* p)
{
  p->conn.on_event = p->opts.on_event ? on_pipe_event : NULL;
  p->conn.on_event_data = p;
}

pb_status_t
pb_plugin_poll_event(pb_plugin_t* plugin, pb_plugin_event_t* out)
{
  if (!plugin || !out)
    return PB_ERR_INVALID;
  const uint32_t head =
    atomic_load_explicit(&plugin->bev_head, memory_order_relaxed);
  const uint32_t tail =
    atomic_load_explicit(&plugin->bev_tail, memory_order_acquire);
  const pb_block_event_t* slot =
    head != tail ? &plugin->block_events[head % PB_BLOCK_EVENT_RING] : NULL;
  pb_event_t ev;
  if (pb_conn_poll_event(&plugin->conn, slot ? slot->after : UINT64_MAX, &ev)) {
    event_from_pipe(&ev, out);
    return PB_OK;
  }
  if (!slot)
    return PB_ERR_RANGE;
  *out = slot->ev;
  atomic_store_explicit(&plugin->bev_head, head + 1u, memory_order_release);
  return PB_OK;
}

uint64_t
pb_plugin_events_dropped(const pb_plugin_t* plugin)
{
  if (!plugin)
    return 0;
  pb_plugin_t* p = (pb_plugin_t*)(uintptr_t)plugin;
  return atomic_load(&p->events_dropped) + pb_conn_events_dropped(&p->conn);
}

int32_t
pb_plugin_latency(const pb_plugin_t* plugin)
{
  if (!plugin)
    return 0;
  pb_plugin_t* p = (pb_plugin_t*)(uintptr_t)plugin;
  int32_t latency = 0;
  return pb_conn_latency(&p->conn, &latency) ? latency
                                             : plugin->info.initial_delay;
}
