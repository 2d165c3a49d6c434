/* Requests to the bridge: build, send, wait with a deadline, check the
 * reply, and turn every way the bridge can fail into a status, a message
 * and, where the bridge cannot be trusted any more, a crash record.
 *
 * A late reply cannot be told from a lost one, and the bridge may be stuck
 * inside the plugin, so a missed deadline kills the bridge: the plugin is
 * crashed from then on and every later call fails at once. */
#define _GNU_SOURCE /* sigabbrev_np */

#include "request.h"

#include "crash_note.h"
#include "restart.h"

#include "common/clock.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A writer that sent a big chunk gives its buffer back. */
#define WRITER_KEEP_BYTES (1024u * 1024u)

static const char*
kind_name(uint32_t kind)
{
  const char* name = pb_msg_kind_name(kind);
  return name ? name : "message";
}

static void
signal_name(int sig, char* buf, size_t cap)
{
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev)
    (void)snprintf(buf, cap, "SIG%s", abbrev);
  else
    (void)snprintf(buf, cap, "signal %d", sig);
}

/* The bridge dies of SIGSYS only when its seccomp filters trap a call
 * (bridge/sandbox_seccomp.c); it names the call on stderr first:
 * "sandbox violation (i386 syscall 20: getpid)".  That note from the log,
 * else the bare words. */
static void
describe_violation(pb_plugin_t* p, char* buf, size_t cap)
{
  static const char key[] = "sandbox violation (";
  char log[2048];
  (void)pb_conn_log(&p->conn, log, sizeof(log));
  const char* at = strstr(log, key);
  const char* end = at ? strchr(at, ')') : NULL;
  if (end)
    (void)snprintf(buf, cap, "died of SIGSYS: %.*s", (int)(end + 1 - at), at);
  else
    (void)snprintf(buf, cap, "died of SIGSYS: sandbox violation");
}

void
pb_request_describe_end(pb_plugin_t* p, char* buf, size_t cap)
{
  int sig = 0;
  int code = -1;
  char name[16];
  if (!pb_conn_exit_status(&p->conn, &sig, &code)) {
    (void)snprintf(buf, cap, "hung up");
  } else if (sig == SIGSYS) {
    describe_violation(p, buf, cap);
  } else if (sig) {
    signal_name(sig, name, sizeof(name));
    (void)snprintf(buf, cap, "died of %s", name);
  } else if (code >= 0) {
    (void)snprintf(buf, cap, "exited with code %d", code);
  } else {
    (void)snprintf(buf, cap, "ended (exit status unknown)");
  }
}

void
pb_request_log_tail(pb_plugin_t* p, char* buf, size_t cap, int max_lines)
{
  char log[2048];
  size_t n = pb_conn_log(&p->conn, log, sizeof(log));
  while (n > 0 && (log[n - 1] == '\n' || log[n - 1] == '\r'))
    log[--n] = '\0';
  size_t start = n;
  int lines = 0;
  while (start > 0 && !(log[start - 1] == '\n' && ++lines == max_lines))
    --start;
  (void)snprintf(buf, cap, "%s", log + start);
}

static void mark_crashed(pb_plugin_t* p, const char* fmt, ...)
  __attribute__((format(printf, 2, 3)));

static void
mark_crashed(pb_plugin_t* p, const char* fmt, ...)
{
  pb_crash_t* cr = &p->crash;
  memset(cr, 0, sizeof(*cr));
  cr->crashed = 1;
  (void)pb_conn_exit_status(&p->conn, &cr->signal, &cr->exit_code);
  if (cr->signal)
    signal_name(cr->signal, cr->signal_name, sizeof(cr->signal_name));
  (void)snprintf(cr->call,
                 sizeof(cr->call),
                 "%s",
                 p->req_kind ? kind_name(p->req_kind) : "");
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(cr->reason, sizeof(cr->reason), fmt, ap);
  va_end(ap);
  /* The bridge's own note, if it wrote one, is in the log by now (the
   * caller settled the connection); it names the call more precisely. */
  char log[8192];
  (void)pb_conn_log(&p->conn, log, sizeof(log));
  pb_crash_note_parse(log, cr);
  cr->n_restarts = p->n_restarts;
  p->crashed_at_ms = pb_clock_now_ms();
}

pb_status_t
pb_request_alive(pb_plugin_t* p)
{
  if (p->crash.crashed)
    return pb_plugin_fail(
      p, PB_ERR_CRASHED, "the bridge is gone: %s", p->crash.reason);
  char why[160];
  char end[128];
  if (!pb_conn_dead(&p->conn, why, sizeof(why)))
    return PB_OK;
  pb_conn_settle(&p->conn);
  p->req_kind = 0;
  pb_request_describe_end(p, end, sizeof(end));
  if (pb_conn_hung(&p->conn))
    mark_crashed(p,
                 "a process call went unanswered for %u ms; the bridge "
                 "was killed",
                 (unsigned)p->conn.audio_hang_ms);
  else if (why[0])
    mark_crashed(p, "protocol error while idle: %s", why);
  else
    mark_crashed(p, "bridge %s while idle", end);
  return pb_plugin_fail(p, PB_ERR_CRASHED, "%s", p->crash.reason);
}

/* The request in flight has no usable answer.  `err` is from conn.c. */
static pb_status_t
lost(pb_plugin_t* p, int err)
{
  const char* call = kind_name(p->req_kind);
  char detail[160];
  if (err == -ETIMEDOUT) {
    pb_conn_kill(&p->conn);
    pb_conn_settle(&p->conn);
    mark_crashed(p, "timeout in %s", call);
    return pb_plugin_fail(p,
                          PB_ERR_TIMEOUT,
                          "%s did not answer within %llu ms; the bridge was "
                          "killed",
                          call,
                          (unsigned long long)p->req_timeout_ms);
  }
  if (err == -EBADMSG) {
    (void)pb_conn_dead(&p->conn, detail, sizeof(detail));
    pb_conn_settle(&p->conn);
    mark_crashed(p, "protocol error in %s: %s", call, detail);
    return pb_plugin_fail(p, PB_ERR_PROTOCOL, "%s", p->crash.reason);
  }
  pb_conn_settle(&p->conn);
  pb_request_describe_end(p, detail, sizeof(detail));
  mark_crashed(p, "bridge %s in %s", detail, call);
  return pb_plugin_fail(p, PB_ERR_CRASHED, "%s", p->crash.reason);
}

/* A reply we cannot use means the stream is out of step: kill. */
static pb_status_t
broken_reply(pb_plugin_t* p, const char* what)
{
  pb_conn_kill(&p->conn);
  pb_conn_settle(&p->conn);
  mark_crashed(p, "protocol error in %s: %s", kind_name(p->req_kind), what);
  return pb_plugin_fail(p, PB_ERR_PROTOCOL, "%s", p->crash.reason);
}

static int
types_match(const pb_msg_t* m, const char* types)
{
  const size_t n = strlen(types);
  if (m->n_args != n)
    return 0;
  for (size_t i = 0; i < n; ++i)
    if ((char)m->args[i].type != types[i])
      return 0;
  return 1;
}

static pb_status_t
error_reply(pb_plugin_t* p, const pb_msg_t* m)
{
  if (!types_match(m, "is") || m->args[0].v.i <= 0 ||
      m->args[0].v.i >= PB_STATUS_COUNT)
    return broken_reply(p, "malformed error reply");
  return pb_plugin_fail(
    p, (pb_status_t)m->args[0].v.i, "%s", m->args[1].v.s.ptr);
}

static pb_status_t
check_reply(pb_plugin_t* p,
            uint32_t want_kind,
            const char* types,
            const pb_msg_t** reply)
{
  const pb_msg_t* m = p->reply;
  char what[160];
  if (m->kind == PB_MSG_ERROR)
    return error_reply(p, m);
  if (m->kind != want_kind) {
    (void)snprintf(what,
                   sizeof(what),
                   "expected %s, got %s",
                   kind_name(want_kind),
                   kind_name(m->kind));
    return broken_reply(p, what);
  }
  if (types && !types_match(m, types)) {
    (void)snprintf(
      what, sizeof(what), "%s with the wrong arguments", kind_name(m->kind));
    return broken_reply(p, what);
  }
  *reply = m;
  return PB_OK;
}

static pb_status_t
await(pb_plugin_t* p,
      uint64_t deadline_ms,
      uint32_t want_kind,
      const char* types,
      const pb_msg_t** reply)
{
  pb_msg_t* msg = NULL;
  uint8_t* body = NULL;
  const int err = pb_conn_wait(&p->conn, deadline_ms, &msg, &body);
  if (err)
    return lost(p, err);
  p->reply = msg;
  p->reply_body = body;
  return check_reply(p, want_kind, types, reply);
}

static int
put_args(pb_wr_t* w, const char* args, va_list ap)
{
  for (const char* t = args; *t; ++t) {
    if (*t == 'u') {
      pb_wr_u(w, va_arg(ap, unsigned));
    } else if (*t == 'i') {
      pb_wr_i(w, va_arg(ap, int));
    } else if (*t == 'f') {
      pb_wr_f(w, va_arg(ap, double));
    } else if (*t == 'b') {
      pb_wr_b(w, va_arg(ap, int));
    } else if (*t == 's') {
      pb_wr_s(w, va_arg(ap, const char*));
    } else if (*t == 'x') {
      const void* data = va_arg(ap, const void*);
      pb_wr_x(w, data, va_arg(ap, size_t));
    } else {
      return -EINVAL;
    }
  }
  return 0;
}

static pb_status_t
encode_failed(pb_plugin_t* p, int err)
{
  const char* call = kind_name(p->req_kind);
  if (err == -ENOMEM)
    return pb_plugin_fail(p, PB_ERR_NOMEM, "out of memory encoding %s", call);
  if (err == -EMSGSIZE)
    return pb_plugin_fail(p,
                          PB_ERR_TOO_BIG,
                          "%s is over the message size "
                          "limit",
                          call);
  return pb_plugin_fail(p, PB_ERR_INVALID, "cannot encode %s", call);
}

static void
trim_writer(pb_plugin_t* p)
{
  if (pb_wr_size(&p->wr) <= WRITER_KEEP_BYTES)
    return;
  pb_wr_fini(&p->wr);
  pb_wr_init(&p->wr);
}

/* Start request `kind`; `numbered` requests get the next id (the hello
 * has id 0, so ids run 1, 2, ... and skip 0 when they wrap). */
static void
begin(pb_plugin_t* p, uint32_t kind, uint64_t deadline_ms, int numbered)
{
  /* What is left of the deadline, rounded up: the deadline counts whole
   * ms from the caller's clock reading, so a call given 300 ms that
   * begins a few µs later, past a ms boundary, still has 299.x ms and
   * must say 300, not 299. */
  const uint64_t now_ns = pb_clock_now_ns();
  const uint64_t deadline_ns = deadline_ms * 1000000u;
  p->req_kind = kind;
  p->req_timeout_ms =
    deadline_ns > now_ns ? (deadline_ns - now_ns + 999999u) / 1000000u : 0;
  p->req_id = 0;
  if (numbered) {
    if (++p->next_id == 0)
      p->next_id = 1;
    p->req_id = p->next_id;
  }
}

pb_status_t
pb_request_call(pb_plugin_t* p,
                uint64_t deadline_ms,
                uint32_t kind,
                const char* reply_types,
                const pb_msg_t** reply,
                const char* args,
                ...)
{
  *reply = NULL;
  pb_request_done(p);
  pb_status_t st = pb_request_alive(p);
  /* With auto_restart a crashed plugin comes back before the call. */
  if (st == PB_ERR_CRASHED && pb_restart_auto(p) == PB_OK)
    st = PB_OK;
  if (st)
    return st;
  begin(p, kind, deadline_ms, 1);
  pb_wr_begin(&p->wr, kind, p->req_id);
  va_list ap;
  va_start(ap, args);
  int err = put_args(&p->wr, args, ap);
  va_end(ap);
  if (!err)
    err = pb_wr_end(&p->wr);
  if (err) {
    trim_writer(p);
    return encode_failed(p, err);
  }
  pb_conn_expect(&p->conn, p->req_id);
  err =
    pb_conn_send(&p->conn, pb_wr_data(&p->wr), pb_wr_size(&p->wr), deadline_ms);
  trim_writer(p);
  if (err)
    return lost(p, err);
  return await(p, deadline_ms, kind | PB_MSG_REPLY, reply_types, reply);
}

pb_status_t
pb_request_hello(pb_plugin_t* p, uint64_t deadline_ms, const pb_msg_t** hello)
{
  *hello = NULL;
  pb_request_done(p);
  /* The connection expects id 0 from the start, so a hello that came
   * before this call is waiting in the reply slot. */
  begin(p, PB_MSG_HELLO, deadline_ms, 0);
  return await(p, deadline_ms, PB_MSG_HELLO, "usu", hello);
}

void
pb_request_done(pb_plugin_t* p)
{
  pb_conn_release(p->reply, p->reply_body);
  p->reply = NULL;
  p->reply_body = NULL;
}
