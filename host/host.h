/* The host context: one I/O thread running a uv_loop, and a queue through
 * which other threads hand it work.  Private to libplugbox. */
#ifndef PB_HOST_HOST_H
#define PB_HOST_HOST_H

#include "plugbox.h"

#include <uv.h>

#include <pthread.h>

#define PB_HOST_ERROR_CAP 2048

/* Work run on the I/O thread; it may touch the loop and its handles. */
typedef void (*pb_host_fn_t)(pb_host_t* host, void* arg);

struct pb_host_job;

struct pb_host
{
  pthread_mutex_t mutex; /* guards jobs, stopping and last_error */
  pthread_cond_t cond;   /* a job is done */
  uv_loop_t loop;        /* only the I/O thread touches it once started */
  uv_async_t wakeup;     /* new jobs or stop */
  pthread_t thread;
  struct pb_host_job* jobs_head;
  struct pb_host_job* jobs_tail;
  int stopping;
  char last_error[PB_HOST_ERROR_CAP];
};

/** Run `fn(host, arg)` on the I/O thread and wait until it has returned.
 *  Must not be called from the I/O thread.  [any-thread] */
void pb_host_run(pb_host_t* host, pb_host_fn_t fn, void* arg);

/** The loop of the I/O thread; use only from inside a pb_host_fn_t or a
 *  libuv callback.  [io-thread] */
uv_loop_t* pb_host_loop(pb_host_t* host);

/** Replace the host's last error (printf format).  [any-thread] */
void pb_host_set_error(pb_host_t* host, const char* fmt, ...)
  __attribute__((format(printf, 2, 3)));

#endif /* PB_HOST_HOST_H */
