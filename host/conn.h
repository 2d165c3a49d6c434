/* One bridge process as the host sees it: the child, its control socket and
 * log pipe on the host's I/O thread, the reply handed to the waiting
 * caller, the events it sent, what it printed and how it ended.
 * Private to libplugbox.
 *
 * Threads: pb_conn_* functions are called by the one caller thread that
 * owns the plugin at a time; the libuv callbacks in conn.c run on the I/O
 * thread.  They share the fields marked "mutex" under `mutex`. */
#ifndef PB_HOST_CONN_H
#define PB_HOST_CONN_H

#include "host.h"
#include "launch.h"

#include "common/shm.h"
#include "proto/frame.h"
#include "proto/message.h"

#include <uv.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#define PB_CONN_MAX_EVENTS 256

/* An event the bridge sent (kinds 64..68); kept for a later API. */
typedef struct
{
  uint32_t kind;   /* PB_MSG_EV_* */
  uint32_t index;  /* parameter index, if any */
  float value;     /* automated value, if any */
  int32_t a, b, c; /* inputs, outputs, delay / latency */
} pb_event_t;

/* Takes the events instead of the queue, when set; see pb_conn_t. */
typedef void (*pb_conn_event_fn)(void* data, const pb_event_t* ev);

typedef struct pb_conn
{
  pb_host_t* host;
  pthread_mutex_t mutex;
  pthread_cond_t cond; /* CLOCK_MONOTONIC; reply, exit, EOF, handle closed */
  pb_child_t child;    /* fds libuv does not own (yet); -1 once it does */
  int ctl_fd;          /* control socket, for the caller's writes */
  pb_shm_t* shm;       /* the audio block (borrowed) or NULL: the I/O
                          thread marks it dead when the bridge ends */

  /* I/O thread only. */
  uv_pipe_t ctl_pipe;
  uv_pipe_t log_pipe;
  uv_poll_t exit_poll;   /* on the pidfd */
  uv_timer_t exit_timer; /* waitpid polling when there is no pidfd */
  uv_timer_t hang_timer; /* watches for an unanswered process block */
  int ctl_open, log_open, poll_open, timer_open; /* handle initialized */
  int hang_open;
  uint32_t audio_hang_ms;    /* set before pb_conn_start(); 0: no watch */
  pb_conn_event_fn on_event; /* set before pb_conn_start(); called on the
                                I/O thread without the mutex */
  void* on_event_data;
  uint32_t hang_seq;      /* the host's block pending since hang_since_ms */
  uint64_t hang_since_ms; /* since when it has not moved, or 0 */
  pb_frames_t frames;
  uint8_t* ctl_buf; /* read buffers for libuv */
  char* log_buf;

  /* The host's own account of the audio path, for the hang watch: written
   * by the process caller (host/audio.c), read by the I/O thread.  The
   * plugin can scribble on the shared block, not on these. */
  _Atomic uint32_t audio_sent_seq; /* the last request number sent */
  _Atomic int audio_in_flight;     /* 1: sent, and not yet seen answered */

  /* mutex */
  pid_t pid;        /* 0 once reaped */
  int n_handles;    /* handles not yet closed */
  uint32_t wait_id; /* id of the request in flight (0: the hello) */
  pb_msg_t* reply;  /* the awaited message, owned until taken */
  uint8_t* reply_body;
  int hello_seen;
  int ctl_eof; /* control socket at EOF or failed */
  int log_eof;
  int exited;      /* reaped */
  int wait_status; /* from waitpid, when status_known */
  int status_known;
  int broken; /* the stream was corrupt; the bridge was killed */
  int hung;   /* a process block went unanswered; the bridge was killed */
  char broken_why[160];
  pb_event_t events[PB_CONN_MAX_EVENTS];
  uint32_t ev_head, ev_len;
  _Atomic uint64_t ev_total; /* received; read without the mutex too */
  uint64_t ev_dropped;
  int32_t latency; /* from the newest IO_CHANGED or LATENCY event */
  int latency_known;
  char* ring; /* the newest log bytes, circular */
  size_t ring_cap, ring_start, ring_len;
} pb_conn_t;

/** Initialize; `log_cap` bytes of plugin output are kept.  Returns 0,
 *  -ENOMEM or -errno. */
int pb_conn_init(pb_conn_t* c, pb_host_t* host, size_t log_cap);

/** Release everything; pb_conn_stop() must have run if started. */
void pb_conn_fini(pb_conn_t* c);

/** Spawn `bridge` on the I/O thread (so the bridge's parent thread lives as
 *  long as the host) and start watching its channels.  `shm` (borrowed,
 *  may be NULL; must outlive pb_conn_stop()) is handed to the bridge as
 *  fd 4 and marked dead when the bridge ends.  Returns 0 or -errno; on
 *  failure nothing is left running. */
int pb_conn_start(pb_conn_t* c, const char* bridge, pb_shm_t* shm);

/** Forget the ended bridge (pb_conn_stop() has run), its log included,
 *  so the connection can start another. */
void pb_conn_reset(pb_conn_t* c);

/** Whether the bridge was killed for leaving a process block unanswered
 *  for `audio_hang_ms`. */
int pb_conn_hung(pb_conn_t* c);

/** Take the oldest event the bridge sent, if it was among the first
 *  `before` received (counting from the start: ev_total then).  Returns 1
 *  and fills `*out`, or 0 when none such is pending. */
int pb_conn_poll_event(pb_conn_t* c, uint64_t before, pb_event_t* out);

/** Events dropped because the queue was full. */
uint64_t pb_conn_events_dropped(pb_conn_t* c);

/** The newest latency the bridge reported; returns 0 if none yet. */
int pb_conn_latency(pb_conn_t* c, int32_t* out);

/** Expect the reply to request `id` (0: the hello), dropping any older
 *  reply.  Call before sending the request. */
void pb_conn_expect(pb_conn_t* c, uint32_t id);

/** Write `len` bytes to the control socket before `deadline_ms`
 *  (pb_clock_now_ms time).  Returns 0, -ETIMEDOUT or -EPIPE/-errno. */
int pb_conn_send(pb_conn_t* c,
                 const uint8_t* data,
                 size_t len,
                 uint64_t deadline_ms);

/** Wait for the expected message.  Returns 0 with `*msg` and `*body` owned
 *  by the caller (release with pb_conn_release()), -ETIMEDOUT, -EPIPE (the
 *  bridge is gone; it is reaped or killed), or -EBADMSG (corrupt stream;
 *  the bridge was killed). */
int pb_conn_wait(pb_conn_t* c,
                 uint64_t deadline_ms,
                 pb_msg_t** msg,
                 uint8_t** body);

/** Free a message taken with pb_conn_wait().  Accepts NULL. */
void pb_conn_release(pb_msg_t* msg, uint8_t* body);

/** SIGKILL the bridge unless it is already reaped. */
void pb_conn_kill(pb_conn_t* c);

/** Wait, bounded (about 2 s at worst), for a bridge that hung up or ended
 *  to be reaped, killing it if it lingers, and for the rest of its output. */
void pb_conn_settle(pb_conn_t* c);

/** Wait until the bridge is reaped or `deadline_ms` passes.  Returns 1 if
 *  it is reaped. */
int pb_conn_wait_exit(pb_conn_t* c, uint64_t deadline_ms);

/** Stop watching (close the handles on the I/O thread and wait for them)
 *  and reap the bridge, killing it first if it still runs.  Afterwards no
 *  fd and no child is left. */
void pb_conn_stop(pb_conn_t* c);

/** How the bridge ended: returns 1 once reaped, with `*signal` (0 if it
 *  exited) and `*exit_code` (-1 if signalled or unknown). */
int pb_conn_exit_status(pb_conn_t* c, int* signal, int* exit_code);

/** The state seen by the I/O thread: 1 if the bridge has ended, hung up or
 *  sent garbage.  `why` (if not NULL) gets the corruption detail. */
int pb_conn_dead(pb_conn_t* c, char* why, size_t why_cap);

/** Copy the newest log bytes (at most `cap - 1`), NUL-terminated.  Returns
 *  the number of bytes copied. */
size_t pb_conn_log(pb_conn_t* c, char* buf, size_t cap);

/** Process id, or 0 once reaped. */
pid_t pb_conn_pid(pb_conn_t* c);

#endif /* PB_HOST_CONN_H */
