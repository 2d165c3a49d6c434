/* realpath() is X/Open. */
#define _XOPEN_SOURCE 700

#include "bridge/host_cb.h"

#include "bridge/audio.h"

#include "common/clock.h"
#include "common/shm.h"
#include "proto/message.h"

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a plugin learns about its host. */
#define HOST_VST_VERSION 2400
#define HOST_VENDOR "plugbox"
#define HOST_PRODUCT "plugbox-bridge"
#define HOST_VENDOR_VERSION 100
#define HOST_LANGUAGE_ENGLISH 1
#define HOST_AUTOMATION_OFF 1
#define HOST_STRING_BOUND 64 /* bytes we may write into a plugin's buffer */

/* The time a stopped transport reports until the host sends a real one. */
#define IDLE_TEMPO_BPM 120.0
#define IDLE_TIME_SIG 4

/* Written on the main thread, read from any thread a plugin calls back
 * from: the values that change after load are atomic. */
static struct
{
  pb_events_t* events;
  _Atomic(pb_vst_effect_t*) effect;
  _Atomic float sample_rate;
  _Atomic int32_t block_size;
  _Atomic int32_t latency; /* as the host last learned it */
  char directory[PATH_MAX];
} state;

/* Each thread gets its own, so a refill never races a reader on another
 * thread. */
static _Thread_local struct pb_vst_time_info time_info;

/* Host capabilities we answer yes to; anything else is 0 ("don't know"),
 * which is what VST hosts answer for unknown questions. */
static const char* const host_can_do[] = {
  "sendVstEvents",    "sendVstMidiEvent",    "sendVstTimeInfo",
  "receiveVstEvents", "receiveVstMidiEvent",
};

void
pb_host_cb_init(pb_events_t* events)
{
  state.events = events;
  atomic_store(&state.effect, NULL);
  atomic_store(&state.sample_rate, 48000.0f);
  atomic_store(&state.block_size, 512);
  snprintf(state.directory, sizeof state.directory, ".");
}

void
pb_host_cb_set_directory(const char* plugin_path)
{
  char resolved[PATH_MAX];
  const char* path = realpath(plugin_path, resolved) ? resolved : plugin_path;
  const char* slash = strrchr(path, '/');

  if (!slash)
    snprintf(state.directory, sizeof state.directory, ".");
  else if (slash == path)
    snprintf(state.directory, sizeof state.directory, "/");
  else
    snprintf(state.directory,
             sizeof state.directory,
             "%.*s",
             (int)(slash - path),
             path);
}

void
pb_host_cb_set_effect(pb_vst_effect_t* effect)
{
  atomic_store(&state.effect, effect);
}

void
pb_host_cb_note_latency(void)
{
  const pb_vst_effect_t* effect = atomic_load(&state.effect);
  atomic_store(&state.latency, effect ? effect->initial_delay : 0);
}

void
pb_host_cb_report_latency(void)
{
  const pb_vst_effect_t* effect = atomic_load(&state.effect);
  if (!effect)
    return;
  const int32_t delay = effect->initial_delay;
  if (atomic_exchange(&state.latency, delay) == delay)
    return;
  const pb_event_t ev = { .kind = PB_MSG_EV_LATENCY, .delay = delay };
  if (state.events)
    pb_events_push(state.events, &ev);
}

void
pb_host_cb_set_sample_rate(float hz)
{
  atomic_store_explicit(&state.sample_rate, hz, memory_order_relaxed);
}

void
pb_host_cb_set_block_size(int32_t n_frames)
{
  atomic_store_explicit(&state.block_size, n_frames, memory_order_relaxed);
}

static pb_vst_effect_t*
loaded_effect(void)
{
  return atomic_load(&state.effect);
}

static float
sample_rate(void)
{
  return atomic_load_explicit(&state.sample_rate, memory_order_relaxed);
}

static void
push_event(const pb_event_t* ev)
{
  if (state.events)
    pb_events_push(state.events, ev);
}

/* A plugin may name a parameter it does not have; the host would trip on
 * it, so such events are dropped here. */
static int
param_exists(int32_t index)
{
  const pb_vst_effect_t* effect = loaded_effect();

  return effect && index >= 0 && index < effect->num_params;
}

static intptr_t
automate(int32_t index, float value)
{
  if (!param_exists(index) || isnan(value))
    return 0;

  pb_event_t ev = { .kind = PB_MSG_EV_AUTOMATE, .index = (uint32_t)index };
  ev.value = value < 0.0f ? 0.0f : value > 1.0f ? 1.0f : value;
  /* From the audio thread in a block: into shared memory, no lock. */
  if (!pb_audio_param_event(PB_SHM_PARAM_AUTOMATE, index, ev.value))
    push_event(&ev);
  return 0;
}

static intptr_t
edit(uint32_t kind, int32_t index)
{
  if (!param_exists(index))
    return 0;

  const uint32_t shm_kind = kind == PB_MSG_EV_BEGIN_EDIT
                              ? PB_SHM_PARAM_BEGIN_EDIT
                              : PB_SHM_PARAM_END_EDIT;
  const pb_event_t ev = { .kind = kind, .index = (uint32_t)index };
  if (!pb_audio_param_event(shm_kind, index, 0.0f))
    push_event(&ev);
  return 1;
}

static intptr_t
io_changed(void)
{
  const pb_vst_effect_t* effect = loaded_effect();
  if (!effect)
    return 0;

  const pb_event_t ev = { .kind = PB_MSG_EV_IO_CHANGED,
                          .n_inputs = effect->num_inputs,
                          .n_outputs = effect->num_outputs,
                          .delay = effect->initial_delay };
  /* The host learns the delay from this notice: a later re-read that
   * finds the same must not report it again. */
  atomic_store(&state.latency, ev.delay);
  push_event(&ev);
  return 1;
}

static intptr_t
current_id(void)
{
  const pb_vst_effect_t* effect = loaded_effect();

  return effect ? effect->unique_id : 0;
}

/* 0 means connected: every pin the plugin declares is. */
static intptr_t
pin_connected(int32_t index, intptr_t is_input)
{
  const pb_vst_effect_t* effect = loaded_effect();
  if (!effect)
    return 0;

  const int32_t n_pins = is_input ? effect->num_inputs : effect->num_outputs;
  return index >= 0 && index < n_pins ? 0 : 1;
}

static struct pb_vst_time_info*
idle_time(void)
{
  memset(&time_info, 0, sizeof time_info);
  time_info.sample_rate = sample_rate();
  time_info.nano_seconds = (double)pb_clock_now_ns();
  time_info.tempo = IDLE_TEMPO_BPM;
  time_info.time_sig_numerator = IDLE_TIME_SIG;
  time_info.time_sig_denominator = IDLE_TIME_SIG;
  time_info.flags = PB_VST_TIME_NANOS_VALID | PB_VST_TIME_PPQ_POS_VALID |
                    PB_VST_TIME_TEMPO_VALID | PB_VST_TIME_BARS_VALID |
                    PB_VST_TIME_SIG_VALID;
  return &time_info;
}

static intptr_t
copy_string(void* ptr, const char* text)
{
  if (!ptr)
    return 0;

  snprintf((char*)ptr, HOST_STRING_BOUND, "%s", text);
  return 1;
}

static intptr_t
can_do(const void* ptr)
{
  if (!ptr)
    return 0;

  for (size_t i = 0; i < sizeof host_can_do / sizeof host_can_do[0]; ++i)
    if (!strcmp((const char*)ptr, host_can_do[i]))
      return 1;
  return 0;
}

/* Opcodes with no effect on the host's state. */
static intptr_t
answer_query(int32_t opcode, void* ptr)
{
  switch (opcode) {
    case PB_VST_HOST_VERSION:
      return HOST_VST_VERSION;
    case PB_VST_HOST_GET_TIME:
      if (pb_audio_in_block())
        return (intptr_t)pb_audio_time(sample_rate());
      return (intptr_t)idle_time();
    case PB_VST_HOST_GET_SAMPLE_RATE:
      return (intptr_t)sample_rate();
    case PB_VST_HOST_GET_BLOCK_SIZE:
      return atomic_load_explicit(&state.block_size, memory_order_relaxed);
    case PB_VST_HOST_GET_CURRENT_PROCESS_LEVEL:
      return pb_audio_in_block() ? PB_VST_LEVEL_REALTIME : PB_VST_LEVEL_USER;
    case PB_VST_HOST_GET_AUTOMATION_STATE:
      return HOST_AUTOMATION_OFF;
    case PB_VST_HOST_GET_VENDOR_STRING:
      return copy_string(ptr, HOST_VENDOR);
    case PB_VST_HOST_GET_PRODUCT_STRING:
      return copy_string(ptr, HOST_PRODUCT);
    case PB_VST_HOST_GET_VENDOR_VERSION:
      return HOST_VENDOR_VERSION;
    case PB_VST_HOST_CAN_DO:
      return can_do(ptr);
    case PB_VST_HOST_GET_LANGUAGE:
      return HOST_LANGUAGE_ENGLISH;
    case PB_VST_HOST_GET_DIRECTORY:
      return (intptr_t)state.directory;
    default:
      return 0; /* idle, want midi, size window, file selectors, ... */
  }
}

intptr_t
pb_host_cb_dispatch(pb_vst_effect_t* effect,
                    int32_t opcode,
                    int32_t index,
                    intptr_t value,
                    void* ptr,
                    float opt)
{
  (void)effect; /* ours is the one we stored; theirs may not be set yet */

  switch (opcode) {
    case PB_VST_HOST_AUTOMATE:
      return automate(index, opt);
    case PB_VST_HOST_BEGIN_EDIT:
      return edit(PB_MSG_EV_BEGIN_EDIT, index);
    case PB_VST_HOST_END_EDIT:
      return edit(PB_MSG_EV_END_EDIT, index);
    case PB_VST_HOST_IO_CHANGED:
      return io_changed();
    case PB_VST_HOST_CURRENT_ID:
      return current_id();
    case PB_VST_HOST_PIN_CONNECTED:
      return pin_connected(index, value);
    case PB_VST_HOST_UPDATE_DISPLAY:
      return 1;
    case PB_VST_HOST_PROCESS_EVENTS:
      return pb_audio_events_out((const struct pb_vst_events*)ptr);
    default:
      return answer_query(opcode, ptr);
  }
}
