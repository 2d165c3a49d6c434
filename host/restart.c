/* Restart: end whatever is left of the bridge, start a new one on the same
 * audio block, open the plugin again and replay the state the library
 * knows.  The handle keeps its info (read once at open; the pointers the
 * caller borrowed stay valid) and its block, whose doorbell words are
 * brought into step so that the new bridge's audio thread waits for the
 * next request.
 *
 * The state is what the host told the plugin (sample rate, block size,
 * program, parameters, bypass, on/off) plus the last snapshot: the bank
 * chunk when the plugin has chunks, else every parameter value.  Replay
 * order: chunk, then the program if it changed since (or there is no
 * chunk), then the parameters set since, then bypass, on, processing. */
#define _POSIX_C_SOURCE 200809L

#include "restart.h"

#include "request.h"

#include "common/clock.h"
#include "proto/message.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum
{
  BACKOFF_CAP_MS = 2000,
};

/* ------------------------------------------------------------ set-up */

int
pb_restart_init(pb_plugin_t* p,
                const pb_open_opts_t* o,
                const char* bridge,
                pb_bridge_args_t* args,
                int arch)
{
  p->args = args;
  p->bridge = strdup(bridge);
  if (!p->bridge)
    return -ENOMEM;
  p->opts = *o;
  p->opts.bridge_path = NULL;
  p->opts.extra_read_paths = NULL;
  p->opts.writable_path = NULL;
  p->arch = arch;
  p->state.sample_rate = o->sample_rate;
  p->state.block_frames = o->max_block_frames;
  p->state.program = -1;
  p->state.bypass = -1;
  return 0;
}

void
pb_restart_fini(pb_plugin_t* p)
{
  pb_bridge_args_free(p->args);
  p->args = NULL;
  free(p->bridge);
  free(p->state.params);
  free(p->state.replay);
  free(p->state.chunk);
  p->bridge = NULL;
  p->state.params = NULL;
  p->state.replay = NULL;
  p->state.chunk = NULL;
}

/* ------------------------------------------------------------- state */

static int
have_params(pb_plugin_t* p)
{
  const int32_t n = p->info.n_params;
  if (n <= 0)
    return 0;
  if (!p->state.params) {
    p->state.params = (float*)calloc((size_t)n, sizeof(float));
    p->state.replay = (uint8_t*)calloc((size_t)n, 1);
  }
  return p->state.params && p->state.replay;
}

void
pb_state_param(pb_plugin_t* p, int32_t index, float value)
{
  if (index < 0 || index >= p->info.n_params || !have_params(p))
    return;
  p->state.params[index] = value;
  p->state.replay[index] = 1;
}

void
pb_state_program(pb_plugin_t* p, int32_t index)
{
  p->state.program = index;
  p->state.program_dirty = 1;
}

/* A bank chunk the host restored is the newest state it knows; a program
 * chunk only changes the current program and is not kept. */
void
pb_state_chunk(pb_plugin_t* p, int program, const void* data, size_t n)
{
  if (program)
    return;
  void* copy = malloc(n ? n : 1u);
  if (!copy)
    return;
  memcpy(copy, data, n);
  free(p->state.chunk);
  p->state.chunk = copy;
  p->state.chunk_size = n;
  p->state.program_dirty = 0;
  if (p->state.replay)
    memset(p->state.replay, 0, (size_t)p->info.n_params);
}

void
pb_state_rate(pb_plugin_t* p, double hz)
{
  p->state.sample_rate = hz;
}

void
pb_state_block(pb_plugin_t* p, uint32_t n_frames)
{
  p->state.block_frames = n_frames;
}

void
pb_state_bypass(pb_plugin_t* p, int on)
{
  p->state.bypass = on ? 1 : 0;
}

/* ---------------------------------------------------------- snapshot */

static uint64_t
call_deadline(const pb_plugin_t* p)
{
  return pb_clock_now_ms() + p->call_timeout_ms;
}

static pb_status_t
snapshot_chunk(pb_plugin_t* p)
{
  const pb_msg_t* r = NULL;
  pb_status_t st =
    pb_request_call(p, call_deadline(p), PB_MSG_CHUNK_GET, "x", &r, "b", 0);
  if (!st)
    pb_state_chunk(p, 0, r->args[0].v.x.ptr, r->args[0].v.x.len);
  pb_request_done(p);
  return st;
}

/* Without chunks every parameter is read and replayed. */
static pb_status_t
snapshot_params(pb_plugin_t* p)
{
  if (p->info.n_params > 0 && !have_params(p))
    return pb_plugin_fail(p, PB_ERR_NOMEM, "out of memory");
  for (int32_t i = 0; i < p->info.n_params; ++i) {
    const pb_msg_t* r = NULL;
    const pb_status_t st = pb_request_call(
      p, call_deadline(p), PB_MSG_PARAM_GET, "fss", &r, "u", (unsigned)i);
    if (!st) {
      p->state.params[i] = (float)r->args[0].v.f;
      p->state.replay[i] = 1;
    }
    pb_request_done(p);
    if (st)
      return st;
  }
  return PB_OK;
}

pb_status_t
pb_restart_snapshot(pb_plugin_t* p)
{
  const int chunks = (p->info.flags & PB_FLAG_PROGRAM_CHUNKS) != 0;
  pb_status_t st = chunks ? snapshot_chunk(p) : snapshot_params(p);
  if (st)
    return st;
  if (p->info.n_programs > 0) {
    const pb_msg_t* r = NULL;
    st = pb_request_call(p, call_deadline(p), PB_MSG_PROGRAM_GET, "i", &r, "");
    if (!st) {
      p->state.program = r->args[0].v.i;
      p->state.program_dirty = !chunks;
    }
    pb_request_done(p);
  }
  return st;
}

/* ------------------------------------------------------------ replay */

static pb_status_t
call(pb_plugin_t* p,
     uint64_t deadline_ms,
     uint32_t kind,
     const char* reply_types,
     const char* args,
     unsigned u,
     double f)
{
  const pb_msg_t* r = NULL;
  pb_status_t st;
  if (!strcmp(args, "uf"))
    st = pb_request_call(p, deadline_ms, kind, reply_types, &r, args, u, f);
  else if (args[0] == 'f')
    st = pb_request_call(p, deadline_ms, kind, reply_types, &r, args, f);
  else if (args[0] == 'b')
    st = pb_request_call(p, deadline_ms, kind, reply_types, &r, args, (int)u);
  else
    st = pb_request_call(p, deadline_ms, kind, reply_types, &r, args, u);
  pb_request_done(p);
  return st;
}

static pb_status_t
replay_state(pb_plugin_t* p, uint64_t deadline_ms)
{
  const pb_state_t* s = &p->state;
  const pb_msg_t* r = NULL;
  pb_status_t st = PB_OK;
  if (s->block_frames != p->opts.max_block_frames)
    st = call(
      p, deadline_ms, PB_MSG_SET_BLOCK_SIZE, "", "u", s->block_frames, 0.0);
  if (!st && s->chunk) {
    st = pb_request_call(p,
                         deadline_ms,
                         PB_MSG_CHUNK_SET,
                         "i",
                         &r,
                         "bx",
                         0,
                         s->chunk,
                         s->chunk_size);
    pb_request_done(p);
  }
  if (!st && s->program >= 0 && (s->program_dirty || !s->chunk))
    st = call(
      p, deadline_ms, PB_MSG_PROGRAM_SET, "", "u", (unsigned)s->program, 0.0);
  for (int32_t i = 0; !st && s->replay && i < p->info.n_params; ++i)
    if (s->replay[i])
      st = call(p,
                deadline_ms,
                PB_MSG_PARAM_SET,
                "",
                "uf",
                (unsigned)i,
                (double)s->params[i]);
  if (!st && s->bypass >= 0)
    st = call(
      p, deadline_ms, PB_MSG_SET_BYPASS, "b", "b", (unsigned)s->bypass, 0.0);
  return st;
}

/* Switch the plugin on and start processing again, as before. */
static pb_status_t
resume(pb_plugin_t* p, uint64_t deadline_ms, int active, int processing)
{
  pb_status_t st = PB_OK;
  if (active)
    st = call(p, deadline_ms, PB_MSG_SET_ACTIVE, "", "b", 1u, 0.0);
  if (!st && active)
    atomic_store(&p->active, 1);
  if (!st && processing)
    st = call(p, deadline_ms, PB_MSG_SET_PROCESSING, "", "b", 1u, 0.0);
  if (!st && processing)
    atomic_store(&p->processing, 1);
  return st;
}

/* ----------------------------------------------------------- restart */

static pb_status_t
hello(pb_plugin_t* p, uint64_t deadline_ms)
{
  const pb_msg_t* m = NULL;
  pb_status_t st = pb_request_hello(p, deadline_ms, &m);
  if (!st && m->args[0].v.u != PB_PROTO_VERSION)
    st = pb_plugin_fail(p, PB_ERR_PROTOCOL, "the bridge changed protocol");
  pb_request_done(p);
  return st;
}

/* The old bridge gone, the block's doorbell words in step, a fresh
 * connection on the same objects. */
static pb_status_t
respawn(pb_plugin_t* p)
{
  pb_plugin_end_bridge(p, 0);
  pb_conn_reset(&p->conn);
  if (p->shm.block) {
    struct pb_shm_header* h = &p->shm.block->header;
    /* Before the words below make the blocks in flight look answered. */
    atomic_fetch_add(&p->audio_epoch, 1u);
    const uint32_t seq = pb_shm_load(&h->request_seq);
    pb_shm_store(&h->done_seq, seq);
    pb_shm_store(&h->collected_seq, seq);
    /* The old bridge's words: the new one publishes its own. */
    pb_shm_store(&h->claim_seq, seq);
    pb_shm_store(&h->bridge_cpu, PB_SHM_NO_CPU);
    pb_shm_store(&h->standby_cpu, PB_SHM_NO_CPU);
    __atomic_store_n(&p->shm.dead, 0, __ATOMIC_RELEASE);
  }
  memset(&p->crash, 0, sizeof(p->crash));
  p->crash.exit_code = -1;
  p->conn.audio_hang_ms = p->opts.audio_hang_ms;
  p->conn.child.args = pb_bridge_args_argv(p->args);
  const int err =
    pb_conn_start(&p->conn, p->bridge, p->shm.block ? &p->shm : NULL);
  p->conn.child.args = NULL;
  if (err)
    return pb_plugin_fail(p,
                          PB_ERR_BRIDGE,
                          "cannot start the bridge %s: %s",
                          p->bridge,
                          strerror(-err));
  return PB_OK;
}

static pb_status_t
attempt(pb_plugin_t* p, int active, int processing)
{
  const uint64_t deadline_ms = pb_clock_now_ms() + p->opts.load_timeout_ms;
  pb_status_t st = respawn(p);
  if (!st)
    st = hello(p, deadline_ms);
  if (!st) {
    const pb_msg_t* r = NULL;
    st = pb_request_call(p,
                         deadline_ms,
                         PB_MSG_OPEN,
                         "",
                         &r,
                         "sfu",
                         p->path,
                         p->state.sample_rate,
                         (unsigned)p->opts.max_block_frames);
    pb_request_done(p);
  }
  if (!st)
    st = replay_state(p, deadline_ms);
  if (!st)
    st = resume(p, deadline_ms, active, processing);
  return st;
}

/* A failed attempt leaves the plugin crashed, whatever failed. */
static void
stay_crashed(pb_plugin_t* p, pb_status_t st)
{
  atomic_store(&p->active, 0);
  atomic_store(&p->processing, 0);
  pb_plugin_end_bridge(p, 0);
  if (p->shm.block)
    pb_shm_mark_dead(&p->shm);
  if (!p->crash.crashed) {
    pb_crash_t* cr = &p->crash;
    cr->crashed = 1;
    (void)snprintf(cr->reason,
                   sizeof(cr->reason),
                   "restart failed (%s): %.200s",
                   pb_status_name(st),
                   p->last_error);
    cr->n_restarts = p->n_restarts;
  }
  p->crashed_at_ms = pb_clock_now_ms();
}

static void
sleep_ms(uint64_t ms)
{
  const struct timespec ts = { (time_t)(ms / 1000u),
                               (long)(ms % 1000u) * 1000000L };
  (void)nanosleep(&ts, NULL);
}

static pb_status_t
restart(pb_plugin_t* p, uint32_t attempts)
{
  /* On/off as the host last set them; process calls meanwhile are
   * refused rather than sent to a bridge that is not ready. */
  const int active = atomic_exchange(&p->active, 0);
  const int processing = atomic_exchange(&p->processing, 0);
  pb_status_t st = PB_OK;
  p->restarting = 1;
  for (uint32_t i = 0; i < attempts; ++i) {
    if (i > 0) {
      const uint64_t wait = (uint64_t)p->opts.restart_backoff_ms << (i - 1);
      sleep_ms(wait < BACKOFF_CAP_MS ? wait : BACKOFF_CAP_MS);
    }
    st = attempt(p, active, processing);
    if (!st)
      break;
  }
  p->restarting = 0;
  if (st) {
    stay_crashed(p, st);
    return st;
  }
  p->crash.n_restarts = ++p->n_restarts;
  return PB_OK;
}

pb_status_t
pb_restart_auto(pb_plugin_t* p)
{
  if (!p->opts.auto_restart || p->restarting || !p->args ||
      p->n_auto_restarts >= p->opts.restart_max)
    return PB_ERR_CRASHED;
  const uint32_t shift = p->n_auto_restarts < 16 ? p->n_auto_restarts : 16;
  uint64_t wait = (uint64_t)p->opts.restart_backoff_ms << shift;
  if (wait > BACKOFF_CAP_MS)
    wait = BACKOFF_CAP_MS;
  if (pb_clock_now_ms() < p->crashed_at_ms + wait)
    return PB_ERR_CRASHED;
  ++p->n_auto_restarts;
  return restart(p, 1);
}

/* ---------------------------------------------------------------- API */

pb_status_t
pb_plugin_restart(pb_plugin_t* plugin)
{
  if (!plugin || !plugin->args)
    return PB_ERR_INVALID;
  pthread_mutex_lock(&plugin->call_mutex);
  plugin->n_auto_restarts = 0;
  const uint32_t n = plugin->opts.restart_max ? plugin->opts.restart_max : 1;
  const pb_status_t st = restart(plugin, n);
  pb_request_done(plugin);
  pthread_mutex_unlock(&plugin->call_mutex);
  return st;
}

pb_status_t
pb_plugin_snapshot(pb_plugin_t* plugin)
{
  if (!plugin)
    return PB_ERR_INVALID;
  pthread_mutex_lock(&plugin->call_mutex);
  const pb_status_t st = pb_restart_snapshot(plugin);
  pb_request_done(plugin);
  pthread_mutex_unlock(&plugin->call_mutex);
  return st;
}
