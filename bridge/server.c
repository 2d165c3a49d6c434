/* uv.h needs the POSIX types (pthread_rwlock_t, ...) under strict C11. */
#define _POSIX_C_SOURCE 200809L

#include "bridge/server.h"

#include "bridge/events.h"
#include "bridge/host_cb.h"
#include "bridge/session.h"
#include "host/plugbox.h"
#include "proto/frame.h"
#include "proto/message.h"

#include <uv.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK_BYTES (64u * 1024u)
#define ERROR_TEXT_BYTES 1024u

typedef struct pb_server
{
  uv_loop_t loop;
  uv_pipe_t pipe;  /* the control fd */
  uv_async_t wake; /* events pushed from the plugin's threads */
  pb_frames_t frames;
  pb_wr_t reply; /* replies and errors */
  pb_wr_t event; /* the hello and events */
  pb_events_t events;
  pb_session_t session;
  char read_buf[READ_CHUNK_BYTES];
} pb_server_t;

/* A frame on its way out; uv_write needs its bytes until the callback. */
typedef struct out_frame
{
  uv_write_t req;
  int exit_after; /* the CLOSE reply: exit once it is written */
  uint8_t data[];
} out_frame_t;

static void warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

static void
warn(const char* fmt, ...)
{
  va_list args;

  va_start(args, fmt);
  fputs("plugbox-bridge: ", stderr);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
}

/* Exits without returning into the plugin: no atexit handlers, no static
 * destructors, no unloading, all of which run plugin code. */
static _Noreturn void
leave(int status)
{
  _exit(status);
}

/* -------------------------------------------------------------- writing */

static void
on_written(uv_write_t* req, int status)
{
  out_frame_t* frame = (out_frame_t*)req;
  const int exit_after = frame->exit_after;

  free(frame);
  if (status < 0) {
    warn("writing to the host failed: %s", uv_strerror(status));
    leave(PB_SERVER_EXIT_OK);
  }
  if (exit_after) {
    (void)fflush(stdout);
    leave(PB_SERVER_EXIT_OK);
  }
}

/* Frames are copied and queued on the pipe in call order, so they reach
 * the host in that order. */
static void
send_frame(pb_server_t* s, const pb_wr_t* w, int exit_after)
{
  const size_t size = pb_wr_size(w);
  out_frame_t* frame = malloc(sizeof *frame + size);
  if (!frame) {
    warn("no memory for a %zu-byte frame", size);
    leave(PB_SERVER_EXIT_NOMEM);
  }

  memcpy(frame->data, pb_wr_data(w), size);
  frame->exit_after = exit_after;
  const uv_buf_t buf = uv_buf_init((char*)frame->data, (unsigned)size);
  const int err =
    uv_write(&frame->req, (uv_stream_t*)&s->pipe, &buf, 1, on_written);
  if (err) {
    warn("writing to the host failed: %s", uv_strerror(err));
    leave(PB_SERVER_EXIT_OK);
  }
}

static void
write_event(pb_wr_t* w, const pb_event_t* ev)
{
  pb_wr_begin(w, ev->kind, 0);
  switch (ev->kind) {
    case PB_MSG_EV_AUTOMATE:
      pb_wr_u(w, ev->index);
      pb_wr_f(w, ev->value);
      break;
    case PB_MSG_EV_BEGIN_EDIT:
    case PB_MSG_EV_END_EDIT:
      pb_wr_u(w, ev->index);
      break;
    case PB_MSG_EV_IO_CHANGED:
      pb_wr_i(w, ev->n_inputs);
      pb_wr_i(w, ev->n_outputs);
      pb_wr_i(w, ev->delay);
      break;
    default:
      pb_wr_i(w, ev->delay); /* PB_MSG_EV_LATENCY */
      break;
  }
}

static void
flush_events(pb_server_t* s)
{
  pb_event_t ev;
  uint32_t n_dropped = 0;

  while (pb_events_pop(&s->events, &ev, &n_dropped)) {
    write_event(&s->event, &ev);
    if (pb_wr_end(&s->event) == 0)
      send_frame(s, &s->event, 0);
  }
  if (n_dropped)
    warn("dropped %u plugin events: queue full", n_dropped);
}

static void
send_hello(pb_server_t* s)
{
  pb_wr_begin(&s->event, PB_MSG_HELLO, 0);
  pb_wr_u(&s->event, PB_PROTO_VERSION);
  pb_wr_s(&s->event, PB_SERVER_ARCH);
  pb_wr_u(&s->event, (uint32_t)getpid());
  if (pb_wr_end(&s->event)) {
    warn("cannot encode the hello");
    leave(PB_SERVER_EXIT_NOMEM);
  }
  send_frame(s, &s->event, 0);
}

/* -------------------------------------------------------------- replies */

/* Events the plugin raised while the request was handled go out before
 * the reply, so the host has them by the time it sees the reply. */
static void
send_error(pb_server_t* s,
           const pb_msg_t* m,
           pb_status_t status,
           const char* text)
{
  flush_events(s);
  if (pb_wr_error(&s->reply, m->id, (int32_t)status, text)) {
    warn("cannot encode an error reply");
    leave(PB_SERVER_EXIT_NOMEM);
  }
  send_frame(s, &s->reply, s->session.is_closed);
}

static pb_status_t
status_of_errno(int err)
{
  switch (err) {
    case -EMSGSIZE:
      return PB_ERR_TOO_BIG;
    case -ENOMEM:
      return PB_ERR_NOMEM;
    default:
      return PB_ERR_PROTOCOL;
  }
}

static void
send_reply(pb_server_t* s, const pb_msg_t* m)
{
  char text[ERROR_TEXT_BYTES];
  const int err = pb_wr_end(&s->reply);

  if (err) {
    snprintf(text,
             sizeof text,
             "%s reply not sent: %s",
             pb_msg_kind_name(m->kind),
             strerror(-err));
    send_error(s, m, status_of_errno(err), text);
    return;
  }
  flush_events(s);
  send_frame(s, &s->reply, s->session.is_closed);
}

/* A well-formed frame that is no request (a reply, hello or event from the
 * host).  Only one with an id can be answered. */
static void
refuse(pb_server_t* s, const pb_msg_t* m)
{
  char text[ERROR_TEXT_BYTES];

  snprintf(text,
           sizeof text,
           "unexpected %s message from the host",
           pb_msg_kind_name(m->kind));
  if (!m->id) {
    warn("%s", text);
    leave(PB_SERVER_EXIT_PROTOCOL);
  }
  send_error(s, m, PB_ERR_PROTOCOL, text);
}

static void
dispatch(pb_server_t* s, const pb_msg_t* m)
{
  char text[ERROR_TEXT_BYTES];

  if (!m->id || !pb_session_handles(m->kind)) {
    refuse(s, m);
    return;
  }
  pb_wr_begin(&s->reply, m->kind | PB_MSG_REPLY, m->id);
  const pb_status_t status =
    pb_session_handle(&s->session, m, &s->reply, text, sizeof text);
  if (s->session.is_closed)
    (void)uv_read_stop((uv_stream_t*)&s->pipe);
  if (status)
    send_error(s, m, status, text);
  else
    send_reply(s, m);
}

/* -------------------------------------------------------------- reading */

static void
handle_frame(pb_server_t* s, const uint8_t* body, size_t size)
{
  pb_msg_t msg;
  const int err = pb_msg_decode(body, size, &msg);

  if (err) {
    pb_msg_fini(&msg);
    warn("malformed frame from the host (%zu bytes): %s", size, strerror(-err));
    leave(err == -ENOMEM ? PB_SERVER_EXIT_NOMEM : PB_SERVER_EXIT_PROTOCOL);
  }
  dispatch(s, &msg);
  pb_msg_fini(&msg);
}

static void
handle_frames(pb_server_t* s)
{
  const uint8_t* body = NULL;
  size_t size = 0;

  while (!s->session.is_closed) {
    const int got = pb_frames_next(&s->frames, &body, &size);
    if (got == 0)
      return;
    if (got < 0) {
      warn("frame over the size limit from the host");
      leave(PB_SERVER_EXIT_PROTOCOL);
    }
    handle_frame(s, body, size);
  }
}

static void
on_alloc(uv_handle_t* handle, size_t suggested_size, uv_buf_t* buf)
{
  pb_server_t* s = handle->data;

  (void)suggested_size;
  *buf = uv_buf_init(s->read_buf, sizeof s->read_buf);
}

/* The host has gone (EOF) or the pipe broke: nobody is left to answer, and
 * the plugin is not called again. */
static void
on_read(uv_stream_t* stream, ssize_t n_read, const uv_buf_t* buf)
{
  pb_server_t* s = stream->data;

  if (n_read == UV_EOF)
    leave(PB_SERVER_EXIT_OK);
  if (n_read < 0) {
    warn("reading from the host failed: %s", uv_strerror((int)n_read));
    leave(PB_SERVER_EXIT_OK);
  }
  if (n_read == 0)
    return; /* EAGAIN: nothing read */
  if (pb_frames_feed(&s->frames, buf->base, (size_t)n_read)) {
    warn("no memory for %zd bytes from the host", n_read);
    leave(PB_SERVER_EXIT_NOMEM);
  }
  handle_frames(s);
}

/* ---------------------------------------------------------------- setup */

static void
on_wake(uv_async_t* async)
{
  pb_server_t* s = async->data;

  if (!s->session.is_closed)
    flush_events(s);
}

/* [any-thread] */
static void
notify(void* data)
{
  pb_server_t* s = data;

  (void)uv_async_send(&s->wake);
}

static int
setup_loop(pb_server_t* s, int control_fd)
{
  int err = uv_loop_init(&s->loop);
  if (!err)
    err = uv_pipe_init(&s->loop, &s->pipe, 0);
  if (!err)
    err = uv_pipe_open(&s->pipe, control_fd);
  if (!err)
    err = uv_async_init(&s->loop, &s->wake, on_wake);
  if (err)
    warn("cannot serve fd %d: %s", control_fd, uv_strerror(err));

  s->pipe.data = s;
  s->wake.data = s;
  return err;
}

static int
setup(pb_server_t* s, int control_fd)
{
  const int err = pb_events_init(&s->events, notify, s);
  if (err) {
    warn("cannot create the event queue: %s", strerror(-err));
    return err;
  }
  pb_frames_init(&s->frames, PB_PROTO_MAX_FRAME);
  pb_wr_init(&s->reply);
  pb_wr_init(&s->event);
  pb_session_init(&s->session);
  pb_host_cb_init(&s->events);
  return setup_loop(s, control_fd);
}

int
pb_server_run(int control_fd)
{
  pb_server_t* s = calloc(1, sizeof *s);
  if (!s) {
    warn("no memory to start");
    return PB_SERVER_EXIT_NOMEM;
  }
  if (setup(s, control_fd))
    return PB_SERVER_EXIT_SETUP;

  send_hello(s);
  const int err = uv_read_start((uv_stream_t*)&s->pipe, on_alloc, on_read);
  if (err) {
    warn("cannot read fd %d: %s", control_fd, uv_strerror(err));
    return PB_SERVER_EXIT_SETUP;
  }
  (void)uv_run(&s->loop, UV_RUN_DEFAULT);
  warn("control loop ended unexpectedly");
  return PB_SERVER_EXIT_SETUP;
}
