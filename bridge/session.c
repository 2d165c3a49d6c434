#include "bridge/session.h"

#include "bridge/audio.h"
#include "bridge/crash.h"
#include "bridge/host_cb.h"
#include "bridge/info_reply.h"
#include "bridge/sandbox.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One request being handled. */
typedef struct call
{
  pb_session_t* session;
  const pb_msg_t* msg;
  pb_wr_t* reply;
  char* err;
  size_t err_size;
} call_t;

typedef pb_status_t (*handler_fn)(call_t* c);

static pb_status_t fail(call_t* c, pb_status_t status, const char* fmt, ...)
  __attribute__((format(printf, 3, 4)));

static pb_status_t
fail(call_t* c, pb_status_t status, const char* fmt, ...)
{
  va_list args;

  va_start(args, fmt);
  vsnprintf(c->err, c->err_size, fmt, args);
  va_end(args);
  return status;
}

static const pb_val_t*
arg(const call_t* c, uint32_t i)
{
  return &c->msg->args[i];
}

static pb_vst2_t*
plugin(const call_t* c)
{
  return &c->session->plugin;
}

/* ----------------------------------------------------------- validation */

static pb_status_t
check_rate(call_t* c, double hz)
{
  if (isfinite(hz) && hz > 0.0 && hz <= FLT_MAX)
    return PB_OK;
  return fail(c, PB_ERR_INVALID, "sample rate %g Hz is not valid", hz);
}

static pb_status_t
check_block(call_t* c, uint32_t n_frames)
{
  if (n_frames >= 1 && n_frames <= INT32_MAX)
    return PB_OK;
  return fail(c,
              PB_ERR_INVALID,
              "block size %u frames out of range (1 to %d)",
              n_frames,
              INT32_MAX);
}

static pb_status_t
check_param(call_t* c, uint32_t index)
{
  const uint32_t n = pb_vst2_n_params(plugin(c));

  if (index < n)
    return PB_OK;
  return fail(c,
              PB_ERR_RANGE,
              "parameter index %u out of range (plugin has %u parameters)",
              index,
              n);
}

static pb_status_t
check_program(call_t* c, uint32_t index)
{
  const uint32_t n = pb_vst2_n_programs(plugin(c));

  if (index < n)
    return PB_OK;
  return fail(c,
              PB_ERR_RANGE,
              "program index %u out of range (plugin has %u programs)",
              index,
              n);
}

/* Texts the plugin reads are copied into a PB_VST_STR_BUF buffer. */
static pb_status_t
check_text(call_t* c, const pb_val_t* text)
{
  if (text->v.s.len < PB_VST_STR_BUF)
    return PB_OK;
  return fail(c,
              PB_ERR_TOO_BIG,
              "text of %u bytes (limit %d)",
              text->v.s.len,
              PB_VST_STR_BUF - 1);
}

/* ------------------------------------------------------- open and close */

static void
load_settings(const char* path, float hz, int32_t max_block)
{
  pb_host_cb_set_sample_rate(hz);
  pb_host_cb_set_block_size(max_block);
  pb_host_cb_set_directory(path);
}

/* For module offsets in a crash note: the object the dispatcher is in. */
static void
note_module(const pb_vst_effect_t* effect)
{
  const void* symbol = NULL;
  const pb_vst_dispatch_fn_t fn = effect->dispatcher;
  memcpy(&symbol, &fn, sizeof symbol);
  pb_crash_note_module(symbol);
}

static pb_status_t
handle_open(call_t* c)
{
  const char* path = arg(c, 0)->v.s.ptr;
  const double hz = arg(c, 1)->v.f;
  const uint32_t max_block = arg(c, 2)->v.u;
  pb_status_t status = PB_OK;

  if (c->session->is_open)
    return fail(c, PB_ERR_INVALID, "a plugin is already open");
  if (!path[0])
    return fail(c, PB_ERR_INVALID, "empty plugin path");
  if ((status = check_rate(c, hz)) || (status = check_block(c, max_block)))
    return status;
  if (pb_sandbox_check_open(path, c->err, c->err_size))
    return PB_ERR_ACCESS;

  load_settings(path, (float)hz, (int32_t)max_block);
  status =
    pb_vst2_load(plugin(c), path, pb_host_cb_dispatch, c->err, c->err_size);
  if (status)
    return status;
  pb_host_cb_set_effect(plugin(c)->effect);
  note_module(plugin(c)->effect);
  pb_vst2_open(plugin(c), (float)hz, (int32_t)max_block);
  pb_host_cb_note_latency();
  c->session->is_open = 1;
  /* Without its audio thread the plugin still answers every control
   * request; process calls then time out in the host. */
  (void)pb_audio_start(plugin(c));
  return PB_OK;
}

/* Answered with or without a plugin, so a host can always end a bridge
 * cleanly. */
static pb_status_t
handle_close(call_t* c)
{
  if (c->session->is_open) {
    pb_audio_stop();
    pb_vst2_close(plugin(c));
    pb_host_cb_set_effect(NULL);
    c->session->is_open = 0;
  }
  c->session->is_closed = 1;
  return PB_OK;
}

static pb_status_t
handle_ping(call_t* c)
{
  (void)c;
  return PB_OK;
}

/* Which sandbox layers hold, with or without a plugin. */
static pb_status_t
handle_sandbox(call_t* c)
{
  pb_wr_s(c->reply, pb_sandbox_report());
  return PB_OK;
}

static pb_status_t
handle_info(call_t* c)
{
  return pb_info_reply_write(plugin(c), c->reply, c->err, c->err_size);
}

/* ----------------------------------------------------------- parameters */

static pb_status_t
handle_param_get(call_t* c)
{
  const uint32_t index = arg(c, 0)->v.u;
  char display[PB_VST_STR_BUF];
  char label[PB_VST_STR_BUF];
  const pb_status_t status = check_param(c, index);
  if (status)
    return status;

  const float value = pb_vst2_param_get(plugin(c), index);
  pb_crash_set_call("param_display");
  pb_vst2_param_display(plugin(c), index, display);
  pb_crash_set_call("param_label");
  pb_vst2_param_label(plugin(c), index, label);
  pb_wr_f(c->reply, value);
  pb_wr_s(c->reply, display);
  pb_wr_s(c->reply, label);
  return PB_OK;
}

static pb_status_t
handle_param_set(call_t* c)
{
  const uint32_t index = arg(c, 0)->v.u;
  const double value = arg(c, 1)->v.f;
  const pb_status_t status = check_param(c, index);
  if (status)
    return status;
  if (isnan(value))
    return fail(c, PB_ERR_INVALID, "parameter %u value is NaN", index);

  const double clamped = value < 0.0 ? 0.0 : value > 1.0 ? 1.0 : value;
  pb_vst2_param_set(plugin(c), index, (float)clamped);
  return PB_OK;
}

static pb_status_t
handle_param_from_string(call_t* c)
{
  const uint32_t index = arg(c, 0)->v.u;
  float value = 0.0f;
  pb_status_t status = PB_OK;

  if ((status = check_param(c, index)) || (status = check_text(c, arg(c, 1))))
    return status;

  const int ok =
    pb_vst2_param_from_string(plugin(c), index, arg(c, 1)->v.s.ptr, &value);
  pb_wr_b(c->reply, ok);
  pb_wr_f(c->reply, value);
  return PB_OK;
}

/* ------------------------------------------------------------- programs */

static pb_status_t
handle_program_get(call_t* c)
{
  pb_wr_i(c->reply, pb_vst2_program(plugin(c)));
  return PB_OK;
}

static pb_status_t
handle_program_set(call_t* c)
{
  const uint32_t index = arg(c, 0)->v.u;
  const pb_status_t status = check_program(c, index);
  if (status)
    return status;

  pb_vst2_program_set(plugin(c), index);
  return PB_OK;
}

static pb_status_t
handle_program_name(call_t* c)
{
  const uint32_t index = arg(c, 0)->v.u;
  char name[PB_VST_STR_BUF];
  const pb_status_t status = check_program(c, index);
  if (status)
    return status;

  pb_vst2_program_name_by_switching(plugin(c), index, name);
  pb_wr_s(c->reply, name);
  return PB_OK;
}

static pb_status_t
handle_program_rename(call_t* c)
{
  pb_vst2_program_rename(plugin(c), arg(c, 0)->v.s.ptr);
  return PB_OK;
}

/* ---------------------------------------------------------------- state */

static pb_status_t
handle_chunk_get(call_t* c)
{
  const void* data = NULL;
  size_t size = 0;
  const pb_status_t status = pb_vst2_chunk_get(
    plugin(c), arg(c, 0)->v.b, &data, &size, c->err, c->err_size);
  if (status)
    return status;

  pb_wr_x(c->reply, data, size);
  return PB_OK;
}

static pb_status_t
handle_chunk_set(call_t* c)
{
  const pb_val_t* data = arg(c, 1);
  int32_t result = 0;
  const pb_status_t status = pb_vst2_chunk_set(plugin(c),
                                               arg(c, 0)->v.b,
                                               data->v.x.ptr,
                                               data->v.x.len,
                                               &result,
                                               c->err,
                                               c->err_size);
  if (status)
    return status;

  pb_wr_i(c->reply, result);
  return PB_OK;
}

/* ------------------------------------------------------------- settings */

static pb_status_t
settled(call_t* c, pb_status_t status, const char* what)
{
  if (!status)
    return PB_OK;
  return fail(
    c, status, "plugin is active: switch it off before changing the %s", what);
}

static pb_status_t
handle_set_sample_rate(call_t* c)
{
  const double hz = arg(c, 0)->v.f;
  pb_status_t status = check_rate(c, hz);
  if (status)
    return status;

  status = pb_vst2_set_sample_rate(plugin(c), (float)hz);
  if (!status)
    pb_host_cb_set_sample_rate((float)hz);
  return settled(c, status, "sample rate");
}

static pb_status_t
handle_set_block_size(call_t* c)
{
  const uint32_t n_frames = arg(c, 0)->v.u;
  pb_status_t status = check_block(c, n_frames);
  if (status)
    return status;

  status = pb_vst2_set_block_size(plugin(c), (int32_t)n_frames);
  if (!status)
    pb_host_cb_set_block_size((int32_t)n_frames);
  return settled(c, status, "block size");
}

static pb_status_t
handle_set_active(call_t* c)
{
  pb_vst2_set_active(plugin(c), arg(c, 0)->v.b);
  pb_host_cb_report_latency();
  return PB_OK;
}

static pb_status_t
handle_set_processing(call_t* c)
{
  if (!pb_vst2_set_processing(plugin(c), arg(c, 0)->v.b)) {
    pb_host_cb_report_latency();
    return PB_OK;
  }
  return fail(
    c, PB_ERR_INVALID, "plugin is not active: switch it on before processing");
}

static pb_status_t
handle_set_bypass(call_t* c)
{
  pb_wr_b(c->reply, pb_vst2_set_bypass(plugin(c), arg(c, 0)->v.b));
  return PB_OK;
}

static pb_status_t
handle_tail_size(call_t* c)
{
  pb_wr_i(c->reply, pb_vst2_tail_size(plugin(c)));
  return PB_OK;
}

static pb_status_t
handle_can_do(call_t* c)
{
  const pb_status_t status = check_text(c, arg(c, 0));
  if (status)
    return status;

  pb_wr_i(c->reply, pb_vst2_can_do(plugin(c), arg(c, 0)->v.s.ptr));
  return PB_OK;
}

/* ------------------------------------------------------------- dispatch */

typedef struct handler
{
  handler_fn fn;
  int needs_plugin;
} handler_t;

static const handler_t handlers[] = {
  [PB_MSG_OPEN] = { handle_open, 0 },
  [PB_MSG_CLOSE] = { handle_close, 0 },
  [PB_MSG_INFO] = { handle_info, 1 },
  [PB_MSG_PARAM_GET] = { handle_param_get, 1 },
  [PB_MSG_PARAM_SET] = { handle_param_set, 1 },
  [PB_MSG_PARAM_FROM_STRING] = { handle_param_from_string, 1 },
  [PB_MSG_PROGRAM_GET] = { handle_program_get, 1 },
  [PB_MSG_PROGRAM_SET] = { handle_program_set, 1 },
  [PB_MSG_PROGRAM_NAME] = { handle_program_name, 1 },
  [PB_MSG_PROGRAM_RENAME] = { handle_program_rename, 1 },
  [PB_MSG_CHUNK_GET] = { handle_chunk_get, 1 },
  [PB_MSG_CHUNK_SET] = { handle_chunk_set, 1 },
  [PB_MSG_SET_SAMPLE_RATE] = { handle_set_sample_rate, 1 },
  [PB_MSG_SET_BLOCK_SIZE] = { handle_set_block_size, 1 },
  [PB_MSG_SET_ACTIVE] = { handle_set_active, 1 },
  [PB_MSG_SET_PROCESSING] = { handle_set_processing, 1 },
  [PB_MSG_SET_BYPASS] = { handle_set_bypass, 1 },
  [PB_MSG_TAIL_SIZE] = { handle_tail_size, 1 },
  [PB_MSG_CAN_DO] = { handle_can_do, 1 },
  [PB_MSG_PING] = { handle_ping, 0 },
  [PB_MSG_SANDBOX] = { handle_sandbox, 0 },
};

static const handler_t*
find_handler(uint32_t kind)
{
  if (kind >= sizeof handlers / sizeof handlers[0] || !handlers[kind].fn)
    return NULL;
  return &handlers[kind];
}

void
pb_session_init(pb_session_t* session)
{
  memset(session, 0, sizeof *session);
}

int
pb_session_handles(uint32_t kind)
{
  return find_handler(kind) != NULL;
}

pb_status_t
pb_session_handle(pb_session_t* session,
                  const pb_msg_t* request,
                  pb_wr_t* reply,
                  char* err,
                  size_t err_size)
{
  call_t c = { session, request, reply, err, err_size };
  const handler_t* handler = find_handler(request->kind);

  if (!handler)
    return fail(&c, PB_ERR_PROTOCOL, "not a request");
  if (handler->needs_plugin && !session->is_open)
    return fail(&c, PB_ERR_INVALID, "no plugin open");
  /* A crash note names the request the plugin died in. */
  pb_crash_set_call(pb_msg_kind_name(request->kind));
  const pb_status_t status = handler->fn(&c);
  pb_crash_set_call(NULL);
  return status;
}
