/* The control calls: each maps onto one request kind of the protocol.
 * Arguments are checked here first (indexes against the counts read at
 * open, sizes, NaN), so a bad call never reaches the bridge. */
#define _POSIX_C_SOURCE 200809L /* pthread, via uv.h */

#include "plugin.h"
#include "request.h"
#include "restart.h"

#include "common/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t
deadline(const pb_plugin_t* p)
{
  return pb_clock_now_ms() + p->call_timeout_ms;
}

static void
lock(pb_plugin_t* p)
{
  pthread_mutex_lock(&p->call_mutex);
}

/* Release the reply and the plugin; pass `st` through. */
static pb_status_t
finish(pb_plugin_t* p, pb_status_t st)
{
  pb_request_done(p);
  pthread_mutex_unlock(&p->call_mutex);
  return st;
}

static pb_status_t
check_index(pb_plugin_t* p, const char* what, int32_t index, int32_t count)
{
  if (index >= 0 && index < count)
    return PB_OK;
  return pb_plugin_fail(p,
                        PB_ERR_RANGE,
                        "%s index %d out of range (the plugin has %d)",
                        what,
                        (int)index,
                        (int)count);
}

static void
copy_text(char* dst, size_t cap, const char* src)
{
  if (dst && cap)
    (void)snprintf(dst, cap, "%s", src);
}

/* A request with no reply arguments. */
static pb_status_t
simple(pb_plugin_t* p, uint32_t kind, const char* args, uint32_t u, double f)
{
  const pb_msg_t* r = NULL;
  if (args[0] == 'f')
    return pb_request_call(p, deadline(p), kind, "", &r, args, f);
  if (args[0])
    return pb_request_call(p, deadline(p), kind, "", &r, args, u);
  return pb_request_call(p, deadline(p), kind, "", &r, args);
}

/* ---------------------------------------------------------- parameters */

pb_status_t
pb_plugin_param_get(pb_plugin_t* plugin,
                    int32_t index,
                    float* value,
                    char* display,
                    size_t display_cap)
{
  if (!plugin)
    return PB_ERR_INVALID;
  const pb_msg_t* r = NULL;
  lock(plugin);
  pb_status_t st =
    check_index(plugin, "parameter", index, plugin->info.n_params);
  if (!st)
    st = pb_request_call(plugin,
                         deadline(plugin),
                         PB_MSG_PARAM_GET,
                         "fss",
                         &r,
                         "u",
                         (unsigned)index);
  if (!st && value)
    *value = (float)r->args[0].v.f;
  if (!st)
    copy_text(display, display_cap, r->args[1].v.s.ptr);
  return finish(plugin, st);
}

pb_status_t
pb_plugin_param_set(pb_plugin_t* plugin, int32_t index, float value)
{
  if (!plugin)
    return PB_ERR_INVALID;
  lock(plugin);
  pb_status_t st =
    check_index(plugin, "parameter", index, plugin->info.n_params);
  if (!st && isnan(value))
    st = pb_plugin_fail(plugin, PB_ERR_INVALID, "parameter value is NaN");
  const float v = value < 0.0f ? 0.0f : value > 1.0f ? 1.0f : value;
  const pb_msg_t* r = NULL;
  if (!st)
    st = pb_request_call(plugin,
                         deadline(plugin),
                         PB_MSG_PARAM_SET,
                         "",
                         &r,
                         "uf",
                         (unsigned)index,
                         (double)v);
  if (!st)
    pb_state_param(plugin, index, v);
  return finish(plugin, st);
}

pb_status_t
pb_plugin_param_from_string(pb_plugin_t* plugin,
                            int32_t index,
                            const char* text,
                            float* value)
{
  if (!plugin || !text)
    return PB_ERR_INVALID;
  const pb_msg_t* r = NULL;
  lock(plugin);
  pb_status_t st =
    check_index(plugin, "parameter", index, plugin->info.n_params);
  if (!st)
    st = pb_request_call(plugin,
                         deadline(plugin),
                         PB_MSG_PARAM_FROM_STRING,
                         "bf",
                         &r,
                         "us",
                         (unsigned)index,
                         text);
  if (!st && !r->args[0].v.b)
    st = pb_plugin_fail(plugin,
                        PB_ERR_REFUSED,
                        "the plugin did not accept \"%s\" for parameter %d",
                        text,
                        (int)index);
  if (!st)
    pb_state_param(plugin, index, (float)r->args[1].v.f);
  if (!st && value)
    *value = (float)r->args[1].v.f;
  return finish(plugin, st);
}

/* ------------------------------------------------------------ programs */

/* A request without arguments whose reply is one int. */
static pb_status_t
get_i32(pb_plugin_t* plugin, uint32_t kind, int32_t* out)
{
  if (!plugin || !out)
    return PB_ERR_INVALID;
  const pb_msg_t* r = NULL;
  lock(plugin);
  const pb_status_t st =
    pb_request_call(plugin, deadline(plugin), kind, "i", &r, "");
  if (!st)
    *out = r->args[0].v.i;
  return finish(plugin, st);
}

pb_status_t
pb_plugin_program_get(pb_plugin_t* plugin, int32_t* index)
{
  return get_i32(plugin, PB_MSG_PROGRAM_GET, index);
}

pb_status_t
pb_plugin_program_set(pb_plugin_t* plugin, int32_t index)
{
  if (!plugin)
    return PB_ERR_INVALID;
  lock(plugin);
  pb_status_t st =
    check_index(plugin, "program", index, plugin->info.n_programs);
  if (!st && plugin->opts.snapshot_before_risky)
    (void)pb_restart_snapshot(plugin);
  if (!st)
    st = simple(plugin, PB_MSG_PROGRAM_SET, "u", (uint32_t)index, 0.0);
  if (!st)
    pb_state_program(plugin, index);
  return finish(plugin, st);
}

pb_status_t
pb_plugin_program_name(pb_plugin_t* plugin,
                       int32_t index,
                       char* name,
                       size_t cap)
{
  if (!plugin || !name || cap == 0)
    return PB_ERR_INVALID;
  const pb_msg_t* r = NULL;
  lock(plugin);
  pb_status_t st =
    check_index(plugin, "program", index, plugin->info.n_programs);
  if (!st)
    st = pb_request_call(plugin,
                         deadline(plugin),
                         PB_MSG_PROGRAM_NAME,
                         "s",
                         &r,
                         "u",
                         (unsigned)index);
  if (!st)
    copy_text(name, cap, r->args[0].v.s.ptr);
  return finish(plugin, st);
}

pb_status_t
pb_plugin_program_rename(pb_plugin_t* plugin, const char* name)
{
  if (!plugin || !name)
    return PB_ERR_INVALID;
  const pb_msg_t* r = NULL;
  lock(plugin);
  const pb_status_t st = pb_request_call(
    plugin, deadline(plugin), PB_MSG_PROGRAM_RENAME, "", &r, "s", name);
  return finish(plugin, st);
}

/* --------------------------------------------------------------- state */

pb_status_t
pb_plugin_chunk_get(pb_plugin_t* plugin, int program, void** data, size_t* size)
{
  if (!plugin || !data || !size)
    return PB_ERR_INVALID;
  *data = NULL;
  *size = 0;
  const pb_msg_t* r = NULL;
  lock(plugin);
  pb_status_t st = pb_request_call(
    plugin, deadline(plugin), PB_MSG_CHUNK_GET, "x", &r, "b", !!program);
  if (!st) {
    const uint32_t len = r->args[0].v.x.len;
    *data = malloc(len ? len : 1u);
    if (*data) {
      memcpy(*data, r->args[0].v.x.ptr, len);
      *size = len;
    } else {
      st = pb_plugin_fail(plugin,
                          PB_ERR_NOMEM,
                          "out of memory for a %u-byte "
                          "chunk",
                          (unsigned)len);
    }
  }
  return finish(plugin, st);
}

pb_status_t
pb_plugin_chunk_set(pb_plugin_t* plugin,
                    int program,
                    const void* data,
                    size_t size)
{
  if (!plugin || (!data && size))
    return PB_ERR_INVALID;
  const pb_msg_t* r = NULL;
  lock(plugin);
  pb_status_t st = PB_OK;
  if (size > PB_CHUNK_MAX_BYTES)
    st = pb_plugin_fail(plugin,
                        PB_ERR_TOO_BIG,
                        "chunk of %zu bytes is over the limit of %u",
                        size,
                        (unsigned)PB_CHUNK_MAX_BYTES);
  if (!st && plugin->opts.snapshot_before_risky)
    (void)pb_restart_snapshot(plugin);
  /* The plugin's own result is advisory: many return 0 on success. */
  if (!st)
    st = pb_request_call(plugin,
                         deadline(plugin),
                         PB_MSG_CHUNK_SET,
                         "i",
                         &r,
                         "bx",
                         !!program,
                         data ? data : "",
                         size);
  if (!st)
    pb_state_chunk(plugin, program, data ? data : "", size);
  return finish(plugin, st);
}

/* ---------------------------------------------------- processing setup */

pb_status_t
pb_plugin_set_sample_rate(pb_plugin_t* plugin, double rate)
{
  if (!plugin || !(rate > 0.0) || !isfinite(rate))
    return PB_ERR_INVALID;
  lock(plugin);
  const pb_status_t st = simple(plugin, PB_MSG_SET_SAMPLE_RATE, "f", 0, rate);
  if (!st)
    pb_state_rate(plugin, rate);
  return finish(plugin, st);
}

pb_status_t
pb_plugin_set_block_size(pb_plugin_t* plugin, uint32_t max_frames)
{
  if (!plugin || max_frames == 0 || max_frames > INT32_MAX)
    return PB_ERR_INVALID;
  lock(plugin);
  const pb_status_t st =
    simple(plugin, PB_MSG_SET_BLOCK_SIZE, "u", max_frames, 0.0);
  if (!st) {
    atomic_store(&plugin->block_frames, max_frames);
    pb_state_block(plugin, max_frames);
  }
  return finish(plugin, st);
}

pb_status_t
pb_plugin_set_active(pb_plugin_t* plugin, int on)
{
  if (!plugin)
    return PB_ERR_INVALID;
  lock(plugin);
  const pb_status_t st =
    simple(plugin, PB_MSG_SET_ACTIVE, "b", on ? 1u : 0u, 0.0);
  if (!st) {
    atomic_store(&plugin->active, on ? 1 : 0);
    if (!on)
      atomic_store(&plugin->processing, 0);
  }
  return finish(plugin, st);
}

pb_status_t
pb_plugin_set_processing(pb_plugin_t* plugin, int on)
{
  if (!plugin)
    return PB_ERR_INVALID;
  lock(plugin);
  const pb_status_t st =
    simple(plugin, PB_MSG_SET_PROCESSING, "b", on ? 1u : 0u, 0.0);
  if (!st)
    atomic_store(&plugin->processing, on ? 1 : 0);
  return finish(plugin, st);
}

pb_status_t
pb_plugin_set_bypass(pb_plugin_t* plugin, int on)
{
  if (!plugin)
    return PB_ERR_INVALID;
  const pb_msg_t* r = NULL;
  lock(plugin);
  pb_status_t st = pb_request_call(
    plugin, deadline(plugin), PB_MSG_SET_BYPASS, "b", &r, "b", !!on);
  if (!st && !r->args[0].v.b)
    st = pb_plugin_fail(
      plugin, PB_ERR_UNSUPPORTED, "the plugin declined to bypass itself");
  if (!st)
    pb_state_bypass(plugin, on);
  return finish(plugin, st);
}

pb_status_t
pb_plugin_tail_size(pb_plugin_t* plugin, int32_t* frames)
{
  return get_i32(plugin, PB_MSG_TAIL_SIZE, frames);
}

pb_status_t
pb_plugin_can_do(pb_plugin_t* plugin, const char* what, int32_t* answer)
{
  if (!plugin || !what || !answer)
    return PB_ERR_INVALID;
  const pb_msg_t* r = NULL;
  lock(plugin);
  const pb_status_t st = pb_request_call(
    plugin, deadline(plugin), PB_MSG_CAN_DO, "i", &r, "s", what);
  if (!st)
    *answer = r->args[0].v.i;
  return finish(plugin, st);
}
