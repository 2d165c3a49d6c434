/* pb_test_gain: a stereo gain with pan and phase invert.  It answers every
 * query a host makes of an ordinary effect, with names longer than the
 * format's 8 characters, four named programs and program chunks, so the
 * bridge's description and calls can be checked against known values. */
#include "plugin_base.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum
{
  PARAM_GAIN,
  PARAM_PAN,
  PARAM_INVERT,
  N_PARAMS
};

enum
{
  N_PROGRAMS = 4
};

/* The chunk: a 20-byte header then one entry per program, all integers
 * and floats little-endian.
 *   u32 magic 'PbGc', u32 version 1, u32 kind (0 bank, 1 program),
 *   u32 count, u32 current program (bank) or 0;
 *   entry: char name[24] (NUL-terminated), f32 values[N_PARAMS]. */
#define CHUNK_MAGIC 0x50624763u
#define CHUNK_VERSION 1u
#define CHUNK_HEADER 20u
#define CHUNK_ENTRY (PB_VST_PROG_NAME_LEN + 4u * N_PARAMS)
#define CHUNK_MAX (CHUNK_HEADER + N_PROGRAMS * CHUNK_ENTRY)

typedef struct
{
  char name[PB_VST_PROG_NAME_LEN];
  float values[N_PARAMS];
} program_t;

typedef struct
{
  pb_tp_plugin_t base;
  program_t programs[N_PROGRAMS];
  int32_t current;
  unsigned char chunk[CHUNK_MAX];
} gain_t;

static const char* const param_names[N_PARAMS] = {
  "Output Gain",
  "Pan Position",
  "Phase Invert",
};

static const char* const param_labels[N_PARAMS] = { "dB", "%", "" };

static const program_t factory[N_PROGRAMS] = {
  { "Unity", { 0.5f, 0.5f, 0.0f } },
  { "Quiet", { 0.25f, 0.5f, 0.0f } },
  { "Hard Left", { 0.5f, 0.0f, 0.0f } },
  { "Inverted", { 0.5f, 0.5f, 1.0f } },
};

static const char* const yes[] = { "bypass", NULL };
static const char* const no[] = { "receiveVstEvents",
                                  "receiveVstMidiEvent",
                                  NULL };

static const pb_tp_desc_t desc = {
  .name = "plugbox test gain",
  .vendor = "plugbox tests",
  .product = "plugbox test gain product",
  .vendor_version = 10203,
  .category = PB_VST_CAT_EFFECT,
  .vst_version = 2400,
  .tail_size = 0,
  .can_do_yes = yes,
  .can_do_no = no,
};

static gain_t*
gain_of(pb_vst_effect_t* effect)
{
  return (gain_t*)effect->object;
}

static float*
values(pb_vst_effect_t* effect)
{
  gain_t* gain = gain_of(effect);
  return gain->programs[gain->current].values;
}

static void
set_parameter(pb_vst_effect_t* effect, int32_t index, float value)
{
  if (index >= 0 && index < N_PARAMS)
    values(effect)[index] = pb_tp_clamp01(value);
}

static float
get_parameter(pb_vst_effect_t* effect, int32_t index)
{
  if (index < 0 || index >= N_PARAMS)
    return 0.0f;
  return values(effect)[index];
}

/* Gain is 2 × value as an amplitude: 0.5 is unity, 0.25 is -6.02 dB. */
static void
display(float value, int32_t index, char* out, size_t cap)
{
  switch (index) {
    case PARAM_GAIN:
      if (value <= 0.0f)
        snprintf(out, cap, "-inf");
      else
        snprintf(out, cap, "%.2f", 20.0 * log10(2.0 * (double)value));
      break;
    case PARAM_PAN:
      snprintf(out, cap, "%.0f", (double)value * 200.0 - 100.0);
      break;
    default:
      snprintf(out, cap, "%s", value >= 0.5f ? "On" : "Off");
      break;
  }
}

static int
parse(int32_t index, const char* text, float* out)
{
  double number = 0.0;
  switch (index) {
    case PARAM_GAIN:
      if (text && strcmp(text, "-inf") == 0) {
        *out = 0.0f;
        return 1;
      }
      if (!pb_tp_parse_number(text, "dB", &number))
        return 0;
      *out = pb_tp_clamp01((float)(pow(10.0, number / 20.0) / 2.0));
      return 1;
    case PARAM_PAN:
      if (!pb_tp_parse_number(text, "%", &number))
        return 0;
      *out = pb_tp_clamp01((float)((number + 100.0) / 200.0));
      return 1;
    default:
      if (text && (strcmp(text, "On") == 0 || strcmp(text, "1") == 0)) {
        *out = 1.0f;
        return 1;
      }
      if (text && (strcmp(text, "Off") == 0 || strcmp(text, "0") == 0)) {
        *out = 0.0f;
        return 1;
      }
      return 0;
  }
}

static intptr_t
param_properties(int32_t index, void* ptr)
{
  if (index != PARAM_INVERT || !ptr)
    return 0;
  struct pb_vst_param_props* props = ptr;
  memset(props, 0, sizeof(*props));
  props->flags = PB_VST_PARAM_IS_SWITCH | PB_VST_PARAM_USES_INT_MIN_MAX;
  props->min_int = 0;
  props->max_int = 1;
  pb_tp_str_copy(props->label, "Phase Invert", sizeof(props->label));
  pb_tp_str_copy(props->short_label, "Phase", sizeof(props->short_label));
  return 1;
}

static intptr_t
pin_properties(int32_t index, int output, void* ptr)
{
  static const char* const labels[2][2] = {
    { "Gain In L", "Gain In R" },
    { "Gain Out L", "Gain Out R" },
  };
  static const char* const short_labels[2][2] = {
    { "InL", "InR" },
    { "OutL", "OutR" },
  };
  if (index < 0 || index > 1 || !ptr)
    return 0;
  struct pb_vst_pin_props* pin = ptr;
  memset(pin, 0, sizeof(*pin));
  pb_tp_str_copy(pin->label, labels[output][index], sizeof(pin->label));
  pb_tp_str_copy(
    pin->short_label, short_labels[output][index], sizeof(pin->short_label));
  pin->flags = PB_VST_PIN_IS_ACTIVE | PB_VST_PIN_IS_STEREO;
  pin->arrangement = 1; /* stereo */
  return 1;
}

/* ----------------------------------------------------------- chunks */

static void
put_u32(unsigned char* p, uint32_t v)
{
  p[0] = (unsigned char)(v & 0xffu);
  p[1] = (unsigned char)((v >> 8) & 0xffu);
  p[2] = (unsigned char)((v >> 16) & 0xffu);
  p[3] = (unsigned char)((v >> 24) & 0xffu);
}

static uint32_t
get_u32(const unsigned char* p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void
put_program(unsigned char* p, const program_t* program)
{
  memcpy(p, program->name, PB_VST_PROG_NAME_LEN);
  for (size_t i = 0; i < N_PARAMS; ++i) {
    uint32_t bits = 0;
    memcpy(&bits, &program->values[i], sizeof(bits));
    put_u32(p + PB_VST_PROG_NAME_LEN + 4 * i, bits);
  }
}

/* Returns 0 if the entry at `p` is malformed. */
static int
get_program(const unsigned char* p, program_t* program)
{
  if (!memchr(p, '\0', PB_VST_PROG_NAME_LEN))
    return 0;
  memcpy(program->name, p, PB_VST_PROG_NAME_LEN);
  for (size_t i = 0; i < N_PARAMS; ++i) {
    const uint32_t bits = get_u32(p + PB_VST_PROG_NAME_LEN + 4 * i);
    float value = 0.0f;
    memcpy(&value, &bits, sizeof(value));
    if (!(value >= 0.0f && value <= 1.0f))
      return 0;
    program->values[i] = value;
  }
  return 1;
}

static intptr_t
chunk_get(gain_t* gain, int program_only, void* ptr)
{
  if (!ptr)
    return 0;
  const uint32_t count = program_only ? 1u : N_PROGRAMS;
  put_u32(gain->chunk, CHUNK_MAGIC);
  put_u32(gain->chunk + 4, CHUNK_VERSION);
  put_u32(gain->chunk + 8, program_only ? 1u : 0u);
  put_u32(gain->chunk + 12, count);
  put_u32(gain->chunk + 16, program_only ? 0u : (uint32_t)gain->current);
  for (uint32_t i = 0; i < count; ++i) {
    const int32_t which = program_only ? gain->current : (int32_t)i;
    put_program(gain->chunk + CHUNK_HEADER + i * CHUNK_ENTRY,
                &gain->programs[which]);
  }
  *(void**)ptr = gain->chunk;
  return (intptr_t)(CHUNK_HEADER + count * CHUNK_ENTRY);
}

/* Checks everything before changing anything: a rejected chunk leaves the
 * plugin as it was. */
static intptr_t
chunk_set(gain_t* gain,
          int program_only,
          const unsigned char* data,
          intptr_t size)
{
  const uint32_t count = program_only ? 1u : N_PROGRAMS;
  if (!data || size != (intptr_t)(CHUNK_HEADER + count * CHUNK_ENTRY))
    return 0;
  if (get_u32(data) != CHUNK_MAGIC || get_u32(data + 4) != CHUNK_VERSION ||
      get_u32(data + 8) != (program_only ? 1u : 0u) ||
      get_u32(data + 12) != count)
    return 0;
  const uint32_t current = get_u32(data + 16);
  if (current >= N_PROGRAMS || (program_only && current != 0))
    return 0;
  program_t programs[N_PROGRAMS];
  for (uint32_t i = 0; i < count; ++i) {
    if (!get_program(data + CHUNK_HEADER + i * CHUNK_ENTRY, &programs[i]))
      return 0;
  }
  if (program_only) {
    gain->programs[gain->current] = programs[0];
  } else {
    memcpy(gain->programs, programs, sizeof(programs));
    gain->current = (int32_t)current;
  }
  return 1;
}

/* --------------------------------------------------------- dispatcher */

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
    case PB_VST_EFF_CAN_BE_AUTOMATED:
      return index != PARAM_INVERT;
    case PB_VST_EFF_GET_PARAMETER_PROPERTIES:
      return param_properties(index, ptr);
    default: { /* PB_VST_EFF_STRING_TO_PARAMETER */
      float value = 0.0f;
      if (!ptr)
        return 1; /* a host asking whether text input is supported */
      if (!parse(index, (const char*)ptr, &value))
        return 0;
      set_parameter(effect, index, value);
      return 1;
    }
  }
}

static intptr_t
dispatch_programs(gain_t* gain,
                  int32_t opcode,
                  int32_t index,
                  intptr_t value,
                  void* ptr)
{
  switch (opcode) {
    case PB_VST_EFF_SET_PROGRAM:
      if (value < 0 || value >= N_PROGRAMS)
        return 0;
      gain->current = (int32_t)value;
      return 1;
    case PB_VST_EFF_GET_PROGRAM:
      return gain->current;
    case PB_VST_EFF_SET_PROGRAM_NAME:
      if (!ptr)
        return 0;
      pb_tp_str_copy(
        gain->programs[gain->current].name, ptr, PB_VST_PROG_NAME_LEN);
      return 1;
    case PB_VST_EFF_GET_PROGRAM_NAME:
      return pb_tp_str_copy(
        ptr, gain->programs[gain->current].name, PB_VST_PROG_NAME_LEN);
    default: /* PB_VST_EFF_GET_PROGRAM_NAME_INDEXED */
      if (index < 0 || index >= N_PROGRAMS)
        return 0;
      return pb_tp_str_copy(
        ptr, gain->programs[index].name, PB_VST_PROG_NAME_LEN);
  }
}

static intptr_t
dispatcher(pb_vst_effect_t* effect,
           int32_t opcode,
           int32_t index,
           intptr_t value,
           void* ptr,
           float opt)
{
  gain_t* gain = gain_of(effect);
  switch (opcode) {
    case PB_VST_EFF_GET_PARAM_NAME:
    case PB_VST_EFF_GET_PARAM_LABEL:
    case PB_VST_EFF_GET_PARAM_DISPLAY:
    case PB_VST_EFF_CAN_BE_AUTOMATED:
    case PB_VST_EFF_GET_PARAMETER_PROPERTIES:
    case PB_VST_EFF_STRING_TO_PARAMETER:
      return dispatch_params(effect, opcode, index, ptr);
    case PB_VST_EFF_SET_PROGRAM:
    case PB_VST_EFF_GET_PROGRAM:
    case PB_VST_EFF_SET_PROGRAM_NAME:
    case PB_VST_EFF_GET_PROGRAM_NAME:
    case PB_VST_EFF_GET_PROGRAM_NAME_INDEXED:
      return dispatch_programs(gain, opcode, index, value, ptr);
    case PB_VST_EFF_GET_CHUNK:
      return chunk_get(gain, index != 0, ptr);
    case PB_VST_EFF_SET_CHUNK:
      return chunk_set(gain, index != 0, ptr, value);
    case PB_VST_EFF_GET_INPUT_PROPERTIES:
      return pin_properties(index, 0, ptr);
    case PB_VST_EFF_GET_OUTPUT_PROPERTIES:
      return pin_properties(index, 1, ptr);
    default:
      return pb_tp_dispatch_default(effect, opcode, index, value, ptr, opt);
  }
}

/* ---------------------------------------------------------- processing */

/* Per-channel factors: gain, linear pan (centre is unity on both sides),
 * and the sign. */
static void
factors(pb_vst_effect_t* effect, double* left, double* right)
{
  const float* v = values(effect);
  const double gain = 2.0 * (double)v[PARAM_GAIN];
  const double pan = (double)v[PARAM_PAN];
  const double sign = v[PARAM_INVERT] >= 0.5f ? -1.0 : 1.0;
  *left = gain * sign * (pan <= 0.5 ? 1.0 : 2.0 * (1.0 - pan));
  *right = gain * sign * (pan >= 0.5 ? 1.0 : 2.0 * pan);
  if (gain_of(effect)->base.bypass)
    *left = *right = 1.0;
}

static void
process(pb_vst_effect_t* effect,
        float** inputs,
        float** outputs,
        int32_t n_frames)
{
  double f[2];
  factors(effect, &f[0], &f[1]);
  for (int c = 0; c < 2; ++c) {
    for (int32_t i = 0; i < n_frames; ++i)
      outputs[c][i] = (float)((double)inputs[c][i] * f[c]);
  }
}

static void
process_double(pb_vst_effect_t* effect,
               double** inputs,
               double** outputs,
               int32_t n_frames)
{
  double f[2];
  factors(effect, &f[0], &f[1]);
  for (int c = 0; c < 2; ++c) {
    for (int32_t i = 0; i < n_frames; ++i)
      outputs[c][i] = inputs[c][i] * f[c];
  }
}

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  if (!host)
    return NULL;
  /* Like most plugins, ask for the host's version before there is an
   * effect to pass. */
  (void)host(NULL, PB_VST_HOST_VERSION, 0, 0, NULL, 0.0f);
  gain_t* gain =
    (gain_t*)pb_tp_plugin_new(sizeof(gain_t), host, &desc, dispatcher);
  if (!gain)
    return NULL;
  pb_vst_effect_t* effect = &gain->base.effect;
  memcpy(gain->programs, factory, sizeof(factory));
  effect->set_parameter = set_parameter;
  effect->get_parameter = get_parameter;
  effect->process_replacing = process;
  effect->process_double_replacing = process_double;
  effect->num_programs = N_PROGRAMS;
  effect->num_params = N_PARAMS;
  effect->num_inputs = 2;
  effect->num_outputs = 2;
  effect->flags = PB_VST_FLAG_CAN_REPLACING | PB_VST_FLAG_CAN_DOUBLE_REPLACING |
                  PB_VST_FLAG_PROGRAM_CHUNKS;
  effect->unique_id = PB_TP_ID('P', 'b', 'G', 'n');
  effect->version = 1;
  return effect;
}

PB_TP_EXPORT_MAIN_ALIAS;
