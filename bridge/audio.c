/* The bridge's audio thread; see audio.h.
 *
 * Everything the thread touches is allocated before it starts: the event
 * list handed to effProcessEvents, private copies of sysex data (the host
 * may rewrite the shared block; the plugin may keep the pointers for the
 * block), the channel pointer arrays.  Counts and offsets read from the
 * shared block are read once and clamped before use. */
/* sched_setaffinity, CPU_SET and pthread_timedjoin_np are GNU. */
#define _GNU_SOURCE

#include "bridge/audio.h"
#include "bridge/anticipate.h"
#include "bridge/crash.h"

#include "common/clock.h"
#include "common/shm.h"
#include "host/plugbox.h"

#include <errno.h>
#include <fenv.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* The event list effProcessEvents takes, with room for a whole block. */
struct event_list
{
  int32_t n_events;
  intptr_t reserved;
  struct pb_vst_event* events[PB_SHM_MIDI_MAX];
};

static struct
{
  pb_shm_t shm;
  pb_vst2_t* plugin;
  pthread_t thread;
  pthread_t standby; /* see standby_main() */
  int running;
  int standby_running;
  atomic_int stop;
  atomic_int untimed; /* the audio thread sleeps without a timer */
  /* The window around a steady host's next request, as the audio thread
   * last slept for it with a timer (win_start 0: none); the standby
   * watches it too (standby_watch()). */
  _Atomic uint64_t win_start;
  _Atomic uint64_t win_end;
  _Atomic uint64_t win_period;
  /* The bridge's own account of the blocks, which the plugin cannot
   * scribble on as it can on the shared words (claim_seq and done_seq
   * publish them to the host): */
  uint32_t claimed;  /* the last request a thread took (atomic) */
  uint32_t finished; /* the last one it finished (atomic) */
  int priority;      /* SCHED_FIFO for the thread, or 0 */
  int realtime;      /* the thread runs SCHED_FIFO or SCHED_RR */
  fenv_t fenv;       /* of the main thread after the plugin opened */
  /* The thread that claimed the block only. */
  uint32_t seq;                      /* its request number */
  struct pb_shm_request* req;        /* its slot's request ... */
  struct pb_shm_reply* rep;          /* ... and reply */
  struct pb_shm_transport transport; /* of the block, read once */
  uint32_t seg_start;                /* first frame of the running call */
  uint64_t began_ns; /* when the block's plugin calls began (or its check
                        failed) ... */
  uint64_t ended_ns; /* ... and ended, by pb_clock_now_ns() */
  uint32_t n_frames;
  size_t out_bytes;        /* per output channel of the last good block */
  uint32_t n_param_events; /* written to the reply in this block */
  struct event_list list;
  struct pb_vst_midi_event midi[PB_SHM_MIDI_MAX];
  struct pb_vst_sysex_event sysex[PB_SHM_MIDI_MAX];
  char sysex_bytes[PB_SHM_SYSEX_AREA];
  void* ins[PB_SHM_MAX_CHANNELS];
  void* outs[PB_SHM_MAX_CHANNELS];
} audio = { .shm = { .fd = -1 } };

static _Thread_local int in_block;
static _Thread_local struct pb_vst_time_info time_info;

int
pb_audio_map(int fd)
{
  return pb_shm_map(&audio.shm, fd);
}

int
pb_audio_in_block(void)
{
  return in_block;
}

/* ------------------------------------------------------------ callbacks */

struct pb_vst_time_info*
pb_audio_time(float sample_rate)
{
  const struct pb_shm_transport* t = &audio.transport;
  memset(&time_info, 0, sizeof time_info);
  time_info.sample_pos = t->sample_pos + (double)audio.seg_start;
  time_info.sample_rate = sample_rate;
  time_info.nano_seconds = (double)pb_clock_now_ns();
  time_info.ppq_pos = t->ppq_pos;
  time_info.tempo = t->tempo_bpm;
  time_info.bar_start_pos = t->bar_start_ppq;
  time_info.cycle_start_pos = t->loop_start_ppq;
  time_info.cycle_end_pos = t->loop_end_ppq;
  time_info.time_sig_numerator = t->time_sig_num;
  time_info.time_sig_denominator = t->time_sig_den;
  int32_t flags = PB_VST_TIME_NANOS_VALID | PB_VST_TIME_PPQ_POS_VALID |
                  PB_VST_TIME_TEMPO_VALID | PB_VST_TIME_BARS_VALID |
                  PB_VST_TIME_SIG_VALID;
  if (t->flags & PB_TRANSPORT_PLAYING)
    flags |= PB_VST_TIME_PLAYING;
  if (t->flags & PB_TRANSPORT_RECORDING)
    flags |= PB_VST_TIME_RECORDING;
  if (t->flags & PB_TRANSPORT_CHANGED)
    flags |= PB_VST_TIME_CHANGED;
  if (t->flags & PB_TRANSPORT_LOOPING)
    flags |= PB_VST_TIME_CYCLE_ACTIVE | PB_VST_TIME_CYCLE_POS_VALID;
  time_info.flags = flags;
  return &time_info;
}

static void
add_out(const struct pb_shm_midi_event* e, const void* sysex)
{
  struct pb_shm_reply* r = audio.rep;
  if (r->n_midi >= PB_SHM_MIDI_MAX)
    return;
  if (sysex) {
    if (e->size > PB_SHM_SYSEX_AREA - r->sysex_bytes)
      return;
    memcpy(r->sysex + r->sysex_bytes, sysex, e->size);
  }
  r->midi[r->n_midi] = *e;
  r->midi[r->n_midi].sysex_offset = sysex ? r->sysex_bytes : 0u;
  if (sysex)
    r->sysex_bytes += e->size;
  ++r->n_midi;
}

static uint32_t
frame_of(int32_t delta)
{
  const int64_t f = (int64_t)audio.seg_start + (delta > 0 ? delta : 0);
  return f < (int64_t)audio.n_frames ? (uint32_t)f : audio.n_frames - 1u;
}

static void
event_out(const struct pb_vst_event* ev)
{
  struct pb_shm_midi_event e = { frame_of(ev->delta_frames), 3, { 0 }, 0 };
  if (ev->type == PB_VST_EVENT_MIDI) {
    const struct pb_vst_midi_event* m = (const struct pb_vst_midi_event*)ev;
    memcpy(e.data, m->midi_data, 3);
    add_out(&e, NULL);
  } else if (ev->type == PB_VST_EVENT_SYSEX) {
    const struct pb_vst_sysex_event* s = (const struct pb_vst_sysex_event*)ev;
    if (!s->dump || s->dump_bytes <= 3 ||
        s->dump_bytes > (int32_t)PB_SHM_SYSEX_MAX)
      return;
    e.size = (uint32_t)s->dump_bytes;
    add_out(&e, s->dump);
  }
}

intptr_t
pb_audio_events_out(const struct pb_vst_events* events)
{
  if (!in_block || !events || events->n_events <= 0)
    return 0;
  const int32_t n = events->n_events < (int32_t)PB_SHM_MIDI_MAX
                      ? events->n_events
                      : (int32_t)PB_SHM_MIDI_MAX;
  for (int32_t i = 0; i < n; ++i)
    if (events->events[i])
      event_out(events->events[i]);
  return 1;
}

/* No lock and no system call: the audio thread owns the reply until it
 * rings done.  The count is kept here, not read back from the block. */
int
pb_audio_param_event(uint32_t kind, int32_t index, float value)
{
  if (!in_block)
    return 0;
  struct pb_shm_reply* r = audio.rep;
  if (kind == PB_SHM_PARAM_AUTOMATE)
    ++r->n_automation;
  if (audio.n_param_events >= PB_SHM_PARAM_EVENT_MAX) {
    ++r->n_param_dropped;
    return 1;
  }
  struct pb_shm_param_event* e = &r->param_events[audio.n_param_events++];
  e->frame = audio.seg_start < audio.n_frames ? audio.seg_start : 0u;
  e->index = index;
  e->value = kind == PB_SHM_PARAM_AUTOMATE ? value : 0.0f;
  e->kind = kind;
  r->n_param_events = audio.n_param_events;
  return 1;
}

/* ------------------------------------------------------------ MIDI in */

/* One event of the request as a VST event in slot `k`; 0 if bad. */
static int
make_event(const struct pb_shm_midi_event* src, uint32_t k, uint32_t* used)
{
  struct pb_shm_midi_event e;
  memcpy(&e, src, sizeof e);
  const int32_t delta = (int32_t)(e.frame - audio.seg_start);
  if (e.size >= 1 && e.size <= 3) {
    struct pb_vst_midi_event* m = &audio.midi[k];
    memset(m, 0, sizeof *m);
    m->type = PB_VST_EVENT_MIDI;
    m->byte_size = (int32_t)sizeof *m;
    m->delta_frames = delta;
    memcpy(m->midi_data, e.data, e.size);
    audio.list.events[k] = (struct pb_vst_event*)(void*)m;
    return 1;
  }
  const struct pb_shm_request* r = audio.req;
  if (e.size > PB_SHM_SYSEX_MAX ||
      e.sysex_offset > PB_SHM_SYSEX_AREA - e.size ||
      e.size > PB_SHM_SYSEX_AREA - *used)
    return 0;
  memcpy(audio.sysex_bytes + *used, r->sysex + e.sysex_offset, e.size);
  struct pb_vst_sysex_event* s = &audio.sysex[k];
  memset(s, 0, sizeof *s);
  s->type = PB_VST_EVENT_SYSEX;
  s->byte_size = (int32_t)sizeof *s;
  s->delta_frames = delta;
  s->dump_bytes = (int32_t)e.size;
  s->dump = audio.sysex_bytes + *used;
  *used += e.size;
  audio.list.events[k] = (struct pb_vst_event*)(void*)s;
  return 1;
}

/* Hand the events of frames [seg_start, end) to the plugin; `*next` is the
 * first event not yet sent. */
static void
send_midi(uint32_t n_midi, uint32_t* next, uint32_t end)
{
  const struct pb_shm_request* r = audio.req;
  uint32_t k = 0;
  uint32_t used = 0;
  for (; *next < n_midi; ++*next) {
    const uint32_t frame =
      __atomic_load_n(&r->midi[*next].frame, __ATOMIC_RELAXED);
    if (frame >= end)
      break;
    if (frame >= audio.seg_start)
      k += (uint32_t)make_event(&r->midi[*next], k, &used);
  }
  if (k == 0)
    return;
  audio.list.n_events = (int32_t)k;
  audio.list.reserved = 0;
  pb_vst_effect_t* fx = audio.plugin->effect;
  (void)fx->dispatcher(fx, PB_VST_EFF_PROCESS_EVENTS, 0, 0, &audio.list, 0.0f);
}

/* ------------------------------------------------------------ process */

static void
run_segment(int dbl, uint32_t n_in, uint32_t n_out, uint32_t n)
{
  const size_t sample = dbl ? sizeof(double) : sizeof(float);
  const size_t skip = (size_t)audio.seg_start * sample;
  for (uint32_t ch = 0; ch < n_in; ++ch)
    audio.ins[ch] =
      (uint8_t*)pb_shm_channel(&audio.shm, audio.seq, 0, ch) + skip;
  for (uint32_t ch = 0; ch < n_out; ++ch)
    audio.outs[ch] =
      (uint8_t*)pb_shm_channel(&audio.shm, audio.seq, 1, ch) + skip;
  pb_vst_effect_t* fx = audio.plugin->effect;
  if (dbl)
    fx->process_double_replacing(
      fx, (double**)audio.ins, (double**)audio.outs, (int32_t)n);
  else
    fx->process_replacing(
      fx, (float**)audio.ins, (float**)audio.outs, (int32_t)n);
}

static void
apply_param(const struct pb_shm_param_change* src)
{
  struct pb_shm_param_change c;
  memcpy(&c, src, sizeof c);
  pb_vst_effect_t* fx = audio.plugin->effect;
  if (c.index < 0 || c.index >= fx->num_params || !(c.value == c.value))
    return;
  const float v = c.value < 0.0f ? 0.0f : c.value > 1.0f ? 1.0f : c.value;
  fx->set_parameter(fx, c.index, v);
}

static uint32_t
clamp_count(const uint32_t* word, uint32_t max)
{
  const uint32_t n = __atomic_load_n(word, __ATOMIC_RELAXED);
  return n < max ? n : max;
}

/* Split the block at each timed parameter change past frame 0. */
static void
run_block(int dbl, uint32_t n_in, uint32_t n_out)
{
  const struct pb_shm_request* r = audio.req;
  const uint32_t n_params = clamp_count(&r->n_param_changes, PB_SHM_PARAM_MAX);
  const uint32_t n_midi = clamp_count(&r->n_midi, PB_SHM_MIDI_MAX);
  uint32_t pi = 0;
  uint32_t mi = 0;
  audio.seg_start = 0;
  while (audio.seg_start < audio.n_frames) {
    while (pi < n_params &&
           __atomic_load_n(&r->params[pi].frame, __ATOMIC_RELAXED) <=
             audio.seg_start)
      apply_param(&r->params[pi++]);
    uint32_t end = audio.n_frames;
    if (pi < n_params) {
      const uint32_t f =
        __atomic_load_n(&r->params[pi].frame, __ATOMIC_RELAXED);
      end = f < end ? f : end;
    }
    send_midi(n_midi, &mi, end);
    run_segment(dbl, n_in, n_out, end - audio.seg_start);
    audio.seg_start = end;
  }
}

static int32_t
check_request(int* dbl, uint32_t* n_in, uint32_t* n_out)
{
  const struct pb_shm_request* r = audio.req;
  const pb_vst_effect_t* fx = audio.plugin->effect;
  audio.n_frames = __atomic_load_n(&r->n_frames, __ATOMIC_RELAXED);
  *dbl =
    __atomic_load_n(&r->precision, __ATOMIC_RELAXED) == PB_SHM_PRECISION_DOUBLE;
  if (audio.n_frames == 0 || audio.n_frames > audio.shm.max_frames)
    return PB_ERR_INVALID;
  if (fx->num_inputs < 0 || fx->num_outputs < 0 ||
      (uint32_t)fx->num_inputs > audio.shm.n_in_channels ||
      (uint32_t)fx->num_outputs > audio.shm.n_out_channels)
    return PB_ERR_UNSUPPORTED;
  if (*dbl ? !fx->process_double_replacing : !fx->process_replacing)
    return PB_ERR_UNSUPPORTED;
  *n_in = (uint32_t)fx->num_inputs;
  *n_out = (uint32_t)fx->num_outputs;
  return PB_OK;
}

/* Outputs of a slot cleared ahead of its next request (preclear()):
 * written and read by the thread that holds the claim. */
static struct
{
  size_t bytes; /* per channel, from the start */
  uint32_t n_out;
} cleared[PB_SHM_SLOTS];

static void
clear_outputs(int dbl, uint32_t n_out)
{
  const size_t bytes =
    (size_t)audio.n_frames * (dbl ? sizeof(double) : sizeof(float));
  const uint32_t k = audio.seq % PB_SHM_SLOTS;
  if (cleared[k].bytes < bytes || cleared[k].n_out < n_out)
    for (uint32_t ch = 0; ch < n_out; ++ch)
      memset(pb_shm_channel(&audio.shm, audio.seq, 1, ch), 0, bytes);
  cleared[k].bytes = 0; /* the plugin writes them now */
}

/* Run request `seq`, claimed by this thread. */
static void
do_block(uint32_t seq)
{
  struct pb_shm_slot* slot = pb_shm_slot(&audio.shm, seq);
  struct pb_shm_reply* reply = &slot->reply;
  audio.seq = seq;
  audio.req = &slot->request;
  audio.rep = reply;
  int dbl = 0;
  uint32_t n_in = 0;
  uint32_t n_out = 0;
  reply->n_midi = 0;
  reply->sysex_bytes = 0;
  reply->n_automation = 0;
  reply->n_param_events = 0;
  reply->n_param_dropped = 0;
  reply->plugin_ns = 0;
  audio.n_param_events = 0;
  audio.out_bytes = 0;
  reply->status = check_request(&dbl, &n_in, &n_out);
  if (reply->status != PB_OK) {
    audio.began_ns = audio.ended_ns = pb_clock_now_ns();
    return;
  }
  audio.out_bytes =
    (size_t)audio.n_frames * (dbl ? sizeof(double) : sizeof(float));
  memcpy(&audio.transport, &audio.req->transport, sizeof audio.transport);
  clear_outputs(dbl, n_out);
  (void)fesetenv(&audio.fenv);
  in_block = 1;
  audio.began_ns = pb_clock_now_ns();
  run_block(dbl, n_in, n_out);
  audio.ended_ns = pb_clock_now_ns();
  const uint64_t took = audio.ended_ns - audio.began_ns;
  in_block = 0;
  reply->plugin_ns = took < UINT32_MAX ? (uint32_t)took : UINT32_MAX;
}

/* ------------------------------------------------------------ placement
 *
 * On a machine whose idle vCPUs halt, a futex wake that crosses CPUs costs
 * ~23 µs, one on the same CPU 4-18 µs (more the longer the CPU idled),
 * and a request seen by a thread that spins on another CPU ~0.2 µs;
 * spinning on the CPU the other side needs costs a whole time slice.  So
 * the thread spins only while the host's last call ran on another CPU:
 *  - for SPIN_AFTER_NS after each reply, B2B_SPIN_NS after one to a
 *    request that came back to back (offline rendering), or for
 *    HOT_IDLE_NS in hot mode;
 *  - around the expected arrival of the next request, when the host calls
 *    at a steady period (a host paced by its audio device): the thread
 *    sleeps with a timer until it is due, less PB_ANT_LEAD_NS and how late
 *    such timers fire most times, then spins until PB_ANT_TRAIL_NS (or how
 *    late the host rings most times, up to a quarter of the period) after
 *    (bridge/anticipate.c learns the period, the phase and both).  At 64
 *    frames that costs about a sixth of a CPU, at 512 3 %, and saves the
 *    wake-up.
 * and it chooses its CPU by how it waits:
 *  - to spin, away from the caller's CPU;
 *  - asleep without a timer (past the window, or an irregular host), on
 *    the caller's CPU: the host rings from there, awake, so the wake-up
 *    costs a few µs instead of a halted vCPU's tens or hundreds; unless
 *    the standby thread (below) waits there: then the host calls that,
 *    and this thread sleeps where it is, ready to spin after;
 *  - a host calling back to back on this thread's CPU (it was woken
 *    there) makes it move away after BACK_TO_BACK_RUN calls, to spin;
 *  - where it cannot move (one allowed CPU), it waits for the next
 *    request of such a host by yielding the CPU (keep_yielding()), and
 *    the host yields to it: two sched_yield()s a round trip, no futex.
 * Moving is one sched_setaffinity of this thread, made only when the
 * wanted CPU changes; with a single allowed CPU it never moves. */

enum
{
  SPIN_AFTER_NS = 50000,     /* default: wait this long awake for the next */
  B2B_SPIN_NS = 1000000,     /* ... after a request that came back to back */
  HOT_IDLE_NS = 50000000,    /* hot mode: idle this long, then sleep */
  HOT_IDLE_RT_NS = 10000000, /* ... when real-time: it shuts out others */
  FOLLOW_GAP_NS = 200000,    /* a later request: a paced or irregular host */
  BACK_TO_BACK_NS = 50000,   /* a sooner one on the same CPU: move away */
  BACK_TO_BACK_RUN = 4,      /* ... after this many in a row */
  SPIN_CHECK_EVERY = 32,     /* spin iterations between clock reads */
  YIELD_EVERY_NS = 2000,     /* a spin gives its CPU away this often */
  PREEMPTED_NS = 500000,     /* a pause this long in a spin: preempted */
  CONTENDED_NS = 2000000,    /* then do not spin for this long */
  STOP_JOIN_NS = 10000000,   /* pb_audio_stop() wakes the thread this often */
};

static struct
{
  cpu_set_t allowed; /* of the thread when it started */
  int n_allowed;
  uint32_t cpu;           /* as last published */
  uint64_t done_ns;       /* when the last reply was published */
  uint64_t no_spin_until; /* the CPUs are contended: sleep, not spin */
  pb_anticipate_t ant;    /* the host's period and phase, if steady */
  int close_run;          /* back-to-back requests on the caller's CPU */
  uint32_t standby_for;   /* the host's CPU the standby was last sent to */
  uint64_t gap_ns;        /* from the last reply to the request after it */
} place;

static void
publish_cpu(struct pb_shm_header* h)
{
  const uint32_t cpu = pb_shm_cpu();
  if (cpu != place.cpu) {
    place.cpu = cpu;
    pb_shm_store(&h->bridge_cpu, cpu);
  }
}

/* Whether this thread may run both on `host` and elsewhere. */
static int
can_move(uint32_t host)
{
  return place.n_allowed >= 2 && host < CPU_SETSIZE &&
         CPU_ISSET(host, &place.allowed);
}

/* Run on `cpu` only, or anywhere allowed but there. */
static void
move(struct pb_shm_header* h, uint32_t cpu, int only)
{
  /* Until it has moved, the host must not spin for this thread: it may
   * land on the host's CPU. */
  place.cpu = PB_SHM_NO_CPU;
  pb_shm_store(&h->bridge_cpu, PB_SHM_NO_CPU);
  cpu_set_t set = place.allowed;
  if (only) {
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
  } else {
    CPU_CLR(cpu, &set);
  }
  (void)sched_setaffinity(0, sizeof set, &set);
  publish_cpu(h);
}

/* The host's word for when it rang request `seq` (read it before the
 * reply: the host may reuse the slot after). */
static uint64_t
sent_word(uint32_t seq)
{
  const struct pb_shm_request* r = &pb_shm_slot(&audio.shm, seq)->request;
  return (uint64_t)__atomic_load_n(&r->sent_ns_hi, __ATOMIC_RELAXED) << 32 |
         __atomic_load_n(&r->sent_ns_lo, __ATOMIC_RELAXED);
}

/* When the host rang, by its word `sent` (a wake-up would add its own
 * latency to `now`, and the standby may have answered the request a
 * period ago); `now` if that is not plausible. */
static uint64_t
sent_at(uint64_t sent, uint64_t now)
{
  return sent <= now && now - sent < PB_ANT_STEADY_MAX_NS ? sent : now;
}

/* Whether to leave the caller's CPU after this request (see above): the
 * thread runs the request where it found it, but a host that calls back
 * to back on the CPU this thread shares with it (the request came before
 * the thread went to sleep, or BACK_TO_BACK_RUN times soon after a
 * reply) is better served by a thread spinning elsewhere. */
static int
leave_after(struct pb_shm_header* h, int slept, uint64_t gap_ns)
{
  const uint32_t host = pb_shm_load(&h->host_cpu);
  if (!can_move(host))
    return 0;
  publish_cpu(h);
  if (place.cpu != host || (slept && gap_ns >= BACK_TO_BACK_NS)) {
    place.close_run = 0;
    return 0;
  }
  if (slept && ++place.close_run < BACK_TO_BACK_RUN)
    return 0;
  place.close_run = 0;
  return 1;
}

/* ------------------------------------------------------------ waiting */

static int
apart_from_host(const struct pb_shm_header* h)
{
  const uint32_t host = pb_shm_load(&h->host_cpu);
  return place.cpu != PB_SHM_NO_CPU && host != PB_SHM_NO_CPU &&
         host != place.cpu;
}

static int
keep_spinning(const struct pb_shm_header* h, uint64_t now, uint64_t idle_ns)
{
  if (!apart_from_host(h))
    return 0;
  /* Hot mode asked for spinning, contended or not. */
  if (pb_shm_load(&h->hot_mode) &&
      idle_ns < (audio.realtime ? HOT_IDLE_RT_NS : HOT_IDLE_NS))
    return 1;
  if (now < place.no_spin_until)
    return 0;
  /* A host calling back to back gets longer: a pause of its thread (the
   * VM takes a vCPU away for up to a ms at times) must not cost it the
   * wake-up of a halted one. */
  if (idle_ns < (place.gap_ns < BACK_TO_BACK_NS ? B2B_SPIN_NS : SPIN_AFTER_NS))
    return 1;
  return pb_anticipate_in_window(&place.ant, now);
}

/* Whether to wait for the next request by yielding the host's CPU, which
 * this thread shares, instead of sleeping: after a request that came back
 * to back (or in hot mode), when neither side runs real-time.  The host
 * then yields too (host/audio.c): a round trip is two sched_yield()s and
 * no futex call.  A yield passes the CPU only when someone else wants it,
 * so the host's other work goes on; and the thread sleeps after as long
 * as it would spin elsewhere. */
static int
keep_yielding(const struct pb_shm_header* h, uint64_t idle_ns)
{
  if (audio.realtime || place.cpu == PB_SHM_NO_CPU ||
      pb_shm_load(&h->host_cpu) != place.cpu)
    return 0;
  if (pb_shm_load(&h->hot_mode))
    return idle_ns < HOT_IDLE_NS;
  return place.gap_ns < BACK_TO_BACK_NS && idle_ns < B2B_SPIN_NS;
}

/* When to wake: at the start of the window around a steady host's next
 * request (see pb_anticipate_wake()); 0: no limit. */
static uint64_t
wake_at(const struct pb_shm_header* h, uint64_t now)
{
  const uint64_t wake = pb_anticipate_wake(&place.ant);
  if (!pb_anticipate_steady(&place.ant) ||
      !can_move(pb_shm_load(&h->host_cpu)) || now >= wake)
    return 0;
  return wake;
}

/* Whether the standby thread keeps the host's CPU (see standby_main()):
 * then this thread need not wait there. */
static int
standby_covers(const struct pb_shm_header* h)
{
  return audio.standby_running && can_move(pb_shm_load(&h->host_cpu));
}

/* Go to the host's CPU (`on` 1) or leave it.  Asleep, this thread waits
 * there: the host's CPU is awake when it rings, and a wake-up there costs
 * a few µs where one of a halted CPU costs tens or hundreds; it spins
 * elsewhere. */
static void
settle(struct pb_shm_header* h, int on)
{
  const uint32_t host = pb_shm_load(&h->host_cpu);
  if (can_move(host) && (place.cpu == host) != on)
    move(h, host, on);
}

/* Tell the standby the window this thread sleeps until (`wake`, its
 * start; 0: none).  start last, so that a reader that sees it sees the
 * rest (see standby_window()). */
static void
publish_window(uint64_t wake)
{
  if (!wake) {
    atomic_store_explicit(&audio.win_start, 0u, memory_order_release);
    return;
  }
  atomic_store_explicit(&audio.win_start, 0u, memory_order_release);
  atomic_store_explicit(&audio.win_end,
                        place.ant.due_ns + place.ant.trail_ns,
                        memory_order_release);
  atomic_store_explicit(
    &audio.win_period, place.ant.period_ns, memory_order_release);
  atomic_store_explicit(&audio.win_start, wake, memory_order_release);
}

/* Sleep on request_seq; the state says so first, so that the host knows
 * to wake this thread (see pb_shm_store_sc()).  Returns 1 if a request
 * came meanwhile.  Without a limit, the only other reason to wake is
 * pb_audio_stop(), which keeps ringing. */
static int
sleep_for_request(struct pb_shm_header* h, uint32_t seen, uint64_t limit_ns)
{
  pb_shm_store_sc(&h->bridge_state, PB_SHM_BRIDGE_SLEEPING);
  if (pb_shm_load_sc(&h->request_seq) == seen && !atomic_load(&audio.stop))
    (void)pb_shm_futex_wait(&h->request_seq, seen, limit_ns);
  pb_shm_store(&h->bridge_state, PB_SHM_BRIDGE_RUNNING);
  publish_cpu(h);
  return pb_shm_load(&h->request_seq) != seen;
}

/* The next request number, or `seen` once stop was asked; `*slept` says
 * whether the host had to wake this thread for it. */
static uint32_t
wait_request(struct pb_shm_header* h, uint32_t seen, int* slept)
{
  uint64_t idle_from = pb_clock_now_ns();
  uint64_t last = 0;
  uint64_t yielded = idle_from;
  int yielding = 0;
  *slept = 0;
  for (unsigned i = 1;; ++i) {
    const uint32_t seq = pb_shm_load(&h->request_seq);
    if (seq != seen)
      return seq;
    if (atomic_load(&audio.stop))
      return seen;
    /* From the first turn: on the caller's CPU, every pause is stolen
     * from it. */
    if (i % SPIN_CHECK_EVERY == 1 || yielding) {
      const uint64_t now = pb_clock_now_ns();
      /* Preempted while spinning: the CPUs are contended, and spinning
       * takes time the host (or another program) needs.  (A yield gives
       * the CPU away on purpose.) */
      if (last && now - last > PREEMPTED_NS && !yielding)
        place.no_spin_until = now + CONTENDED_NS;
      last = now;
      publish_cpu(h);
      const int spinning = keep_spinning(h, now, now - idle_from);
      yielding = !spinning && keep_yielding(h, now - idle_from);
      if (yielding) {
        /* Every turn: the host is back only after this yield. */
        (void)sched_yield();
        yielded = pb_clock_now_ns();
        continue;
      }
      if (!spinning) {
        const uint64_t wake = wake_at(h, now);
        /* A timed sleep ends in spinning: away from the host.  Else the
         * host rings after a pause (a steady host past the window, or an
         * irregular one): wait on its CPU.  A host calling back to back
         * that paused once finds this thread where it spins. */
        if (wake || standby_covers(h))
          settle(h, 0);
        else if (pb_anticipate_steady(&place.ant) ||
                 place.gap_ns >= FOLLOW_GAP_NS)
          settle(h, 1);
        /* Moving may have taken a while. */
        const uint64_t moved = pb_clock_now_ns();
        const uint64_t limit = wake > moved ? wake - moved : wake ? 1u : 0u;
        atomic_store_explicit(&audio.untimed, !limit, memory_order_relaxed);
        /* A steady host past its window is late: the window it missed
         * stays the standby's, which watches it longer than this thread
         * (standby_window()).  Taken back, a standby whose own timer
         * came late (the host's CPU halts while the host sleeps) found
         * none and slept through the late ring. */
        if (limit || !pb_anticipate_steady(&place.ant))
          publish_window(limit ? wake : 0u);
        *slept = sleep_for_request(h, seen, limit);
        if (wake) { /* woken by the request: at least that late */
          const uint64_t t = pb_clock_now_ns();
          if (!*slept || t > wake)
            pb_anticipate_timer(&place.ant, wake, t);
        }
        idle_from = place.done_ns; /* not hot again after a timed sleep */
        last = 0;
        yielded = pb_clock_now_ns();
      } else if (now - yielded >= YIELD_EVERY_NS) {
        /* Another thread waiting for this CPU (another bridge's spinner
         * with a request, the host's other work) gets it now, not after
         * a time slice of milliseconds; alone, this costs 0.2 µs. */
        (void)sched_yield();
        yielded = pb_clock_now_ns();
      }
    }
    pb_shm_relax();
  }
}

/* Answer request `seq`, just run by this thread (do_block()).  The stamp
 * is the plugin's end: what comes after it here takes tens of ns, and
 * another clock read would add them to every call. */
static void
reply(struct pb_shm_header* h, uint32_t seq)
{
  __atomic_store_n(&pb_shm_slot(&audio.shm, seq)->reply.replied_ns,
                   (uint32_t)audio.ended_ns,
                   __ATOMIC_RELAXED);
  __atomic_store_n(&audio.finished, seq, __ATOMIC_RELEASE);
  pb_shm_store_sc(&h->done_seq, seq);
  if (pb_shm_load_sc(&h->host_state) == PB_SHM_HOST_SLEEPING)
    pb_shm_futex_wake(&h->done_seq);
}

enum
{
  CLAIMED = 1, /* this thread runs the block */
  TAKEN = 0,   /* the other thread took it, or a newer one */
  BUSY = -1,   /* the other thread still runs the block before */
};

/* Take request `seq` for this thread: move the claim to it from `from`,
 * once the block of that number is finished, so that the blocks run one
 * at a time, in order.  The claim is published for the host
 * (host/audio.c hands a block not taken soon to the standby). */
static int
claim(struct pb_shm_header* h, uint32_t seq, uint32_t from)
{
  if (__atomic_load_n(&audio.finished, __ATOMIC_ACQUIRE) != from)
    return BUSY;
  if (!__atomic_compare_exchange_n(
        &audio.claimed, &from, seq, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return TAKEN;
  pb_shm_store(&h->claim_seq, seq);
  return CLAIMED;
}

enum
{
  BUSY_SPIN_NS = 1000000, /* wait awake this long for the block before */
  BUSY_POLL_NS = 1000000, /* ... then look this often */
};

/* Audio thread: claim the next request number up to `rung`, the last the
 * host rang, into `*seq`; 0 if the standby took every one (or stop was
 * asked).  The numbers come one by one: a host may queue PB_SHM_SLOTS;
 * more is a scribbled word: go to it.  While the standby still runs the
 * block before (a block queued behind the one the host handed it), wait:
 * the standby runs on the host's CPU, so yield this one in case it runs
 * there too. */
static int
claim_next(struct pb_shm_header* h, uint32_t rung, uint32_t* seq)
{
  const uint64_t from = pb_clock_now_ns();
  for (;;) {
    const uint32_t c = __atomic_load_n(&audio.claimed, __ATOMIC_ACQUIRE);
    if ((int32_t)(rung - c) <= 0)
      return 0;
    *seq = rung - c <= PB_SHM_SLOTS ? c + 1u : rung;
    const int got = claim(h, *seq, c);
    if (got == CLAIMED)
      return 1;
    if (got == TAKEN)
      continue;
    if (atomic_load(&audio.stop))
      return 0;
    const uint32_t done = __atomic_load_n(&audio.finished, __ATOMIC_ACQUIRE);
    if (pb_clock_now_ns() - from < BUSY_SPIN_NS)
      (void)sched_yield();
    else /* a block this long: no need to watch it awake */
      (void)pb_shm_futex_wait(&audio.finished, done, BUSY_POLL_NS);
  }
}

/* Audio thread, right after its reply to `seq`: clear the outputs of the
 * next request's slot now, while the host reads this reply, instead of
 * on that request's way (on different CPUs, that clear had to take the
 * cache lines back from the host's, which read them last: 0.4 µs of a
 * 512-frame stereo call).  Only while nothing is rung after `seq` (a
 * queued block clears its own), once the host has read that slot's last
 * reply (collected_seq), and on another CPU than the host's (on its CPU,
 * the host would wait for this).  The claim moves to a number no request
 * has meanwhile, so that the standby cannot take that next request and
 * run the plugin on the buffers being cleared. */
static void
preclear(struct pb_shm_header* h, uint32_t seq)
{
  const uint32_t next = seq + 1u;
  if (pb_shm_load(&h->request_seq) != seq ||
      pb_shm_load(&h->collected_seq) != seq - 1u || !apart_from_host(h))
    return;
  /* Half the number space away: no request is near it. */
  const uint32_t clearing = seq ^ 0x80000000u;
  uint32_t c = seq;
  if (!__atomic_compare_exchange_n(
        &audio.claimed, &c, clearing, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return;
  const uint32_t k = next % PB_SHM_SLOTS;
  const pb_vst_effect_t* fx = audio.plugin->effect;
  const uint32_t n_out =
    fx->num_outputs > 0 && (uint32_t)fx->num_outputs <= audio.shm.n_out_channels
      ? (uint32_t)fx->num_outputs
      : 0u;
  const size_t bytes = audio.out_bytes; /* the next is likely the same */
  for (uint32_t ch = 0; ch < n_out; ++ch)
    memset(pb_shm_channel(&audio.shm, next, 1, ch), 0, bytes);
  cleared[k].bytes = bytes;
  cleared[k].n_out = n_out;
  __atomic_store_n(&audio.claimed, seq, __ATOMIC_RELEASE);
}

/* Take the priority asked for; returns what the thread runs at (see
 * pb_shm_reply.audio_priority). */
static int32_t
take_priority(void)
{
  struct sched_param sp;
  int policy = SCHED_OTHER;
  if (audio.priority > 0) {
    memset(&sp, 0, sizeof sp);
    sp.sched_priority = audio.priority;
    const int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    return err ? -err : audio.priority;
  }
  if (pthread_getschedparam(pthread_self(), &policy, &sp) == 0 &&
      (policy == SCHED_FIFO || policy == SCHED_RR))
    return sp.sched_priority;
  return 0;
}

/* The set-up both threads share.  The anticipating timer must not fire
 * 50 µs late (the default slack); without the alternate stack, a plugin
 * overflowing the thread's stack dies unnoted. */
static int32_t
prepare_thread(unsigned which)
{
  (void)prctl(PR_SET_TIMERSLACK, 1ul, 0ul, 0ul, 0ul);
  (void)pb_crash_audio_stack(which);
  return take_priority();
}

/* ------------------------------------------------------------ standby
 *
 * A second thread that sleeps on the host's CPU, pinned there, for the
 * blocks the audio thread would be late for: the host calls it instead of
 * waking a sleeping audio thread (whose vCPU may have halted), and when a
 * spinning one has not taken the request soon (its vCPU was paused, which
 * this VM does for 20 µs to ms at a time, hundreds of times a second).
 * Either way the wake-up is one on the caller's own CPU, awake since it
 * just rang.  The plugin sees its blocks from two threads, never at once:
 * the claim on claim_seq decides.  The standby then wakes the audio
 * thread if it slept without a timer, so that it follows the host again.  The
 * audio thread wakes the standby when the host's CPU changes; a wake-up that
 * crosses the standby's way to sleep is caught by its timer. */

enum
{
  /* Look where the host runs at least this often. */
  STANDBY_CHECK_NS = 250000000,
};

/* Pin this thread to the host's CPU if it runs there now; returns the CPU
 * to publish, or PB_SHM_NO_CPU. */
static uint32_t
standby_place(const struct pb_shm_header* h, uint32_t where)
{
  const uint32_t host = pb_shm_load(&h->host_cpu);
  if (!can_move(host))
    return PB_SHM_NO_CPU;
  if (host != where) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(host, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
      return PB_SHM_NO_CPU;
  }
  return pb_shm_cpu() == host ? host : PB_SHM_NO_CPU;
}

/* The host's ring times of the blocks the standby took, for the audio
 * thread to learn the host's period from all of them: asleep, it sees
 * only some (a thread timed for a period of 4096 frames would see one in
 * 64 of a host now calling every 64, and learn the old period again).
 * One writer, the standby; one reader, the audio thread; a reader more
 * than TAKEN_MAX behind skips the oldest. */
enum
{
  TAKEN_MAX = 64,
};

static struct
{
  uint64_t sent[TAKEN_MAX];
  atomic_uint head; /* entries written, by the standby */
  unsigned tail;    /* entries learnt, by the audio thread */
} taken;

/* Standby: note the ring time of the block just claimed (the host does
 * not write the next request before this one's reply). */
static void
note_taken(uint32_t seq)
{
  const unsigned head = atomic_load_explicit(&taken.head, memory_order_relaxed);
  taken.sent[head % TAKEN_MAX] = sent_at(sent_word(seq), pb_clock_now_ns());
  atomic_store_explicit(&taken.head, head + 1u, memory_order_release);
}

/* Audio thread: learn the ring times the standby noted since the last
 * call, in order. */
static void
learn_taken(void)
{
  const unsigned head = atomic_load_explicit(&taken.head, memory_order_acquire);
  if (head - taken.tail > TAKEN_MAX)
    taken.tail = head - TAKEN_MAX;
  for (; taken.tail != head; ++taken.tail)
    pb_anticipate_arrival(&place.ant, taken.sent[taken.tail % TAKEN_MAX]);
}

/* Standby: the next window to watch after `after` (the end of the last
 * one watched): the one the audio thread slept for last, or, if it has
 * not slept for a newer one yet, that one a period on.  0: none (the
 * host is not steady, or the audio thread spins all along). */
static int
standby_window(uint64_t now, uint64_t after, uint64_t* start, uint64_t* end)
{
  const uint64_t s =
    atomic_load_explicit(&audio.win_start, memory_order_acquire);
  uint64_t e = atomic_load_explicit(&audio.win_end, memory_order_acquire);
  const uint64_t p =
    atomic_load_explicit(&audio.win_period, memory_order_acquire);
  if (!s || !p || s >= e ||
      atomic_load_explicit(&audio.win_start, memory_order_acquire) != s)
    return 0;
  /* The audio thread's window, once watched, a period on. */
  *start = e <= after ? s + p : s;
  /* Past the audio thread's window too: a host that rings later than it
   * most times, whose CPU this one keeps awake meanwhile. */
  e = *start + p / 4u * 3u;
  if (e <= after || e <= now)
    return 0;
  *end = e;
  return 1;
}

/* Standby: spin on the host's CPU, giving it away at every turn, through
 * the window of the next request, until the host hands this thread a
 * block (then its call needs no wake-up: a yield of the host's reaches
 * this thread, 3 µs a round trip here against 20-30 for a futex wake-up
 * of a sleeping standby), the audio thread took the request, or the
 * window ends.  The yields keep the host's CPU free for anyone else. */
static void
standby_watch(struct pb_shm_header* h, uint32_t seen, uint64_t end)
{
  const uint32_t rung = pb_shm_load(&h->request_seq);
  while (pb_shm_load(&h->standby_seq) == seen && !atomic_load(&audio.stop)) {
    const uint32_t now_rung = pb_shm_load(&h->request_seq);
    if ((now_rung != rung && pb_shm_load(&h->claim_seq) == now_rung) ||
        pb_clock_now_ns() >= end)
      return;
    (void)sched_yield();
  }
}

static void*
standby_main(void* arg)
{
  (void)arg;
  struct pb_shm_header* h = &audio.shm.block->header;
  /* Spinning at a real-time priority would shut the host out. */
  const int may_watch = prepare_thread(1) <= 0;
  uint32_t seen = pb_shm_load(&h->standby_seq);
  uint32_t where = PB_SHM_NO_CPU;
  uint64_t watched = 0; /* the end of the last window watched */
  while (!atomic_load(&audio.stop)) {
    where = standby_place(h, where);
    pb_shm_store_sc(&h->standby_cpu, where);
    const uint64_t now = pb_clock_now_ns();
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t limit = STANDBY_CHECK_NS;
    if (may_watch && where != PB_SHM_NO_CPU &&
        standby_window(now, watched, &start, &end)) {
      if (now >= start) {
        watched = end;
        standby_watch(h, seen, end);
        limit = 0;
      } else if (start - now < limit) {
        limit = start - now;
      }
    }
    if (limit && pb_shm_load_sc(&h->standby_seq) == seen &&
        !atomic_load(&audio.stop))
      (void)pb_shm_futex_wait(&h->standby_seq, seen, limit);
    const uint32_t seq = pb_shm_load(&h->standby_seq);
    if (seq == seen)
      continue;
    pb_shm_store(&h->standby_cpu, PB_SHM_NO_CPU);
    seen = seq;
    /* Rung (a host queueing blocks may have rung the next too), and the
     * host's oldest: the block before is done. */
    if ((int32_t)(pb_shm_load(&h->request_seq) - seq) < 0 ||
        claim(h, seq, seq - 1u) != CLAIMED)
      continue;
    note_taken(seq);
    do_block(seq);
    reply(h, seq);
    /* The host waits on this CPU, yielding (host/audio.c): give it the
     * CPU now, not after the wake-up below and the way back to sleep
     * (10-20 µs before the host was back, 4 µs with this). */
    if (pb_shm_load_sc(&h->host_state) == PB_SHM_HOST_WAITING)
      (void)sched_yield();
    /* A timer ends the other kind of sleep soon enough. */
    if (atomic_load_explicit(&audio.untimed, memory_order_relaxed) &&
        pb_shm_load_sc(&h->bridge_state) == PB_SHM_BRIDGE_SLEEPING)
      pb_shm_futex_wake(&h->request_seq);
  }
  pb_shm_store_sc(&h->standby_cpu, PB_SHM_NO_CPU);
  return NULL;
}

/* After a request: send the standby to the host's CPU if that changed. */
static void
standby_follow(struct pb_shm_header* h)
{
  const uint32_t host = pb_shm_load(&h->host_cpu);
  if (audio.standby_running && host != place.standby_for) {
    place.standby_for = host;
    pb_shm_futex_wake(&h->standby_seq);
  }
}

/* ------------------------------------------------------------ thread */

static void*
audio_main(void* arg)
{
  (void)arg;
  struct pb_shm_header* h = &audio.shm.block->header;
  uint32_t seen = __atomic_load_n(&audio.finished, __ATOMIC_ACQUIRE);
  place.cpu = PB_SHM_NO_CPU;
  place.done_ns = pb_clock_now_ns();
  place.no_spin_until = 0;
  pb_anticipate_init(&place.ant, place.done_ns);
  place.close_run = 0;
  place.standby_for = PB_SHM_NO_CPU;
  const int32_t priority = prepare_thread(0);
  audio.realtime = priority > 0;
  __atomic_store_n(&h->audio_priority, priority, __ATOMIC_RELEASE);
  publish_cpu(h);
  pb_shm_store(&h->bridge_state, PB_SHM_BRIDGE_RUNNING);
  for (;;) {
    int slept = 0;
    const uint32_t rung = wait_request(h, seen, &slept);
    if (rung == seen)
      break;
    uint32_t seq = rung;
    const int mine = claim_next(h, rung, &seq);
    seen = mine ? seq : rung;
    if (!mine) {
      place.gap_ns = pb_clock_now_ns() - place.done_ns;
      learn_taken();
      /* The standby ran it, on the host's CPU: leave that CPU to it. */
      if (standby_covers(h))
        settle(h, 0);
      place.done_ns = pb_clock_now_ns();
      standby_follow(h);
      continue;
    }
    /* The block first, the bookkeeping after the reply: the host waits
     * for the one, not the other.  Seen when the plugin's calls began. */
    const uint64_t sent = sent_word(seq);
    do_block(seq);
    reply(h, seq);
    const uint64_t now = audio.began_ns;
    place.gap_ns = now - place.done_ns;
    /* In the order the host rang: the standby's first, all older. */
    learn_taken();
    pb_anticipate_arrival(&place.ant, sent_at(sent, now));
    const int leave = leave_after(h, slept, place.gap_ns);
    preclear(h, seq);
    place.done_ns = pb_clock_now_ns();
    if (leave) /* after the reply: the host does not wait for the move */
      settle(h, 0);
    standby_follow(h);
  }
  pb_shm_store_sc(&h->bridge_state, PB_SHM_BRIDGE_SLEEPING);
  return NULL;
}

void
pb_audio_set_priority(int priority)
{
  audio.priority = priority;
}

static void stop_threads(void);

int
pb_audio_start(pb_vst2_t* plugin)
{
  if (!audio.shm.block || audio.running)
    return 0;
  if (fegetenv(&audio.fenv))
    return -EINVAL;
  audio.plugin = plugin;
  atomic_store(&audio.stop, 0);
  /* Before either thread starts: both read it. */
  atomic_store(&taken.head, 0u);
  const uint32_t done = pb_shm_load(&audio.shm.block->header.done_seq);
  __atomic_store_n(&audio.claimed, done, __ATOMIC_RELEASE);
  __atomic_store_n(&audio.finished, done, __ATOMIC_RELEASE);
  taken.tail = 0;
  CPU_ZERO(&place.allowed);
  place.n_allowed = 0;
  if (sched_getaffinity(0, sizeof place.allowed, &place.allowed) == 0)
    place.n_allowed = CPU_COUNT(&place.allowed);
  /* With one CPU allowed, the audio thread already waits on the host's. */
  audio.standby_running =
    place.n_allowed >= 2 && !pb_shm_load(&audio.shm.block->header.one_thread) &&
    pthread_create(&audio.standby, NULL, standby_main, NULL) == 0;
  const int err = pthread_create(&audio.thread, NULL, audio_main, NULL);
  if (err) {
    stop_threads();
    return -err;
  }
  audio.running = 1;
  return 0;
}

/* A thread may have checked `stop` just before the wake and sleep past
 * it: ring its word until it is gone. */
static void
join_ringing(pthread_t thread, uint32_t* word)
{
  for (;;) {
    pb_shm_futex_wake(word);
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += STOP_JOIN_NS;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_nsec -= 1000000000L;
      ++ts.tv_sec;
    }
    if (pthread_timedjoin_np(thread, NULL, &ts) != ETIMEDOUT)
      break;
  }
}

static void
stop_threads(void)
{
  struct pb_shm_header* h = &audio.shm.block->header;
  atomic_store(&audio.stop, 1);
  if (audio.running)
    join_ringing(audio.thread, &h->request_seq);
  if (audio.standby_running)
    join_ringing(audio.standby, &h->standby_seq);
  audio.running = 0;
  audio.standby_running = 0;
}

void
pb_audio_stop(void)
{
  if (!audio.running)
    return;
  stop_threads();
  audio.plugin = NULL;
}
