/* The bridge's audio thread; see audio.h.
 *
 * Everything the thread touches is allocated before it starts: the event
 * list handed to effProcessEvents, private copies of sysex data (the host
 * may rewrite the shared block; the plugin may keep the pointers for the
 * block), the channel pointer arrays.  Counts and offsets read from the
 * shared block are read once and clamped before use. */
#define _POSIX_C_SOURCE 200809L

#include "bridge/audio.h"

#include "common/clock.h"
#include "common/shm.h"
#include "host/plugbox.h"

#include <errno.h>
#include <fenv.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

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
  int running;
  atomic_int stop;
  fenv_t fenv; /* of the main thread after the plugin opened */
  /* Audio thread only. */
  struct pb_shm_transport transport; /* of the block, read once */
  uint32_t seg_start;                /* first frame of the running call */
  uint32_t n_frames;
  struct event_list list;
  struct pb_vst_midi_event midi[PB_SHM_MIDI_MAX];
  struct pb_vst_sysex_event sysex[PB_SHM_MIDI_MAX];
  char sysex_bytes[PB_SHM_SYSEX_AREA];
  void* ins[PB_SHM_MAX_CHANNELS];
  void* outs[PB_SHM_MAX_CHANNELS];
} audio = { .shm = { .fd = -1 } };

enum
{
  STOP_POLL_NS = 100000000, /* the idle thread checks for stop this often */
};

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
  struct pb_shm_reply* r = &audio.shm.block->reply;
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

void
pb_audio_note_automation(void)
{
  if (in_block)
    ++audio.shm.block->reply.n_automation;
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
  const struct pb_shm_request* r = &audio.shm.block->request;
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
  const struct pb_shm_request* r = &audio.shm.block->request;
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
    audio.ins[ch] = (uint8_t*)pb_shm_channel(&audio.shm, 0, ch) + skip;
  for (uint32_t ch = 0; ch < n_out; ++ch)
    audio.outs[ch] = (uint8_t*)pb_shm_channel(&audio.shm, 1, ch) + skip;
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
  const struct pb_shm_request* r = &audio.shm.block->request;
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
  const struct pb_shm_request* r = &audio.shm.block->request;
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

static void
clear_outputs(int dbl, uint32_t n_out)
{
  const size_t bytes =
    (size_t)audio.n_frames * (dbl ? sizeof(double) : sizeof(float));
  for (uint32_t ch = 0; ch < n_out; ++ch)
    memset(pb_shm_channel(&audio.shm, 1, ch), 0, bytes);
}

static void
do_block(void)
{
  struct pb_shm_reply* reply = &audio.shm.block->reply;
  int dbl = 0;
  uint32_t n_in = 0;
  uint32_t n_out = 0;
  reply->n_midi = 0;
  reply->sysex_bytes = 0;
  reply->n_automation = 0;
  reply->status = check_request(&dbl, &n_in, &n_out);
  if (reply->status != PB_OK)
    return;
  memcpy(&audio.transport,
         &audio.shm.block->request.transport,
         sizeof audio.transport);
  clear_outputs(dbl, n_out);
  (void)fesetenv(&audio.fenv);
  in_block = 1;
  run_block(dbl, n_in, n_out);
  in_block = 0;
}

static void*
audio_main(void* arg)
{
  (void)arg;
  struct pb_shm_header* h = &audio.shm.block->header;
  uint32_t seen = pb_shm_load(&h->done_seq);
  for (;;) {
    if (atomic_load(&audio.stop))
      break;
    const uint32_t seq = pb_shm_load(&h->request_seq);
    if (seq == seen) {
      /* Bounded, so that a stop request is seen even when its wake-up
       * came between the check above and this wait. */
      (void)pb_shm_futex_wait(&h->request_seq, seen, STOP_POLL_NS);
      continue;
    }
    seen = seq;
    do_block();
    pb_shm_store(&h->done_seq, seq);
    pb_shm_futex_wake(&h->done_seq);
  }
  return NULL;
}

int
pb_audio_start(pb_vst2_t* plugin)
{
  if (!audio.shm.block || audio.running)
    return 0;
  if (fegetenv(&audio.fenv))
    return -EINVAL;
  audio.plugin = plugin;
  atomic_store(&audio.stop, 0);
  const int err = pthread_create(&audio.thread, NULL, audio_main, NULL);
  if (err)
    return -err;
  audio.running = 1;
  return 0;
}

void
pb_audio_stop(void)
{
  if (!audio.running)
    return;
  atomic_store(&audio.stop, 1);
  pb_shm_futex_wake(&audio.shm.block->header.request_seq);
  (void)pthread_join(audio.thread, NULL);
  audio.running = 0;
  audio.plugin = NULL;
}
