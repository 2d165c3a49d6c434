/* The host context and its I/O thread.
 *
 * Every libuv call for the bridges of one host happens on one thread, so
 * other threads never touch the loop: they queue a job, poke the loop with
 * a uv_async_t and wait on a condition variable until the job has run.
 * The thread runs with every signal blocked, so the host application's
 * signal handlers never run on it. */
#define _GNU_SOURCE /* pthread_setname_np */

#include "host.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pb_host_job
{
  pb_host_fn_t fn;
  void* arg;
  int done;
  struct pb_host_job* next;
};

/* Run the queued jobs.  A job lives on its caller's stack: once `done` is
 * set (under the mutex) the caller may return, so it is not touched after
 * that. */
static void
run_jobs(pb_host_t* host)
{
  pthread_mutex_lock(&host->mutex);
  struct pb_host_job* job = host->jobs_head;
  host->jobs_head = NULL;
  host->jobs_tail = NULL;
  pthread_mutex_unlock(&host->mutex);

  while (job) {
    struct pb_host_job* next = job->next;
    job->fn(host, job->arg);
    pthread_mutex_lock(&host->mutex);
    job->done = 1;
    pthread_cond_broadcast(&host->cond);
    pthread_mutex_unlock(&host->mutex);
    job = next;
  }
}

static void
close_any(uv_handle_t* handle, void* arg)
{
  (void)arg;
  if (!uv_is_closing(handle))
    uv_close(handle, NULL);
}

static void
on_wakeup(uv_async_t* async)
{
  pb_host_t* host = (pb_host_t*)async->data;
  run_jobs(host);

  pthread_mutex_lock(&host->mutex);
  const int stopping = host->stopping;
  pthread_mutex_unlock(&host->mutex);
  /* Closing every handle ends uv_run().  Plugins must have been closed
   * already; closing what is left only keeps a broken caller from hanging
   * here forever. */
  if (stopping)
    uv_walk(&host->loop, close_any, NULL);
}

static void*
io_thread_main(void* arg)
{
  pb_host_t* host = (pb_host_t*)arg;
  (void)pthread_setname_np(pthread_self(), "plugbox-io");
  (void)uv_run(&host->loop, UV_RUN_DEFAULT);
  return NULL;
}

/* Start the thread with all signals blocked; it inherits the mask. */
static int
start_thread(pb_host_t* host)
{
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  int err = pthread_sigmask(SIG_SETMASK, &all, &old);
  if (err)
    return err;
  err = pthread_create(&host->thread, NULL, io_thread_main, host);
  (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
  return err;
}

static pb_status_t
init_sync(pb_host_t* host)
{
  if (pthread_mutex_init(&host->mutex, NULL))
    return PB_ERR_IO;
  if (pthread_cond_init(&host->cond, NULL)) {
    pthread_mutex_destroy(&host->mutex);
    return PB_ERR_IO;
  }
  return PB_OK;
}

static void
fini_sync(pb_host_t* host)
{
  pthread_cond_destroy(&host->cond);
  pthread_mutex_destroy(&host->mutex);
}

pb_status_t
pb_host_new(pb_host_t** out)
{
  if (!out)
    return PB_ERR_INVALID;
  *out = NULL;
  pb_host_t* host = (pb_host_t*)calloc(1, sizeof(*host));
  if (!host)
    return PB_ERR_NOMEM;

  pb_status_t st = init_sync(host);
  if (st)
    goto fail_free;
  st = PB_ERR_IO;
  if (uv_loop_init(&host->loop))
    goto fail_sync;
  if (uv_async_init(&host->loop, &host->wakeup, on_wakeup))
    goto fail_loop;
  host->wakeup.data = host;
  if (start_thread(host))
    goto fail_async;
  *out = host;
  return PB_OK;

fail_async:
  uv_close((uv_handle_t*)&host->wakeup, NULL);
  (void)uv_run(&host->loop, UV_RUN_DEFAULT);
fail_loop:
  (void)uv_loop_close(&host->loop);
fail_sync:
  fini_sync(host);
fail_free:
  free(host);
  return st;
}

void
pb_host_free(pb_host_t* host)
{
  if (!host)
    return;
  pthread_mutex_lock(&host->mutex);
  host->stopping = 1;
  pthread_mutex_unlock(&host->mutex);
  (void)uv_async_send(&host->wakeup);
  (void)pthread_join(host->thread, NULL);
  (void)uv_loop_close(&host->loop);
  fini_sync(host);
  free(host);
}

const char*
pb_host_last_error(const pb_host_t* host)
{
  if (!host)
    return "";
  pb_host_t* h = (pb_host_t*)(uintptr_t)host; /* the mutex is not const */
  pthread_mutex_lock(&h->mutex);
  const char* msg = h->last_error;
  pthread_mutex_unlock(&h->mutex);
  return msg;
}

void
pb_host_set_error(pb_host_t* host, const char* fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pthread_mutex_lock(&host->mutex);
  (void)vsnprintf(host->last_error, sizeof(host->last_error), fmt, ap);
  pthread_mutex_unlock(&host->mutex);
  va_end(ap);
}

void
pb_host_run(pb_host_t* host, pb_host_fn_t fn, void* arg)
{
  struct pb_host_job job = { fn, arg, 0, NULL };
  pthread_mutex_lock(&host->mutex);
  if (host->jobs_tail)
    host->jobs_tail->next = &job;
  else
    host->jobs_head = &job;
  host->jobs_tail = &job;
  pthread_mutex_unlock(&host->mutex);

  /* uv_async_send only fails on a closed handle, which cannot happen
   * before pb_host_free(). */
  (void)uv_async_send(&host->wakeup);

  pthread_mutex_lock(&host->mutex);
  while (!job.done)
    pthread_cond_wait(&host->cond, &host->mutex);
  pthread_mutex_unlock(&host->mutex);
}

uv_loop_t*
pb_host_loop(pb_host_t* host)
{
  return &host->loop;
}
