/* pb_test_synth: a small MIDI synth.  Each note is a sine with a linear
 * attack and release.  The MIDI it receives before a block is sent back to
 * the host from that block's process call (a MIDI thru), so both event
 * directions can be tested. */
#include "plugin_base.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum
{
  PARAM_ATTACK,
  PARAM_RELEASE,
  PARAM_VOLUME,
  N_PARAMS
};

#define N_VOICES 16
#define MAX_EVENTS 64
#define TWO_PI 6.283185307179586

typedef struct
{
  int note; /* -1: free */
  int releasing;
  double phase;
  double level;
} voice_t;

/* Same layout as struct pb_vst_events, with room for MAX_EVENTS. */
typedef struct
{
  int32_t n_events;
  intptr_t reserved;
  struct pb_vst_event* events[MAX_EVENTS];
} event_list_t;

typedef struct
{
  pb_tp_plugin_t base;
  float params[N_PARAMS];
  char program_name[PB_VST_PROG_NAME_LEN];
  voice_t voices[N_VOICES];
  struct pb_vst_midi_event thru[MAX_EVENTS];
  int32_t n_thru;
  event_list_t out;
} synth_t;

static const char* const param_names[N_PARAMS] = {
  "Attack Time",
  "Release Time",
  "Volume",
};

static const char* const param_labels[N_PARAMS] = { "ms", "ms", "dB" };

static const char* const yes[] = { "receiveVstEvents",
                                   "receiveVstMidiEvent",
                                   "sendVstEvents",
                                   "sendVstMidiEvent",
                                   NULL };

static const pb_tp_desc_t desc = {
  .name = "plugbox test synth",
  .vendor = "plugbox tests",
  .product = "plugbox test synth product",
  .vendor_version = 10000,
  .category = PB_VST_CAT_SYNTH,
  .vst_version = 2400,
  .n_midi_in_channels = 16,
  .n_midi_out_channels = 1,
  .can_do_yes = yes,
};

static synth_t*
synth_of(pb_vst_effect_t* effect)
{
  return (synth_t*)effect->object;
}

static void
set_parameter(pb_vst_effect_t* effect, int32_t index, float value)
{
  if (index >= 0 && index < N_PARAMS)
    synth_of(effect)->params[index] = pb_tp_clamp01(value);
}

static float
get_parameter(pb_vst_effect_t* effect, int32_t index)
{
  if (index < 0 || index >= N_PARAMS)
    return 0.0f;
  return synth_of(effect)->params[index];
}

/* Attack and release span 0..2000 ms; volume is the amplitude. */
static void
display(float value, int32_t index, char* out, size_t cap)
{
  if (index != PARAM_VOLUME)
    snprintf(out, cap, "%.0f", (double)value * 2000.0);
  else if (value <= 0.0f)
    snprintf(out, cap, "-inf");
  else
    snprintf(out, cap, "%.2f", 20.0 * log10((double)value));
}

static void
note_on(synth_t* synth, int note)
{
  voice_t* chosen = &synth->voices[0];
  for (int i = 0; i < N_VOICES; ++i) {
    if (synth->voices[i].note < 0 || synth->voices[i].note == note) {
      chosen = &synth->voices[i];
      break;
    }
  }
  chosen->note = note;
  chosen->releasing = 0;
  chosen->phase = 0.0;
  chosen->level = 0.0;
}

static void
note_off(synth_t* synth, int note)
{
  for (int i = 0; i < N_VOICES; ++i) {
    if (synth->voices[i].note == note)
      synth->voices[i].releasing = 1;
  }
}

static void
midi_in(synth_t* synth, const struct pb_vst_midi_event* midi)
{
  const int status = midi->midi_data[0] & 0xf0;
  const int note = midi->midi_data[1] & 0x7f;
  if (status == 0x90 && midi->midi_data[2] != 0)
    note_on(synth, note);
  else if (status == 0x80 || status == 0x90)
    note_off(synth, note);
  if (synth->n_thru < MAX_EVENTS)
    synth->thru[synth->n_thru++] = *midi;
}

static intptr_t
process_events(synth_t* synth, const struct pb_vst_events* events)
{
  if (!events)
    return 0;
  /* The list really holds n_events pointers (see vst2_abi.h). */
  struct pb_vst_event* const* list = events->events;
  for (int32_t i = 0; i < events->n_events; ++i) {
    const struct pb_vst_event* event = list[i];
    if (event && event->type == PB_VST_EVENT_MIDI)
      midi_in(synth, (const struct pb_vst_midi_event*)(const void*)event);
  }
  return 1;
}

static intptr_t
dispatch_params(pb_vst_effect_t* effect,
                int32_t opcode,
                int32_t index,
                void* ptr)
{
  char text[PB_VST_STR_BUF];
  if (index < 0 || index >= N_PARAMS)
    return 0;
  switch (opcode) {
    case PB_VST_EFF_GET_PARAM_NAME:
      return pb_tp_str_copy(ptr, param_names[index], 64);
    case PB_VST_EFF_GET_PARAM_LABEL:
      return pb_tp_str_copy(ptr, param_labels[index], PB_VST_PARAM_STR_LEN);
    case PB_VST_EFF_GET_PARAM_DISPLAY:
      display(get_parameter(effect, index), index, text, sizeof(text));
      return pb_tp_str_copy(ptr, text, PB_VST_PARAM_STR_LEN);
    default: /* PB_VST_EFF_CAN_BE_AUTOMATED */
      return 1;
  }
}

static intptr_t
pin_properties(int32_t index, void* ptr)
{
  static const char* const labels[2] = { "Synth Out L", "Synth Out R" };
  if (index < 0 || index > 1 || !ptr)
    return 0;
  struct pb_vst_pin_props* pin = ptr;
  memset(pin, 0, sizeof(*pin));
  pb_tp_str_copy(pin->label, labels[index], sizeof(pin->label));
  pb_tp_str_copy(pin->short_label, index ? "R" : "L", sizeof(pin->short_label));
  pin->flags = PB_VST_PIN_IS_ACTIVE | PB_VST_PIN_IS_STEREO;
  pin->arrangement = 1;
  return 1;
}

static intptr_t
dispatcher(pb_vst_effect_t* effect,
           int32_t opcode,
           int32_t index,
           intptr_t value,
           void* ptr,
           float opt)
{
  synth_t* synth = synth_of(effect);
  switch (opcode) {
    case PB_VST_EFF_GET_PARAM_NAME:
    case PB_VST_EFF_GET_PARAM_LABEL:
    case PB_VST_EFF_GET_PARAM_DISPLAY:
    case PB_VST_EFF_CAN_BE_AUTOMATED:
      return dispatch_params(effect, opcode, index, ptr);
    case PB_VST_EFF_GET_PROGRAM:
      return 0;
    case PB_VST_EFF_SET_PROGRAM:
      return value == 0;
    case PB_VST_EFF_SET_PROGRAM_NAME:
      if (!ptr)
        return 0;
      return pb_tp_str_copy(synth->program_name, ptr, PB_VST_PROG_NAME_LEN);
    case PB_VST_EFF_GET_PROGRAM_NAME:
      return pb_tp_str_copy(ptr, synth->program_name, PB_VST_PROG_NAME_LEN);
    case PB_VST_EFF_GET_PROGRAM_NAME_INDEXED:
      if (index != 0)
        return 0;
      return pb_tp_str_copy(ptr, synth->program_name, PB_VST_PROG_NAME_LEN);
    case PB_VST_EFF_PROCESS_EVENTS:
      return process_events(synth, ptr);
    case PB_VST_EFF_GET_OUTPUT_PROPERTIES:
      return pin_properties(index, ptr);
    default:
      return pb_tp_dispatch_default(effect, opcode, index, value, ptr, opt);
  }
}

/* Send what came in for this block back out, then forget it. */
static void
midi_thru(synth_t* synth)
{
  if (synth->n_thru == 0)
    return;
  synth->out.n_events = synth->n_thru;
  for (int32_t i = 0; i < synth->n_thru; ++i)
    synth->out.events[i] = (struct pb_vst_event*)(void*)&synth->thru[i];
  synth->base.host(
    &synth->base.effect, PB_VST_HOST_PROCESS_EVENTS, 0, 0, &synth->out, 0.0f);
  synth->n_thru = 0;
}

/* Linear ramps: the step per frame reaches full level in the set time. */
static double
ramp_step(float value, float sample_rate)
{
  const double frames = (double)value * 2.0 * (double)sample_rate;
  return frames < 1.0 ? 1.0 : 1.0 / frames;
}

static double
voice_next(voice_t* voice, double attack, double release, double phase_step)
{
  if (voice->releasing) {
    voice->level -= release;
    if (voice->level <= 0.0) {
      voice->note = -1;
      return 0.0;
    }
  } else if (voice->level < 1.0) {
    voice->level = fmin(1.0, voice->level + attack);
  }
  const double out = sin(voice->phase) * voice->level;
  voice->phase = fmod(voice->phase + phase_step, TWO_PI);
  return out;
}

static void
process(pb_vst_effect_t* effect,
        float** inputs,
        float** outputs,
        int32_t n_frames)
{
  (void)inputs;
  synth_t* synth = synth_of(effect);
  const float rate = synth->base.sample_rate;
  const double attack = ramp_step(synth->params[PARAM_ATTACK], rate);
  const double release = ramp_step(synth->params[PARAM_RELEASE], rate);
  const double volume = 0.2 * (double)synth->params[PARAM_VOLUME];
  midi_thru(synth);
  for (int32_t i = 0; i < n_frames; ++i)
    outputs[0][i] = outputs[1][i] = 0.0f;
  for (int v = 0; v < N_VOICES; ++v) {
    voice_t* voice = &synth->voices[v];
    if (voice->note < 0)
      continue;
    const double hz = 440.0 * pow(2.0, (voice->note - 69) / 12.0);
    const double step = TWO_PI * hz / (double)rate;
    for (int32_t i = 0; i < n_frames && voice->note >= 0; ++i) {
      const float s =
        (float)(volume * voice_next(voice, attack, release, step));
      outputs[0][i] += s;
      outputs[1][i] += s;
    }
  }
}

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  if (!host)
    return NULL;
  synth_t* synth =
    (synth_t*)pb_tp_plugin_new(sizeof(synth_t), host, &desc, dispatcher);
  if (!synth)
    return NULL;
  pb_vst_effect_t* effect = &synth->base.effect;
  synth->params[PARAM_ATTACK] = 0.005f;
  synth->params[PARAM_RELEASE] = 0.1f;
  synth->params[PARAM_VOLUME] = 0.5f;
  pb_tp_str_copy(synth->program_name, "Init", sizeof(synth->program_name));
  for (int v = 0; v < N_VOICES; ++v)
    synth->voices[v].note = -1;
  effect->set_parameter = set_parameter;
  effect->get_parameter = get_parameter;
  effect->process_replacing = process;
  effect->num_programs = 1;
  effect->num_params = N_PARAMS;
  effect->num_inputs = 0;
  effect->num_outputs = 2;
  effect->flags = PB_VST_FLAG_CAN_REPLACING | PB_VST_FLAG_IS_SYNTH;
  effect->unique_id = PB_TP_ID('P', 'b', 'S', 'y');
  effect->version = 2;
  return effect;
}
