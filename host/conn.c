/* One bridge connection.
 *
 * The caller thread writes requests straight to the control socket and
 * waits on `cond`; the I/O thread reads the socket, reassembles and decodes
 * frames and hands the awaited reply over, keeps events and the plugin's
 * output, and reaps the child as soon as its pidfd turns readable.  Kills
 * go through the pidfd, or by pid only before that reap (which happens
 * under the mutex), so a kill never hits a recycled pid. */
#define _POSIX_C_SOURCE 200809L

#include "conn.h"

#include "common/clock.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum
{
  CTL_READ_BYTES = 64 * 1024,
  LOG_READ_BYTES = 4096,
  EXIT_POLL_MS = 10,     /* waitpid polling without a pidfd */
  DEATH_GRACE_MS = 1000, /* a hung-up bridge gets this long to exit */
  EOF_GRACE_MS = 200,    /* unread replies / output after the exit */
};

/* ------------------------------------------------------------ helpers */

static void
wait_until(pb_conn_t* c, uint64_t deadline_ms)
{
  const struct timespec ts = { (time_t)(deadline_ms / 1000u),
                               (long)(deadline_ms % 1000u) * 1000000L };
  (void)pthread_cond_timedwait(&c->cond, &c->mutex, &ts);
}

static void
kill_locked(pb_conn_t* c)
{
  if (!c->exited && c->pid > 0)
    pb_launch_kill(&c->child);
}

/* Collect the child if it has ended; mutex held. */
static void
reap_locked(pb_conn_t* c, int options)
{
  if (c->exited || c->pid <= 0)
    return;
  int status = 0;
  pid_t r;
  do
    r = waitpid(c->pid, &status, options);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return;
  /* ECHILD: the host application reaped it behind our back (SIGCHLD set
   * to SIG_IGN, or a waitpid(-1)); it is gone, the status is lost. */
  c->exited = 1;
  c->pid = 0;
  pb_shm_mark_dead(c->shm);
  c->status_known = r > 0;
  c->wait_status = status;
  pthread_cond_broadcast(&c->cond);
}

void
pb_conn_release(pb_msg_t* msg, uint8_t* body)
{
  if (msg) {
    pb_msg_fini(msg);
    free(msg);
  }
  free(body);
}

/* The stream cannot be trusted any more: stop reading it and kill the
 * bridge.  Mutex held.  Returns -1 so callers can `return broken(...)`. */
static int mark_broken(pb_conn_t* c, const char* fmt, ...)
  __attribute__((format(printf, 2, 3)));

static int
mark_broken(pb_conn_t* c, const char* fmt, ...)
{
  if (!c->broken) {
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(c->broken_why, sizeof(c->broken_why), fmt, ap);
    va_end(ap);
    c->broken = 1;
  }
  kill_locked(c);
  if (c->ctl_open)
    (void)uv_read_stop((uv_stream_t*)&c->ctl_pipe);
  pthread_cond_broadcast(&c->cond);
  return -1;
}

/* ------------------------------------------------ messages (I/O thread) */

static uint32_t
arg_u(const pb_msg_t* m, uint32_t i)
{
  return i < m->n_args && m->args[i].type == PB_VAL_U ? m->args[i].v.u : 0;
}

static int32_t
arg_i(const pb_msg_t* m, uint32_t i)
{
  return i < m->n_args && m->args[i].type == PB_VAL_I ? m->args[i].v.i : 0;
}

static float
arg_f(const pb_msg_t* m, uint32_t i)
{
  return i < m->n_args && m->args[i].type == PB_VAL_F ? (float)m->args[i].v.f
                                                      : 0.0f;
}

static void
store_event(pb_conn_t* c, const pb_msg_t* m)
{
  pb_event_t ev = { m->kind, 0, 0.0f, 0, 0, 0 };
  if (m->kind == PB_MSG_EV_IO_CHANGED) {
    ev.a = arg_i(m, 0);
    ev.b = arg_i(m, 1);
    ev.c = arg_i(m, 2);
    c->latency = ev.c;
    c->latency_known = 1;
  } else if (m->kind == PB_MSG_EV_LATENCY) {
    ev.a = arg_i(m, 0);
    c->latency = ev.a;
    c->latency_known = 1;
  } else {
    ev.index = arg_u(m, 0);
    ev.value = arg_f(m, 1);
  }
  atomic_fetch_add(&c->ev_total, 1u);
  if (c->on_event) {
    /* The caller's code may read the latency (and take the mutex); the
     * reply it waits for comes after this frame, so nothing else moves. */
    pthread_mutex_unlock(&c->mutex);
    c->on_event(c->on_event_data, &ev);
    pthread_mutex_lock(&c->mutex);
    return;
  }
  if (c->ev_len == PB_CONN_MAX_EVENTS) { /* keep the newest */
    c->ev_head = (c->ev_head + 1u) % PB_CONN_MAX_EVENTS;
    --c->ev_len;
    ++c->ev_dropped;
  }
  c->events[(c->ev_head + c->ev_len) % PB_CONN_MAX_EVENTS] = ev;
  ++c->ev_len;
}

/* Hand `msg` to the waiting caller, or drop it if nobody waits for it (a
 * reply to a request that timed out).  Takes ownership; mutex held. */
static int
deliver(pb_conn_t* c, pb_msg_t* msg, uint8_t* body)
{
  const int is_hello = msg->kind == PB_MSG_HELLO;
  if (is_hello && (msg->id != 0 || c->hello_seen)) {
    pb_conn_release(msg, body);
    return mark_broken(c, "unexpected second hello");
  }
  c->hello_seen |= is_hello;
  if (msg->id != c->wait_id) {
    pb_conn_release(msg, body);
    return 0;
  }
  if (c->reply) {
    pb_conn_release(msg, body);
    return mark_broken(c, "two replies to request %u", (unsigned)c->wait_id);
  }
  c->reply = msg;
  c->reply_body = body;
  pthread_cond_broadcast(&c->cond);
  return 0;
}

static int
route(pb_conn_t* c, pb_msg_t* msg, uint8_t* body)
{
  const uint32_t kind = msg->kind;
  if (kind >= PB_MSG_EV_AUTOMATE && kind <= PB_MSG_EV_LATENCY) {
    store_event(c, msg);
    pb_conn_release(msg, body);
    return 0;
  }
  if (kind == PB_MSG_HELLO || kind == PB_MSG_ERROR || (kind & PB_MSG_REPLY))
    return deliver(c, msg, body);
  pb_conn_release(msg, body);
  return mark_broken(
    c, "unexpected %s from the bridge", pb_msg_kind_name(kind));
}

/* Decode one frame body.  The message may outlive the frame buffer (its
 * binaries point into the body), so it gets a copy. */
static int
dispatch(pb_conn_t* c, const uint8_t* body, size_t len)
{
  pb_msg_t* msg = (pb_msg_t*)calloc(1, sizeof(*msg));
  uint8_t* copy = (uint8_t*)malloc(len ? len : 1u);
  if (!msg || !copy) {
    free(msg);
    free(copy);
    return mark_broken(c, "out of memory reading a reply");
  }
  memcpy(copy, body, len);
  const int err = pb_msg_decode(copy, len, msg);
  if (err < 0) {
    pb_conn_release(msg, copy);
    return mark_broken(c, "undecodable message (%s)", strerror(-err));
  }
  return route(c, msg, copy);
}

static void
feed_locked(pb_conn_t* c, const uint8_t* data, size_t n)
{
  if (pb_frames_feed(&c->frames, data, n) < 0) {
    (void)mark_broken(c, "out of memory reading from the bridge");
    return;
  }
  for (;;) {
    const uint8_t* body = NULL;
    size_t len = 0;
    const int r = pb_frames_next(&c->frames, &body, &len);
    if (r == 0)
      return;
    if (r < 0) {
      (void)mark_broken(c, "frame over the size limit");
      return;
    }
    if (dispatch(c, body, len) < 0)
      return;
  }
}

/* ------------------------------------------------- libuv callbacks */

static void
alloc_ctl(uv_handle_t* handle, size_t suggested, uv_buf_t* buf)
{
  (void)suggested;
  const pb_conn_t* c = (const pb_conn_t*)handle->data;
  *buf = uv_buf_init((char*)c->ctl_buf, CTL_READ_BYTES);
}

static void
alloc_log(uv_handle_t* handle, size_t suggested, uv_buf_t* buf)
{
  (void)suggested;
  const pb_conn_t* c = (const pb_conn_t*)handle->data;
  *buf = uv_buf_init(c->log_buf, LOG_READ_BYTES);
}

static void
on_ctl_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf)
{
  pb_conn_t* c = (pb_conn_t*)stream->data;
  pthread_mutex_lock(&c->mutex);
  if (n > 0 && !c->broken) {
    feed_locked(c, (const uint8_t*)buf->base, (size_t)n);
  } else if (n < 0) {
    (void)uv_read_stop(stream);
    c->ctl_eof = 1;
    /* An audio call waiting on the block learns of the death at once. */
    pb_shm_mark_dead(c->shm);
    pthread_cond_broadcast(&c->cond);
  }
  pthread_mutex_unlock(&c->mutex);
}

/* Append to the ring, keeping the newest ring_cap bytes; mutex held. */
static void
ring_append(pb_conn_t* c, const char* data, size_t n)
{
  const size_t cap = c->ring_cap;
  if (cap == 0)
    return;
  if (n >= cap) {
    memcpy(c->ring, data + (n - cap), cap);
    c->ring_start = 0;
    c->ring_len = cap;
    return;
  }
  const size_t end = (c->ring_start + c->ring_len) % cap;
  const size_t first = n < cap - end ? n : cap - end;
  memcpy(c->ring + end, data, first);
  memcpy(c->ring, data + first, n - first);
  c->ring_len += n;
  if (c->ring_len > cap) {
    c->ring_start = (c->ring_start + (c->ring_len - cap)) % cap;
    c->ring_len = cap;
  }
}

static void
on_log_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf)
{
  pb_conn_t* c = (pb_conn_t*)stream->data;
  pthread_mutex_lock(&c->mutex);
  if (n > 0) {
    ring_append(c, buf->base, (size_t)n);
  } else if (n < 0) {
    (void)uv_read_stop(stream);
    c->log_eof = 1;
    pthread_cond_broadcast(&c->cond);
  }
  pthread_mutex_unlock(&c->mutex);
}

static void
on_exit_timer(uv_timer_t* timer)
{
  pb_conn_t* c = (pb_conn_t*)timer->data;
  pthread_mutex_lock(&c->mutex);
  reap_locked(c, WNOHANG);
  const int done = c->exited;
  pthread_mutex_unlock(&c->mutex);
  if (done)
    (void)uv_timer_stop(timer);
}

static int
watch_exit_by_timer(pb_conn_t* c)
{
  int err = uv_timer_init(pb_host_loop(c->host), &c->exit_timer);
  if (err)
    return err;
  c->exit_timer.data = c;
  c->timer_open = 1;
  ++c->n_handles;
  return uv_timer_start(
    &c->exit_timer, on_exit_timer, EXIT_POLL_MS, EXIT_POLL_MS);
}

static void
on_exit_poll(uv_poll_t* poll_handle, int status, int events)
{
  (void)events;
  pb_conn_t* c = (pb_conn_t*)poll_handle->data;
  pthread_mutex_lock(&c->mutex);
  reap_locked(c, WNOHANG);
  const int done = c->exited;
  pthread_mutex_unlock(&c->mutex);
  if (done || status < 0)
    (void)uv_poll_stop(poll_handle);
  /* A failing pidfd should not happen; keep reaping by polling then. */
  if (!done && status < 0 && !c->timer_open)
    (void)watch_exit_by_timer(c);
}

static void
on_handle_closed(uv_handle_t* handle)
{
  pb_conn_t* c = (pb_conn_t*)handle->data;
  pthread_mutex_lock(&c->mutex);
  --c->n_handles;
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->mutex);
}

/* ------------------------------------------ attach / detach (I/O thread) */

/* On success libuv owns `*fd` (uv_close closes it): it is set to -1 here
 * and kept in `*owned` for writing. */
static int
watch_stream(pb_conn_t* c,
             uv_pipe_t* pipe,
             int* open,
             int* fd,
             uv_alloc_cb alloc_cb,
             uv_read_cb read_cb)
{
  int err = uv_pipe_init(pb_host_loop(c->host), pipe, 0);
  if (err)
    return err;
  pipe->data = c;
  *open = 1;
  ++c->n_handles;
  err = uv_pipe_open(pipe, *fd);
  if (err)
    return err;
  *fd = -1;
  return uv_read_start((uv_stream_t*)pipe, alloc_cb, read_cb);
}

/* A bridge stuck in a process call (a plugin in an endless loop, or
 * stopped) does not die by itself and no control call may come for a
 * while: a timer on the I/O thread kills it once a block has been
 * outstanding, unanswered, for audio_hang_ms.
 * The host's process call has returned PB_ERR_TIMEOUT long before.
 *
 * "Outstanding" is the host's own account (audio_in_flight and
 * audio_sent_seq, which the process caller publishes), not the shared
 * request word: the plugin runs in the bridge and can overwrite the block,
 * to make a hung bridge look idle (request_seq = done_seq) or an idle one
 * look hung.  What it can still do is answer the host's number itself;
 * then the host sees an answer too, and the next block is watched. */
static int
block_pending(const pb_conn_t* c, uint32_t done)
{
  return atomic_load(&c->audio_in_flight) &&
         done != atomic_load(&c->audio_sent_seq);
}

static void
on_hang_timer(uv_timer_t* timer)
{
  pb_conn_t* c = (pb_conn_t*)timer->data;
  pthread_mutex_lock(&c->mutex);
  if (c->exited || !c->shm || !c->shm->block) {
    pthread_mutex_unlock(&c->mutex);
    (void)uv_timer_stop(timer);
    return;
  }
  const struct pb_shm_header* h = &c->shm->block->header;
  const uint32_t done = __atomic_load_n(&h->done_seq, __ATOMIC_ACQUIRE);
  const uint64_t now = pb_clock_now_ms();
  if (!block_pending(c, done)) {
    c->hang_since_ms = 0;
  } else if (!c->hang_since_ms ||
             c->hang_seq != atomic_load(&c->audio_sent_seq)) {
    /* A new block: the last one was answered.  The done word's moves
     * count for nothing: a hung plugin's other threads could keep it
     * moving. */
    c->hang_seq = atomic_load(&c->audio_sent_seq);
    c->hang_since_ms = now;
  } else if (now - c->hang_since_ms >= c->audio_hang_ms && !c->hung) {
    c->hung = 1;
    kill_locked(c);
    pthread_cond_broadcast(&c->cond);
  }
  pthread_mutex_unlock(&c->mutex);
}

static int
watch_hang(pb_conn_t* c)
{
  if (!c->audio_hang_ms || !c->shm || !c->shm->block)
    return 0;
  int err = uv_timer_init(pb_host_loop(c->host), &c->hang_timer);
  if (err)
    return err;
  c->hang_timer.data = c;
  c->hang_open = 1;
  ++c->n_handles;
  uint64_t tick = c->audio_hang_ms / 4u;
  tick = tick < 5u ? 5u : tick > 250u ? 250u : tick;
  return uv_timer_start(&c->hang_timer, on_hang_timer, tick, tick);
}

static int
watch_exit(pb_conn_t* c)
{
  if (c->child.pidfd < 0 ||
      uv_poll_init(pb_host_loop(c->host), &c->exit_poll, c->child.pidfd))
    return watch_exit_by_timer(c);
  c->exit_poll.data = c;
  c->poll_open = 1;
  ++c->n_handles;
  return uv_poll_start(&c->exit_poll, UV_READABLE, on_exit_poll);
}

typedef struct
{
  pb_conn_t* conn;
  const char* bridge;
  pb_shm_t* shm;
  int err;
} start_job_t;

static void
start_on_loop(pb_host_t* host, void* arg)
{
  (void)host;
  start_job_t* job = (start_job_t*)arg;
  pb_conn_t* c = job->conn;
  pthread_mutex_lock(&c->mutex);
  c->shm = job->shm;
  job->err =
    pb_launch_start(job->bridge, job->shm ? job->shm->fd : -1, &c->child);
  c->pid = job->err ? 0 : c->child.pid;
  c->ctl_fd = c->child.ctl_fd;
  if (!job->err)
    job->err = watch_stream(
      c, &c->ctl_pipe, &c->ctl_open, &c->child.ctl_fd, alloc_ctl, on_ctl_read);
  if (!job->err)
    job->err = watch_stream(
      c, &c->log_pipe, &c->log_open, &c->child.log_fd, alloc_log, on_log_read);
  if (!job->err)
    job->err = watch_exit(c);
  if (!job->err)
    job->err = watch_hang(c);
  pthread_mutex_unlock(&c->mutex);
}

static void
stop_on_loop(pb_host_t* host, void* arg)
{
  (void)host;
  pb_conn_t* c = (pb_conn_t*)arg;
  uv_handle_t* handles[] = { (uv_handle_t*)&c->ctl_pipe,
                             (uv_handle_t*)&c->log_pipe,
                             (uv_handle_t*)&c->exit_poll,
                             (uv_handle_t*)&c->exit_timer,
                             (uv_handle_t*)&c->hang_timer };
  int* open[] = {
    &c->ctl_open, &c->log_open, &c->poll_open, &c->timer_open, &c->hang_open
  };
  for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); ++i) {
    if (*open[i])
      uv_close(handles[i], on_handle_closed);
    *open[i] = 0;
  }
}

/* ------------------------------------------------------------- public */

static int
init_cond(pthread_cond_t* cond)
{
  pthread_condattr_t attr;
  int err = pthread_condattr_init(&attr);
  if (err)
    return -err;
  err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (!err)
    err = pthread_cond_init(cond, &attr);
  (void)pthread_condattr_destroy(&attr);
  return -err;
}

int
pb_conn_init(pb_conn_t* c, pb_host_t* host, size_t log_cap)
{
  memset(c, 0, sizeof(*c));
  c->host = host;
  c->child.ctl_fd = c->child.log_fd = c->child.pidfd = -1;
  c->ctl_fd = -1;
  c->ring_cap = log_cap;
  c->ctl_buf = (uint8_t*)malloc(CTL_READ_BYTES);
  c->log_buf = (char*)malloc(LOG_READ_BYTES);
  c->ring = (char*)malloc(log_cap ? log_cap : 1u);
  int err = -ENOMEM;
  if (!c->ctl_buf || !c->log_buf || !c->ring)
    goto fail;
  err = -pthread_mutex_init(&c->mutex, NULL);
  if (err)
    goto fail;
  err = init_cond(&c->cond);
  if (err)
    goto fail_mutex;
  pb_frames_init(&c->frames, PB_PROTO_MAX_FRAME);
  return 0;

fail_mutex:
  pthread_mutex_destroy(&c->mutex);
fail:
  free(c->ring);
  free(c->log_buf);
  free(c->ctl_buf);
  return err;
}

void
pb_conn_fini(pb_conn_t* c)
{
  pb_conn_release(c->reply, c->reply_body);
  pb_frames_fini(&c->frames);
  pthread_cond_destroy(&c->cond);
  pthread_mutex_destroy(&c->mutex);
  free(c->ring);
  free(c->log_buf);
  free(c->ctl_buf);
}

int
pb_conn_start(pb_conn_t* c, const char* bridge, pb_shm_t* shm)
{
  start_job_t job = { c, bridge, shm, 0 };
  pb_host_run(c->host, start_on_loop, &job);
  if (job.err)
    pb_conn_stop(c);
  return job.err;
}

void
pb_conn_expect(pb_conn_t* c, uint32_t id)
{
  pthread_mutex_lock(&c->mutex);
  pb_conn_release(c->reply, c->reply_body);
  c->reply = NULL;
  c->reply_body = NULL;
  c->wait_id = id;
  pthread_mutex_unlock(&c->mutex);
}

static int
wait_writable(int fd, uint64_t deadline_ms)
{
  const uint64_t now = pb_clock_now_ms();
  if (now >= deadline_ms)
    return -ETIMEDOUT;
  const uint64_t left = deadline_ms - now;
  struct pollfd p = { fd, POLLOUT, 0 };
  if (poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left) < 0 && errno != EINTR)
    return -errno;
  return 0;
}

int
pb_conn_send(pb_conn_t* c,
             const uint8_t* data,
             size_t len,
             uint64_t deadline_ms)
{
  size_t off = 0;
  while (off < len) {
    /* MSG_NOSIGNAL: a dead bridge must be an error, not SIGPIPE. */
    const ssize_t n = send(c->ctl_fd, data + off, len - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
      return n == 0 ? -EPIPE : -errno;
    const int err = wait_writable(c->ctl_fd, deadline_ms);
    if (err)
      return err;
  }
  return 0;
}

/* Wait, bounded, for a bridge that hung up or ended to be reaped (killing
 * it if it lingers) and for the rest of its output.  Mutex held. */
static void
settle_locked(pb_conn_t* c)
{
  uint64_t until = pb_clock_now_ms() + DEATH_GRACE_MS;
  while (!c->exited && pb_clock_now_ms() < until)
    wait_until(c, until);
  if (!c->exited) {
    kill_locked(c);
    until = pb_clock_now_ms() + DEATH_GRACE_MS;
    while (!c->exited && pb_clock_now_ms() < until)
      wait_until(c, until);
  }
  until = pb_clock_now_ms() + EOF_GRACE_MS;
  while (!c->log_eof && pb_clock_now_ms() < until)
    wait_until(c, until);
}

/* One check of the wait loop; returns 1 and sets `*rc` when done. */
static int
wait_step(pb_conn_t* c, uint64_t deadline_ms, uint64_t* grace_ms, int* rc)
{
  if (c->reply) {
    *rc = 0;
    return 1;
  }
  if (c->broken) {
    *rc = -EBADMSG;
    return 1;
  }
  const uint64_t now = pb_clock_now_ms();
  /* After the exit, replies still in the socket are read before its EOF;
   * a grandchild holding the socket may delay that EOF, so bound it. */
  if ((c->ctl_eof || c->exited) && !*grace_ms)
    *grace_ms = now + (c->ctl_eof ? 0u : EOF_GRACE_MS);
  if (*grace_ms && now >= *grace_ms) {
    settle_locked(c);
    *rc = -EPIPE;
    return 1;
  }
  if (now >= deadline_ms) {
    *rc = -ETIMEDOUT;
    return 1;
  }
  wait_until(c, *grace_ms && *grace_ms < deadline_ms ? *grace_ms : deadline_ms);
  return 0;
}

int
pb_conn_wait(pb_conn_t* c, uint64_t deadline_ms, pb_msg_t** msg, uint8_t** body)
{
  uint64_t grace_ms = 0;
  int rc = 0;
  *msg = NULL;
  *body = NULL;
  pthread_mutex_lock(&c->mutex);
  while (!wait_step(c, deadline_ms, &grace_ms, &rc)) {
  }
  if (rc == 0) {
    *msg = c->reply;
    *body = c->reply_body;
    c->reply = NULL;
    c->reply_body = NULL;
  }
  pthread_mutex_unlock(&c->mutex);
  return rc;
}

void
pb_conn_kill(pb_conn_t* c)
{
  pthread_mutex_lock(&c->mutex);
  kill_locked(c);
  pthread_mutex_unlock(&c->mutex);
}

void
pb_conn_settle(pb_conn_t* c)
{
  pthread_mutex_lock(&c->mutex);
  settle_locked(c);
  pthread_mutex_unlock(&c->mutex);
}

int
pb_conn_wait_exit(pb_conn_t* c, uint64_t deadline_ms)
{
  pthread_mutex_lock(&c->mutex);
  while (!c->exited && pb_clock_now_ms() < deadline_ms)
    wait_until(c, deadline_ms);
  const int exited = c->exited;
  pthread_mutex_unlock(&c->mutex);
  return exited;
}

void
pb_conn_stop(pb_conn_t* c)
{
  pb_host_run(c->host, stop_on_loop, c);
  pthread_mutex_lock(&c->mutex);
  while (c->n_handles > 0)
    pthread_cond_wait(&c->cond, &c->mutex);
  /* The I/O thread is done with us; reap here, blocking if need be (after
   * SIGKILL that ends at once). */
  kill_locked(c);
  reap_locked(c, 0);
  pthread_mutex_unlock(&c->mutex);
  pb_launch_close_fds(&c->child);
  c->ctl_fd = -1;
}

int
pb_conn_exit_status(pb_conn_t* c, int* signal, int* exit_code)
{
  pthread_mutex_lock(&c->mutex);
  const int exited = c->exited;
  const int known = c->status_known;
  const int status = c->wait_status;
  pthread_mutex_unlock(&c->mutex);
  *signal = 0;
  *exit_code = -1;
  if (exited && known && WIFSIGNALED(status))
    *signal = WTERMSIG(status);
  else if (exited && known && WIFEXITED(status))
    *exit_code = WEXITSTATUS(status);
  return exited;
}

void
pb_conn_reset(pb_conn_t* c)
{
  pthread_mutex_lock(&c->mutex);
  pb_conn_release(c->reply, c->reply_body);
  c->reply = NULL;
  c->reply_body = NULL;
  pb_frames_fini(&c->frames);
  pb_frames_init(&c->frames, PB_PROTO_MAX_FRAME);
  c->pid = 0;
  c->wait_id = 0;
  c->hello_seen = c->ctl_eof = c->log_eof = c->exited = 0;
  c->wait_status = c->status_known = 0;
  c->broken = c->hung = 0;
  c->broken_why[0] = '\0';
  c->ev_head = c->ev_len = 0;
  c->latency_known = 0;
  c->hang_since_ms = 0;
  atomic_store(&c->audio_in_flight, 0);
  c->shm = NULL;
  /* A note the old bridge left must not be read as the new one's. */
  c->ring_start = c->ring_len = 0;
  pthread_mutex_unlock(&c->mutex);
  c->ctl_fd = -1;
  c->child.pid = 0;
  c->child.ctl_fd = c->child.log_fd = c->child.pidfd = -1;
}

int
pb_conn_hung(pb_conn_t* c)
{
  pthread_mutex_lock(&c->mutex);
  const int hung = c->hung;
  pthread_mutex_unlock(&c->mutex);
  return hung;
}

int
pb_conn_dead(pb_conn_t* c, char* why, size_t why_cap)
{
  pthread_mutex_lock(&c->mutex);
  const int dead = c->broken || c->ctl_eof || c->exited;
  if (why && why_cap)
    (void)snprintf(why, why_cap, "%s", c->broken ? c->broken_why : "");
  pthread_mutex_unlock(&c->mutex);
  return dead;
}

size_t
pb_conn_log(pb_conn_t* c, char* buf, size_t cap)
{
  if (!buf || cap == 0)
    return 0;
  pthread_mutex_lock(&c->mutex);
  const size_t n = c->ring_len < cap - 1 ? c->ring_len : cap - 1;
  const size_t cap_r = c->ring_cap ? c->ring_cap : 1u;
  const size_t from = (c->ring_start + (c->ring_len - n)) % cap_r;
  const size_t first = n < cap_r - from ? n : cap_r - from;
  memcpy(buf, c->ring + from, first);
  memcpy(buf + first, c->ring, n - first);
  pthread_mutex_unlock(&c->mutex);
  buf[n] = '\0';
  return n;
}

pid_t
pb_conn_pid(pb_conn_t* c)
{
  pthread_mutex_lock(&c->mutex);
  const pid_t pid = c->pid;
  pthread_mutex_unlock(&c->mutex);
  return pid;
}

int
pb_conn_poll_event(pb_conn_t* c, uint64_t before, pb_event_t* out)
{
  pthread_mutex_lock(&c->mutex);
  /* Dropped events count as taken: the oldest kept is number total - len. */
  const int any =
    c->ev_len > 0 && atomic_load(&c->ev_total) - c->ev_len < before;
  if (any) {
    *out = c->events[c->ev_head];
    c->ev_head = (c->ev_head + 1u) % PB_CONN_MAX_EVENTS;
    --c->ev_len;
  }
  pthread_mutex_unlock(&c->mutex);
  return any;
}

uint64_t
pb_conn_events_dropped(pb_conn_t* c)
{
  pthread_mutex_lock(&c->mutex);
  const uint64_t n = c->ev_dropped;
  pthread_mutex_unlock(&c->mutex);
  return n;
}

int
pb_conn_latency(pb_conn_t* c, int32_t* out)
{
  pthread_mutex_lock(&c->mutex);
  const int known = c->latency_known;
  if (known)
    *out = c->latency;
  pthread_mutex_unlock(&c->mutex);
  return known;
}
