/* The host side of the audio path.
 *
 * pb_plugin_process() copies the caller's block into the shared memory,
 * publishes request_seq (and its CPU), wakes the bridge only if its audio
 * thread sleeps (its standby thread instead, if that waits on this CPU),
 * and waits for done_seq to reach the same number: spinning while the
 * bridge's thread is awake on another CPU (handing the block to the
 * standby if it has not taken it within PICKUP_NS); yielding its CPU
 * while the bridge's thread that has the block runs on this one (not at a
 * real-time policy); else, or when that takes long, FUTEX_WAIT bounded by
 * the process deadline (the only place a kernel timer is armed).  The
 * bridge wakes the host only if it sleeps.  Nothing on that path
 * allocates, locks or makes a system call other than the futex and
 * sched_yield (clock_gettime and sched_getcpu are answered by the vDSO;
 * sched_getscheduler once per POLICY_CHECK_NS on the yielding path only,
 * see may_yield()).  What the bridge
 * wrote back is read once into locals and checked: counts are clamped and every
 * address comes from the host's own copy of the geometry. */
#define _GNU_SOURCE /* SCHED_BATCH, SCHED_IDLE */

#include "audio.h"

#include "plugin_events.h"

#include "common/clock.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

enum
{
  WAKE_SPIN_NS = 60000,         /* a woken bridge elsewhere comes up in this */
  PICKUP_NS = 5000,             /* a spinning bridge takes a request in this */
  PICKUP_B2B_NS = 30000,        /* ... and when this call came back to back */
  BACK_TO_BACK_NS = 50000,      /* a call this soon after the last returned */
  SPIN_MIN_NS = 100000,         /* spin at most this + 2 x the last call */
  SPIN_MAX_NS = 5000000,        /* ... counting at most this of the last */
  PREEMPTED_NS = 500000,        /* a pause this long in a spin: preempted */
  CONTENDED_NS = 2000000,       /* then do not spin for this long */
  DEFAULT_TIMEOUT_US = 1000000, /* per process call */
  CHECK_EVERY = 32,             /* spin iterations between clock reads */
  POLICY_CHECK_NS = 100000000,  /* look at the caller's policy this often */
  PAUSED_NS = 10000,            /* an answer seen this late: not running */
};

/* ------------------------------------------------------------ set-up */

int
pb_audio_init(pb_plugin_t* p, uint32_t max_frames, int one_thread)
{
  atomic_store(&p->process_timeout_us, DEFAULT_TIMEOUT_US);
  atomic_store(&p->block_frames, max_frames);
  const int err = pb_shm_create(
    &p->shm, max_frames, PB_SHM_MAX_CHANNELS, PB_SHM_MAX_CHANNELS);
  if (!err) {
    pb_shm_store(&p->shm.block->header.hot_mode,
                 (uint32_t)atomic_load(&p->hot_mode));
    pb_shm_store(&p->shm.block->header.one_thread, one_thread != 0);
  }
  return err == -E2BIG ? 0 : err;
}

void
pb_audio_attach(pb_plugin_t* p)
{
  const pb_info_t* info = &p->info;
  p->n_in = info->n_inputs > 0 ? (uint32_t)info->n_inputs : 0u;
  p->n_out = info->n_outputs > 0 ? (uint32_t)info->n_outputs : 0u;
  p->audio_ok = p->shm.block && p->n_in <= p->shm.n_in_channels &&
                p->n_out <= p->shm.n_out_channels;
}

void
pb_audio_fini(pb_plugin_t* p)
{
  pb_shm_close(&p->shm);
}

/* ------------------------------------------------------------ checks */

static int
params_valid(const pb_plugin_t* p, const pb_process_t* b)
{
  if (b->n_param_changes > PB_PARAM_CHANGES_MAX ||
      (b->n_param_changes && !b->param_changes))
    return 0;
  uint32_t last = 0;
  for (uint32_t i = 0; i < b->n_param_changes; ++i) {
    const pb_param_change_t* c = &b->param_changes[i];
    if (c->frame >= b->n_frames || c->frame < last || c->index < 0 ||
        c->index >= p->info.n_params || !isfinite(c->value))
      return 0;
    last = c->frame;
  }
  return 1;
}

static int
midi_valid(const pb_process_t* b)
{
  if (b->n_midi_in > PB_MIDI_MAX_EVENTS || (b->n_midi_in && !b->midi_in))
    return 0;
  uint32_t last = 0;
  size_t sysex = 0;
  for (uint32_t i = 0; i < b->n_midi_in; ++i) {
    const pb_midi_event_t* e = &b->midi_in[i];
    if (e->frame >= b->n_frames || e->frame < last || e->size == 0 ||
        e->size > PB_SYSEX_MAX_BYTES || (e->size > 3 && !e->sysex))
      return 0;
    if (e->size > 3)
      sysex += e->size;
    last = e->frame;
  }
  return sysex <= PB_SHM_SYSEX_AREA;
}

static pb_status_t
check_block(pb_plugin_t* p, const pb_process_t* b, int dbl)
{
  const void* in = dbl ? (const void*)b->inputs64 : (const void*)b->inputs;
  const void* out = dbl ? (const void*)b->outputs64 : (const void*)b->outputs;
  if (!p->audio_ok)
    return PB_ERR_UNSUPPORTED;
  if (!(p->info.flags & (dbl ? PB_FLAG_DOUBLE_REPLACING : PB_FLAG_REPLACING)))
    return PB_ERR_UNSUPPORTED;
  if (b->n_frames == 0 || b->n_frames > atomic_load(&p->block_frames) ||
      b->n_frames > p->shm.max_frames || (b->n_inputs && !in) ||
      (b->n_outputs && !out))
    return PB_ERR_INVALID;
  if (!atomic_load(&p->active) || !atomic_load(&p->processing))
    return PB_ERR_INVALID;
  if (!params_valid(p, b) || !midi_valid(b))
    return PB_ERR_INVALID;
  return PB_OK;
}

/* ------------------------------------------------------------ request */

static void
copy_inputs(pb_plugin_t* p, uint32_t seq, const pb_process_t* b, int dbl)
{
  const size_t bytes = (size_t)b->n_frames * (dbl ? 8u : 4u);
  for (uint32_t ch = 0; ch < p->n_in; ++ch) {
    void* dst = pb_shm_channel(&p->shm, seq, 0, ch);
    const void* src = NULL;
    if (ch < b->n_inputs)
      src = dbl ? (const void*)b->inputs64[ch] : (const void*)b->inputs[ch];
    if (src)
      memcpy(dst, src, bytes);
    else
      memset(dst, 0, bytes);
  }
}

static void
write_transport(struct pb_shm_transport* t, const pb_transport_t* in)
{
  static const pb_transport_t stopped = { 0, 120.0, 4, 4, 0, 0, 0, 0, 0 };
  const pb_transport_t* s = in ? in : &stopped;
  t->flags = s->flags;
  t->time_sig_num = s->time_sig_num;
  t->time_sig_den = s->time_sig_den;
  t->tempo_bpm = s->tempo_bpm;
  t->sample_pos = s->sample_pos;
  t->ppq_pos = s->ppq_pos;
  t->bar_start_ppq = s->bar_start_ppq;
  t->loop_start_ppq = s->loop_start_ppq;
  t->loop_end_ppq = s->loop_end_ppq;
}

static void
write_midi(struct pb_shm_request* r, const pb_process_t* b)
{
  uint32_t used = 0;
  for (uint32_t i = 0; i < b->n_midi_in; ++i) {
    const pb_midi_event_t* e = &b->midi_in[i];
    struct pb_shm_midi_event* m = &r->midi[i];
    m->frame = e->frame;
    m->size = e->size;
    memcpy(m->data, e->data, sizeof(m->data));
    m->sysex_offset = used;
    if (e->size > 3) {
      memcpy(r->sysex + used, e->sysex, e->size);
      used += e->size;
    }
  }
  r->n_midi = b->n_midi_in;
  r->sysex_bytes = used;
}

static void
write_request(pb_plugin_t* p, uint32_t seq, const pb_process_t* b, int dbl)
{
  struct pb_shm_request* r = &pb_shm_slot(&p->shm, seq)->request;
  copy_inputs(p, seq, b, dbl);
  r->n_frames = b->n_frames;
  r->precision = dbl ? PB_SHM_PRECISION_DOUBLE : PB_SHM_PRECISION_FLOAT;
  write_transport(&r->transport, b->transport);
  for (uint32_t i = 0; i < b->n_param_changes; ++i) {
    r->params[i].frame = b->param_changes[i].frame;
    r->params[i].index = b->param_changes[i].index;
    r->params[i].value = b->param_changes[i].value;
  }
  r->n_param_changes = b->n_param_changes;
  write_midi(r, b);
}

/* ------------------------------------------------------------ waiting */

/* Whether the bridge answered request `seq`: done_seq is that number or
 * a later one rung since (the bridge went on with a queued block).
 * Anything else is not an answer: pb_shm_mark_dead() moves the word far
 * away, and so may a plugin scribbling on the block. */
static int
answered(const pb_plugin_t* p, uint32_t seq)
{
  const uint32_t done = pb_shm_load(&p->shm.block->header.done_seq);
  return done - seq <= p->audio_seq - seq;
}

/* Whether to keep spinning for the reply: only while the bridge's audio
 * thread is awake on another CPU.  Spinning while it sleeps, or while it
 * shares this CPU, burns the time it needs; sleeping while it runs
 * elsewhere costs a wake-up of this thread's CPU (~23 µs when that vCPU
 * halted).  Just after a wake-up the bridge still reads as asleep, so a
 * bridge on another CPU gets WAKE_SPIN_NS to come up. */
static int
worth_spinning(const struct pb_shm_header* h,
               uint32_t cpu,
               uint64_t woke_at,
               uint64_t now)
{
  const uint32_t bridge_cpu = pb_shm_load(&h->bridge_cpu);
  if (cpu == PB_SHM_NO_CPU || bridge_cpu == PB_SHM_NO_CPU || bridge_cpu == cpu)
    return 0;
  if (pb_shm_load(&h->bridge_state) == PB_SHM_BRIDGE_RUNNING)
    return 1;
  return woke_at && now - woke_at < WAKE_SPIN_NS;
}

/* Whether the bridge's standby thread waits on this CPU (see
 * pb_shm_header.standby_cpu). */
static int
standby_here(const struct pb_shm_header* h, uint32_t cpu)
{
  return cpu != PB_SHM_NO_CPU && pb_shm_load(&h->standby_cpu) == cpu;
}

/* Hand request `seq` to the standby thread; the caller then yields or
 * sleeps (wait_reply()), so that it gets this CPU. */
static void
call_standby(struct pb_shm_header* h, uint32_t seq)
{
  pb_shm_store_sc(&h->standby_seq, seq);
  pb_shm_futex_wake(&h->standby_seq);
}

/* Spin while worth it; returns 1 once done_seq reached `seq`, 0 when it
 * is time to sleep or past `until` (a "running" bridge may have been
 * preempted: the spin is bounded by a few times the last round trip).
 * A spinning bridge that has not taken the request by `pickup_by` is not
 * running (its vCPU is paused): the standby gets it, once (`*standby`
 * says so). */
static int
spin(pb_plugin_t* p,
     uint32_t seq,
     uint32_t cpu,
     uint64_t woke_at,
     uint64_t pickup_by,
     uint64_t until,
     int* standby)
{
  struct pb_shm_header* h = &p->shm.block->header;
  uint64_t last = 0;
  for (unsigned i = 0;; ++i) {
    if (answered(p, seq))
      return 1;
    if (i % CHECK_EVERY == 0) {
      const uint64_t now = pb_clock_now_ns();
      if (last && now - last > PREEMPTED_NS) {
        /* This thread lost its CPU while spinning: more threads want
         * the CPUs than there are.  Spinning now takes time from someone,
         * maybe the bridge: sleep instead for a while. */
        p->audio_no_spin_until = now + CONTENDED_NS;
        return 0;
      }
      last = now;
      if (!*standby && now > pickup_by &&
          (int32_t)(pb_shm_load(&h->claim_seq) - seq) < 0 &&
          standby_here(h, cpu)) {
        call_standby(h, seq);
        *standby = 1;
        return 0;
      }
      if (now >= until || now < p->audio_no_spin_until ||
          !worth_spinning(h, cpu, woke_at, now) ||
          pb_shm_load(&h->request_seq) != p->audio_seq ||
          pb_shm_is_dead(&p->shm))
        return 0;
    }
    pb_shm_relax();
  }
}

/* Whether the bridge thread that has the request runs on this CPU. */
static int
bridge_here(const struct pb_shm_header* h, uint32_t cpu, int standby)
{
  return standby ||
         (cpu != PB_SHM_NO_CPU && pb_shm_load(&h->bridge_cpu) == cpu);
}

/* Whether the caller may give its CPU away with sched_yield() and count on
 * getting it back: not if it runs at a real-time policy, where a yield
 * passes the CPU only to threads of its own priority.  Looked up once per
 * POLICY_CHECK_NS and caller thread: a caller that became real-time since
 * spends one bounded yield loop (yield_for_reply()) before it sleeps. */
static int
may_yield(pb_plugin_t* p, uint64_t now)
{
  const pthread_t self = pthread_self();
  if (!p->audio_policy_ns || now - p->audio_policy_ns >= POLICY_CHECK_NS ||
      !pthread_equal(self, p->audio_policy_thread)) {
    const int policy = sched_getscheduler(0);
    p->audio_may_yield =
      policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE;
    p->audio_policy_thread = self;
    p->audio_policy_ns = now;
  }
  return p->audio_may_yield;
}

/* Wait for the reply by giving this CPU to the bridge's thread that runs
 * on it, until `until`: a yield switches to it and its reply back without
 * a futex call on either side (one CPU: 3.0 µs a round trip here, against
 * 4.8-5.6 with FUTEX_WAKE and FUTEX_WAIT).  Returns 1 once done_seq
 * reached `seq`, 0 when it is time to sleep. */
static int
yield_for_reply(pb_plugin_t* p, uint32_t seq, uint64_t until, int* yielded)
{
  const struct pb_shm_header* h = &p->shm.block->header;
  for (;;) {
    if (answered(p, seq))
      return 1;
    if (pb_clock_now_ns() >= until ||
        pb_shm_load(&h->request_seq) != p->audio_seq || pb_shm_is_dead(&p->shm))
      return 0;
    (void)sched_yield();
    *yielded = 1;
  }
}

/* Sleep on done_seq, unless it moved; the host's state says so first, so
 * that the bridge knows to wake it (see pb_shm_store_sc()).  The kernel
 * timer is armed here only, never on the spinning path. */
static void
sleep_for_reply(struct pb_shm_header* h,
                uint32_t seq,
                uint32_t last,
                uint64_t deadline)
{
  pb_shm_store_sc(&h->host_state, PB_SHM_HOST_SLEEPING);
  const uint32_t now_seq = pb_shm_load_sc(&h->done_seq);
  const uint64_t now = pb_clock_now_ns();
  if (now_seq - seq > last - seq && now < deadline)
    (void)pb_shm_futex_wait(&h->done_seq, now_seq, deadline - now);
  pb_shm_store(&h->host_state, PB_SHM_HOST_WAITING);
}

/* Publish the request and wake the bridge if it sleeps: its standby
 * thread if that waits on this CPU and no other block is queued before
 * this one (`*standby` says so), else its audio thread.  Returns when the
 * audio thread was woken (for worth_spinning()), else 0. */
static uint64_t
ring(pb_plugin_t* p, uint32_t seq, uint32_t cpu, uint64_t start, int* standby)
{
  struct pb_shm_header* h = &p->shm.block->header;
  struct pb_shm_request* r = &pb_shm_slot(&p->shm, seq)->request;
  r->sent_ns_lo = (uint32_t)start;
  r->sent_ns_hi = (uint32_t)(start >> 32);
  pb_shm_store(&h->host_cpu, cpu);
  pb_shm_store(&h->host_state, PB_SHM_HOST_WAITING);
  pb_shm_store_sc(&h->request_seq, seq);
  if (pb_shm_load_sc(&h->bridge_state) == PB_SHM_BRIDGE_RUNNING)
    return 0;
  if (seq == p->audio_collected + 1u && standby_here(h, cpu)) {
    call_standby(h, seq);
    *standby = 1;
    return 0;
  }
  pb_shm_futex_wake(&h->request_seq);
  return start;
}

/* How long a spinning bridge gets to take the request before the standby
 * is called: the hand-over costs 25-35 µs more than a pickup on these
 * VMs, more than most pauses of a vCPU.  A host paced by its device pays
 * every pause at its 99th percentile: it calls the standby soon.  One
 * calling back to back (rendering offline) pays the mean: it waits out
 * the short pauses, which are most. */
static uint64_t
pickup_by(const pb_plugin_t* p, uint64_t start)
{
  /* A queued block may have been rung before the last one returned. */
  const int b2b = start < p->audio_end_ns + BACK_TO_BACK_NS;
  return start + (b2b ? PICKUP_B2B_NS : PICKUP_NS);
}

static pb_status_t
wait_reply(pb_plugin_t* p,
           uint32_t seq,
           uint32_t cpu,
           uint64_t woke_at,
           uint64_t start,
           uint64_t deadline,
           int* standby,
           int* yielded,
           int* slept)
{
  struct pb_shm_header* h = &p->shm.block->header;
  const uint64_t pickup = pickup_by(p, start);
  const uint64_t last =
    p->audio_last_ns < SPIN_MAX_NS ? p->audio_last_ns : SPIN_MAX_NS;
  uint64_t until = pb_clock_now_ns() + SPIN_MIN_NS + 2u * last;
  if (until > deadline)
    until = deadline;
  for (;;) {
    /* The standby thread runs on this CPU: no spinning, it needs the CPU
     * (this thread yields it below, or sleeps). */
    if (*standby ? answered(p, seq)
                 : spin(p, seq, cpu, woke_at, pickup, until, standby))
      return PB_OK;
    const uint64_t now = pb_clock_now_ns();
    if (now < until && bridge_here(h, cpu, *standby) && may_yield(p, now) &&
        yield_for_reply(p, seq, until, yielded))
      return PB_OK;
    if (pb_shm_is_dead(&p->shm))
      return PB_ERR_CRASHED;
    /* Only the host writes request_seq: the plugin scribbled on the
     * block.  Late too: the bridge may still run on what it read. */
    if (pb_shm_load(&h->request_seq) != p->audio_seq) {
      p->audio_late = 1;
      return PB_ERR_PROTOCOL;
    }
    if (pb_clock_now_ns() >= deadline) {
      p->audio_late = 1;
      return PB_ERR_TIMEOUT;
    }
    sleep_for_reply(h, seq, p->audio_seq, deadline);
    *slept = 1;
    woke_at = 0;
  }
}

/* A counter with one writer, this thread: a relaxed load and store, not
 * a locked read-modify-write, on the process path. */
static void
count(_Atomic uint64_t* counter, uint64_t n)
{
  const uint64_t v = atomic_load_explicit(counter, memory_order_relaxed);
  atomic_store_explicit(counter, v + n, memory_order_relaxed);
}

/* Ring request `seq`, written into its slot, and note it queued. */
static void
send_block(pb_plugin_t* p, uint32_t seq, pb_process_t* b, int dbl)
{
  const uint32_t cpu = pb_shm_cpu();
  const uint64_t start = pb_clock_now_ns();
  p->audio_seq = seq;
  /* For the hang watch (host/conn.c): the number before the doorbell. */
  atomic_store(&p->conn.audio_sent_seq, seq);
  atomic_store(&p->conn.audio_in_flight, 1);
  int standby = 0;
  const uint64_t woke_at = ring(p, seq, cpu, start, &standby);
  pb_queued_t* q = &p->audio_queued[seq % PB_SHM_SLOTS];
  q->block = b;
  q->dbl = dbl;
  q->start = start;
  q->woke_at = woke_at;
  q->standby = standby;
  q->epoch = atomic_load(&p->audio_epoch);
}

/* Whether the caller saw the answer to a block it waited for more than
 * PAUSED_NS after the bridge wrote it (the reply's replied_ns, by the same
 * clock): its thread did not run meanwhile, since a caller that spins or
 * yields for it sees it within a few µs.  An answer written before the
 * wait began (a queued block collected later) does not count, nor one
 * whose stamp lies outside the wait (the plugin may scribble on it). */
static int
saw_late(const struct pb_shm_reply* r, uint64_t from, uint64_t seen)
{
  const uint64_t waited = seen - from;
  if (waited > UINT32_MAX)
    return 0;
  const uint32_t replied = __atomic_load_n(&r->replied_ns, __ATOMIC_RELAXED);
  const uint32_t after = replied - (uint32_t)from;
  return after <= (uint32_t)waited && (uint32_t)waited - after > PAUSED_NS;
}

/* Wait for the answer to request `seq`, the oldest queued. */
static pb_status_t
wait_for(pb_plugin_t* p, uint32_t seq)
{
  struct pb_shm_header* h = &p->shm.block->header;
  const uint32_t cpu = pb_shm_cpu();
  const uint64_t start = pb_clock_now_ns();
  const uint64_t deadline =
    start + (uint64_t)atomic_load(&p->process_timeout_us) * 1000u;
  const pb_queued_t* q = &p->audio_queued[seq % PB_SHM_SLOTS];
  const uint64_t rung = q->start;
  int standby = q->standby;
  int yielded = 0;
  int slept = 0;
  pb_shm_store(&h->host_cpu, cpu);
  pb_shm_store(&h->host_state, PB_SHM_HOST_WAITING);
  const pb_status_t st = wait_reply(
    p, seq, cpu, q->woke_at, rung, deadline, &standby, &yielded, &slept);
  if (st == PB_OK && seq == p->audio_seq)
    atomic_store(&p->conn.audio_in_flight, 0);
  count(&p->stat_blocks, 1);
  count(&p->stat_bridge_woken, q->woke_at != 0);
  count(&p->stat_host_slept, slept != 0);
  count(&p->stat_standby, standby != 0);
  count(&p->stat_host_yielded, yielded != 0);
  pb_shm_store(&h->host_state, PB_SHM_HOST_IDLE);
  p->audio_end_ns = pb_clock_now_ns();
  p->audio_last_ns = p->audio_end_ns - rung;
  /* A caller that slept pays its own wake-up (host_slept). */
  if (st == PB_OK && !slept)
    count(&p->stat_caller_paused,
          saw_late(&pb_shm_slot(&p->shm, seq)->reply, start, p->audio_end_ns)
            ? 1u
            : 0u);
  return st;
}

/* A late bridge may still be working on the last block; it must finish
 * that one before it gets another, else both sides would write the same
 * buffers at once.  It has when done_seq caught up with request_seq
 * (normally this host's last number; after a scribble, whatever the
 * bridge last read), and numbering goes on from there. */
static int
still_late(pb_plugin_t* p)
{
  if (!p->audio_late)
    return 0;
  const struct pb_shm_header* h = &p->shm.block->header;
  const uint32_t done = pb_shm_load(&h->done_seq);
  if (done != pb_shm_load(&h->request_seq))
    return 1;
  p->audio_seq = done;
  p->audio_collected = done;
  p->audio_late = 0;
  atomic_store(&p->conn.audio_sent_seq, done);
  atomic_store(&p->conn.audio_in_flight, 0);
  return 0;
}

/* ------------------------------------------------------------ reply */

static void
silence(pb_process_t* b, int dbl)
{
  const size_t bytes = (size_t)b->n_frames * (dbl ? 8u : 4u);
  for (uint32_t ch = 0; ch < b->n_outputs; ++ch) {
    void* dst = dbl ? (void*)b->outputs64[ch] : (void*)b->outputs[ch];
    if (dst)
      memset(dst, 0, bytes);
  }
}

static void
copy_outputs(pb_plugin_t* p, uint32_t seq, pb_process_t* b, int dbl)
{
  const size_t bytes = (size_t)b->n_frames * (dbl ? 8u : 4u);
  for (uint32_t ch = 0; ch < b->n_outputs; ++ch) {
    void* dst = dbl ? (void*)b->outputs64[ch] : (void*)b->outputs[ch];
    if (!dst)
      continue;
    if (ch < p->n_out)
      memcpy(dst, pb_shm_channel(&p->shm, seq, 1, ch), bytes);
    else
      memset(dst, 0, bytes);
  }
}

/* One event out, read once from shared memory and checked; 0 if bad. */
static int
take_midi_out(pb_plugin_t* p,
              const struct pb_shm_reply* r,
              const struct pb_shm_midi_event* src,
              uint32_t n_frames,
              pb_midi_event_t* dst)
{
  struct pb_shm_midi_event e;
  memcpy(&e, src, sizeof(e));
  if (e.size == 0 || e.size > PB_SYSEX_MAX_BYTES || e.frame >= n_frames)
    return 0;
  dst->frame = e.frame;
  dst->size = e.size;
  memcpy(dst->data, e.data, sizeof(dst->data));
  dst->sysex = NULL;
  if (e.size <= 3)
    return 1;
  if (e.sysex_offset > PB_SHM_SYSEX_AREA - e.size)
    return 0;
  memcpy(p->sysex_out + e.sysex_offset, r->sysex + e.sysex_offset, e.size);
  dst->sysex = p->sysex_out + e.sysex_offset;
  return 1;
}

static void
read_midi_out(pb_plugin_t* p, const struct pb_shm_reply* r, pb_process_t* b)
{
  uint32_t n = __atomic_load_n(&r->n_midi, __ATOMIC_RELAXED);
  if (n > PB_SHM_MIDI_MAX)
    n = PB_SHM_MIDI_MAX;
  if (!b->midi_out)
    return;
  for (uint32_t i = 0; i < n && b->n_midi_out < b->midi_out_capacity; ++i)
    b->n_midi_out += (uint32_t)take_midi_out(
      p, r, &r->midi[i], b->n_frames, &b->midi_out[b->n_midi_out]);
}

_Static_assert(PB_SHM_PARAM_EVENT_MAX == PB_BLOCK_PARAM_EVENTS_MAX, "bound");
_Static_assert(PB_SHM_SLOTS == PB_QUEUE_MAX, "a slot per queued block");

/* One parameter event, read once from shared memory and checked; 0 if
 * bad (a scribbled block: dropped without a word). */
static int
take_param_event(const pb_plugin_t* p,
                 const struct pb_shm_param_event* src,
                 uint32_t n_frames,
                 pb_plugin_event_t* dst)
{
  struct pb_shm_param_event e;
  memcpy(&e, src, sizeof(e));
  if (e.frame >= n_frames || e.index < 0 || e.index >= p->info.n_params)
    return 0;
  memset(dst, 0, sizeof(*dst));
  dst->index = e.index;
  dst->frame = e.frame;
  switch (e.kind) {
    case PB_SHM_PARAM_AUTOMATE:
      dst->kind = PB_EVENT_AUTOMATE;
      dst->value = e.value;
      return e.value >= 0.0f && e.value <= 1.0f; /* NaN fails too */
    case PB_SHM_PARAM_BEGIN_EDIT:
      dst->kind = PB_EVENT_BEGIN_EDIT;
      return 1;
    case PB_SHM_PARAM_END_EDIT:
      dst->kind = PB_EVENT_END_EDIT;
      return 1;
    default:
      return 0;
  }
}

/* The automation and edits of the block into the plugin's event ring,
 * after the pipe events received so far. */
static void
read_param_events(pb_plugin_t* p,
                  const struct pb_shm_reply* r,
                  uint32_t n_frames)
{
  uint32_t n = __atomic_load_n(&r->n_param_events, __ATOMIC_RELAXED);
  const uint32_t dropped =
    __atomic_load_n(&r->n_param_dropped, __ATOMIC_RELAXED);
  if (n > PB_SHM_PARAM_EVENT_MAX)
    n = PB_SHM_PARAM_EVENT_MAX;
  if (dropped)
    pb_plugin_events_drop(p, dropped);
  if (n == 0)
    return;
  const uint64_t after = atomic_load(&p->conn.ev_total);
  for (uint32_t i = 0; i < n; ++i) {
    pb_plugin_event_t ev;
    if (take_param_event(p, &r->param_events[i], n_frames, &ev))
      pb_plugin_events_push_block(p, &ev, after);
  }
}

/* The bridge's word for the plugin's own time, at most the whole call's. */
static void
count_plugin_time(pb_plugin_t* p, const struct pb_shm_reply* r)
{
  const uint64_t claimed = __atomic_load_n(&r->plugin_ns, __ATOMIC_RELAXED);
  count(&p->stat_plugin_ns,
        claimed < p->audio_last_ns ? claimed : p->audio_last_ns);
}

static pb_status_t
reply_status(const struct pb_shm_reply* r)
{
  const int32_t st = __atomic_load_n(&r->status, __ATOMIC_RELAXED);
  if (st == PB_OK || st == PB_ERR_INVALID || st == PB_ERR_UNSUPPORTED)
    return (pb_status_t)st;
  return PB_ERR_PROTOCOL;
}

/* ------------------------------------------------------------ API */

/* Queue block `b`, checked, for the bridge. */
static pb_status_t
enqueue(pb_plugin_t* p, pb_process_t* b, int dbl)
{
  if (pb_shm_is_dead(&p->shm))
    return PB_ERR_CRASHED;
  /* A block of the queue failed: the rest go with it. */
  if (p->audio_failed)
    return p->audio_failed;
  if (p->audio_seq == p->audio_collected && still_late(p))
    return PB_ERR_TIMEOUT;
  const uint32_t seq = p->audio_seq + 1u;
  write_request(p, seq, b, dbl);
  send_block(p, seq, b, dbl);
  return PB_OK;
}

static void
take_reply(pb_plugin_t* p,
           uint32_t seq,
           const struct pb_shm_reply* r,
           pb_process_t* b,
           int dbl)
{
  copy_outputs(p, seq, b, dbl);
  count_plugin_time(p, r);
  read_midi_out(p, r, b);
  read_param_events(p, r, b->n_frames);
}

/* Wait for the oldest queued block, and read its answer into it. */
static pb_status_t
collect(pb_plugin_t* p, pb_process_t** out)
{
  const uint32_t seq = p->audio_collected + 1u;
  pb_queued_t* q = &p->audio_queued[seq % PB_SHM_SLOTS];
  pb_process_t* b = q->block;
  const int dbl = q->dbl;
  pb_status_t st = p->audio_failed;
  if (!st)
    st = wait_for(p, seq);
  /* A restart on another thread meanwhile: the old bridge died with this
   * block, and the new one's words say it is answered. */
  if (!st && atomic_load(&p->audio_epoch) != q->epoch)
    st = PB_ERR_CRASHED;
  const struct pb_shm_reply* r = &pb_shm_slot(&p->shm, seq)->reply;
  if (!st)
    st = reply_status(r);
  p->audio_collected = seq;
  q->block = NULL;
  /* A block the bridge did not answer leaves it behind the queue (a
   * status it answered with is this block's alone). */
  if (st && st != PB_ERR_INVALID && st != PB_ERR_UNSUPPORTED)
    p->audio_failed = p->audio_seq == seq ? PB_OK : st;
  else if (p->audio_seq == seq)
    p->audio_failed = PB_OK;
  if (out)
    *out = b;
  b->n_midi_out = 0;
  if (st)
    silence(b, dbl);
  else
    take_reply(p, seq, r, b, dbl);
  /* Done with the slot: the bridge may clear its outputs. */
  pb_shm_store(&p->shm.block->header.collected_seq, seq);
  return st;
}

/* The arguments of a process or submit call, checked; its MIDI out
 * cleared. */
static pb_status_t
take_block(pb_plugin_t* p, pb_process_t* b, int dbl)
{
  if (!p || !b)
    return PB_ERR_INVALID;
  b->n_midi_out = 0;
  return check_block(p, b, dbl);
}

static pb_status_t
process(pb_plugin_t* p, pb_process_t* b, int dbl)
{
  pb_status_t st = take_block(p, b, dbl);
  if (st)
    return st;
  if (p->audio_seq != p->audio_collected)
    return PB_ERR_INVALID; /* blocks queued: collect them first */
  st = enqueue(p, b, dbl);
  if (st) {
    silence(b, dbl);
    return st;
  }
  return collect(p, NULL);
}

pb_status_t
pb_plugin_process(pb_plugin_t* plugin, pb_process_t* block)
{
  return process(plugin, block, 0);
}

pb_status_t
pb_plugin_process_double(pb_plugin_t* plugin, pb_process_t* block)
{
  return process(plugin, block, 1);
}

static pb_status_t
submit(pb_plugin_t* p, pb_process_t* b, int dbl)
{
  pb_status_t st = take_block(p, b, dbl);
  if (st)
    return st;
  if (p->audio_seq - p->audio_collected >= PB_SHM_SLOTS)
    return PB_ERR_INVALID; /* the queue is full: collect first */
  st = enqueue(p, b, dbl);
  /* Not waiting: the bridge need not wake this thread, nor yield to it. */
  if (!st)
    pb_shm_store(&p->shm.block->header.host_state, PB_SHM_HOST_IDLE);
  return st;
}

pb_status_t
pb_plugin_submit(pb_plugin_t* plugin, pb_process_t* block)
{
  return submit(plugin, block, 0);
}

pb_status_t
pb_plugin_submit_double(pb_plugin_t* plugin, pb_process_t* block)
{
  return submit(plugin, block, 1);
}

pb_status_t
pb_plugin_collect(pb_plugin_t* plugin, pb_process_t** block)
{
  if (block)
    *block = NULL;
  if (!plugin || !block || plugin->audio_seq == plugin->audio_collected)
    return PB_ERR_INVALID;
  return collect(plugin, block);
}

uint32_t
pb_plugin_queued(const pb_plugin_t* plugin)
{
  return plugin ? plugin->audio_seq - plugin->audio_collected : 0u;
}

pb_status_t
pb_plugin_set_process_timeout_us(pb_plugin_t* plugin, uint32_t timeout_us)
{
  if (!plugin || timeout_us == 0)
    return PB_ERR_INVALID;
  atomic_store(&plugin->process_timeout_us, timeout_us);
  return PB_OK;
}

pb_status_t
pb_plugin_set_hot_mode(pb_plugin_t* plugin, int on)
{
  if (!plugin || (on != 0 && on != 1))
    return PB_ERR_INVALID;
  atomic_store(&plugin->hot_mode, on);
  if (plugin->shm.block)
    pb_shm_store(&plugin->shm.block->header.hot_mode, (uint32_t)on);
  return PB_OK;
}

int
pb_plugin_audio_priority(const pb_plugin_t* plugin)
{
  if (!plugin || !plugin->shm.block)
    return 0;
  /* Written by the bridge: only what a priority or an errno can be. */
  const int32_t v = __atomic_load_n(&plugin->shm.block->header.audio_priority,
                                    __ATOMIC_ACQUIRE);
  return v >= -4095 && v <= PB_RT_PRIORITY_MAX ? (int)v : -EPROTO;
}

pb_status_t
pb_plugin_audio_stats(const pb_plugin_t* plugin, pb_audio_stats_t* out)
{
  if (!plugin || !out)
    return PB_ERR_INVALID;
  pb_plugin_t* p = (pb_plugin_t*)(uintptr_t)plugin;
  memset(out, 0, sizeof(*out));
  out->blocks = atomic_load_explicit(&p->stat_blocks, memory_order_relaxed);
  out->bridge_woken =
    atomic_load_explicit(&p->stat_bridge_woken, memory_order_relaxed);
  out->host_slept =
    atomic_load_explicit(&p->stat_host_slept, memory_order_relaxed);
  out->plugin_ns =
    atomic_load_explicit(&p->stat_plugin_ns, memory_order_relaxed);
  out->standby = atomic_load_explicit(&p->stat_standby, memory_order_relaxed);
  out->host_yielded =
    atomic_load_explicit(&p->stat_host_yielded, memory_order_relaxed);
  out->caller_paused =
    atomic_load_explicit(&p->stat_caller_paused, memory_order_relaxed);
  return PB_OK;
}
