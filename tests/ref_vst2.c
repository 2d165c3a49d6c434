/* The reference loader of the tests; see ref_vst2.h.
 *
 * Written on purpose without anything from the bridge: a second, plain
 * reading of the same plugin, in the order a typical host uses. */
#define _POSIX_C_SOURCE 200809L

#include "ref_vst2.h"

#include "common/vst2_abi.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_SAMPLE_RATE 48000.0f
#define REF_BLOCK_SIZE 512

/* The canDo questions the reference asks; a bridged description is
 * compared on the questions both asked. */
static const char* const can_do_questions[] = {
  "sendVstEvents",
  "sendVstMidiEvent",
  "receiveVstEvents",
  "receiveVstMidiEvent",
  "receiveVstTimeInfo",
  "offline",
  "midiProgramNames",
  "bypass",
  "1in1out",
  "1in2out",
  "2in1out",
  "2in2out",
  "noRealTime",
  "plugAsChannelInsert",
  "plugAsSend",
  "mixDryWet",
  "conformsToWindowRules",
};
#define N_QUESTIONS (sizeof(can_do_questions) / sizeof(can_do_questions[0]))

const char*
pb_ref_status_name(pb_ref_status_t status)
{
  static const char* const names[] = {
    "ok",      "load",    "no_entry", "null_effect", "bad_magic",
    "crashed", "timeout", "io",       "nomem",
  };
  if ((unsigned)status >= sizeof(names) / sizeof(names[0]))
    return "unknown";
  return names[status];
}

/* ----------------------------------------------------------- host side */

static intptr_t
host_string(void* ptr, const char* text)
{
  if (!ptr)
    return 0;
  snprintf(ptr, PB_VST_VENDOR_STR_LEN, "%s", text);
  return 1;
}

/* Answers from fixed state, as the bridge does: nothing the plugin asks
 * during a description needs more. */
static intptr_t
host_callback(pb_vst_effect_t* effect,
              int32_t opcode,
              int32_t index,
              intptr_t value,
              void* ptr,
              float opt)
{
  (void)effect;
  (void)index;
  (void)value;
  (void)opt;
  switch (opcode) {
    case PB_VST_HOST_VERSION:
      return 2400;
    case PB_VST_HOST_GET_SAMPLE_RATE:
      return (intptr_t)REF_SAMPLE_RATE;
    case PB_VST_HOST_GET_BLOCK_SIZE:
      return REF_BLOCK_SIZE;
    case PB_VST_HOST_GET_CURRENT_PROCESS_LEVEL:
      return PB_VST_LEVEL_USER;
    case PB_VST_HOST_GET_AUTOMATION_STATE:
      return 1; /* off */
    case PB_VST_HOST_GET_LANGUAGE:
      return 1; /* English */
    case PB_VST_HOST_GET_VENDOR_STRING:
      return host_string(ptr, "plugbox");
    case PB_VST_HOST_GET_PRODUCT_STRING:
      return host_string(ptr, "plugbox reference loader");
    case PB_VST_HOST_GET_VENDOR_VERSION:
      return 1;
    default:
      return 0;
  }
}

/* ---------------------------------------------------- describing a plugin */

typedef struct
{
  pb_vst_effect_t* effect;
  int nomem;
} ref_t;

static intptr_t
call(ref_t* ref,
     int32_t opcode,
     int32_t index,
     intptr_t value,
     void* ptr,
     float opt)
{
  if (!ref->effect->dispatcher)
    return 0;
  return ref->effect->dispatcher(ref->effect, opcode, index, value, ptr, opt);
}

static char*
dup_n(ref_t* ref, const char* text, size_t max_len)
{
  size_t len = 0;
  while (len < max_len && text[len])
    ++len;
  char* copy = malloc(len + 1);
  if (!copy) {
    ref->nomem = 1;
    return NULL;
  }
  memcpy(copy, text, len);
  copy[len] = '\0';
  return copy;
}

/* Ask for a string into a zeroed 512-byte buffer; returns a copy. */
static char*
query_string(ref_t* ref, int32_t opcode, int32_t index)
{
  char buf[PB_VST_STR_BUF];
  memset(buf, 0, sizeof(buf));
  call(ref, opcode, index, 0, buf, 0.0f);
  buf[sizeof(buf) - 1] = '\0';
  return dup_n(ref, buf, sizeof(buf));
}

static int32_t
query_int(ref_t* ref, int32_t opcode)
{
  return (int32_t)call(ref, opcode, 0, 0, NULL, 0.0f);
}

static int32_t
clamp_count(int32_t n)
{
  if (n < 0)
    return 0;
  return n > PB_REF_MAX_COUNT ? PB_REF_MAX_COUNT : n;
}

static void*
alloc_array(ref_t* ref, int32_t n, size_t size)
{
  void* array = calloc(n > 0 ? (size_t)n : 1u, size);
  if (!array)
    ref->nomem = 1;
  return array;
}

static void
describe_properties(ref_t* ref, int32_t index, pb_ref_param_t* param)
{
  union
  {
    struct pb_vst_param_props props;
    char slack[PB_VST_STR_BUF];
  } u;
  memset(&u, 0, sizeof(u));
  param->has_properties =
    call(ref, PB_VST_EFF_GET_PARAMETER_PROPERTIES, index, 0, &u, 0.0f) != 0;
  if (!param->has_properties)
    memset(&u, 0, sizeof(u));
  const struct pb_vst_param_props* p = &u.props;
  param->prop_flags = (uint32_t)p->flags;
  param->step = p->step;
  param->small_step = p->small_step;
  param->large_step = p->large_step;
  param->min_int = p->min_int;
  param->max_int = p->max_int;
  param->step_int = p->step_int;
  param->large_step_int = p->large_step_int;
  param->display_index = p->display_index;
  param->category = p->category;
  param->n_in_category = p->n_params_in_category;
  param->prop_label = dup_n(ref, p->label, sizeof(p->label));
  param->short_label = dup_n(ref, p->short_label, sizeof(p->short_label));
  param->category_label =
    dup_n(ref, p->category_label, sizeof(p->category_label));
}

static void
describe_params(ref_t* ref, pb_ref_info_t* out)
{
  out->n_params = clamp_count(ref->effect->num_params);
  out->params = alloc_array(ref, out->n_params, sizeof(pb_ref_param_t));
  for (int32_t i = 0; out->params && i < out->n_params; ++i) {
    pb_ref_param_t* param = &out->params[i];
    param->name = query_string(ref, PB_VST_EFF_GET_PARAM_NAME, i);
    param->label = query_string(ref, PB_VST_EFF_GET_PARAM_LABEL, i);
    param->display = query_string(ref, PB_VST_EFF_GET_PARAM_DISPLAY, i);
    if (ref->effect->get_parameter)
      param->value = ref->effect->get_parameter(ref->effect, i);
    param->automatable =
      call(ref, PB_VST_EFF_CAN_BE_AUTOMATED, i, 0, NULL, 0.0f) != 0;
    describe_properties(ref, i, param);
  }
}

static void
describe_programs(ref_t* ref, pb_ref_info_t* out)
{
  out->n_programs = clamp_count(ref->effect->num_programs);
  out->current_program = query_int(ref, PB_VST_EFF_GET_PROGRAM);
  out->program_names = alloc_array(ref, out->n_programs, sizeof(char*));
  for (int32_t i = 0; out->program_names && i < out->n_programs; ++i) {
    out->program_names[i] =
      query_string(ref, PB_VST_EFF_GET_PROGRAM_NAME_INDEXED, i);
  }
}

static pb_ref_pin_t*
describe_pins(ref_t* ref, int32_t opcode, int32_t n)
{
  pb_ref_pin_t* pins = alloc_array(ref, n, sizeof(pb_ref_pin_t));
  for (int32_t i = 0; pins && i < n; ++i) {
    union
    {
      struct pb_vst_pin_props props;
      char slack[PB_VST_STR_BUF];
    } u;
    memset(&u, 0, sizeof(u));
    if (call(ref, opcode, i, 0, &u, 0.0f) == 0)
      memset(&u, 0, sizeof(u));
    pins[i].label = dup_n(ref, u.props.label, sizeof(u.props.label));
    pins[i].short_label =
      dup_n(ref, u.props.short_label, sizeof(u.props.short_label));
    pins[i].flags = (uint32_t)u.props.flags;
    pins[i].arrangement = u.props.arrangement;
  }
  return pins;
}

static void
describe_can_do(ref_t* ref, pb_ref_info_t* out)
{
  out->n_can_do = (int32_t)N_QUESTIONS;
  out->can_do = alloc_array(ref, out->n_can_do, sizeof(pb_ref_can_do_t));
  for (int32_t i = 0; out->can_do && i < out->n_can_do; ++i) {
    char question[PB_VST_STR_BUF];
    memset(question, 0, sizeof(question));
    snprintf(question, sizeof(question), "%s", can_do_questions[i]);
    out->can_do[i].name = dup_n(ref, can_do_questions[i], PB_VST_STR_BUF);
    const intptr_t answer = call(ref, PB_VST_EFF_CAN_DO, 0, 0, question, 0.0f);
    out->can_do[i].answer = answer > 0 ? 1 : answer < 0 ? -1 : 0;
  }
}

static void
id_text(int32_t id, char text[5])
{
  for (int i = 0; i < 4; ++i) {
    const unsigned c = ((uint32_t)id >> (24 - 8 * i)) & 0xffu;
    text[i] = c >= 0x20 && c < 0x7f ? (char)c : '.';
  }
  text[4] = '\0';
}

/* The queries after effOpen, in a typical host's order. */
static void
describe_effect(ref_t* ref, pb_ref_info_t* out)
{
  out->name = query_string(ref, PB_VST_EFF_GET_EFFECT_NAME, 0);
  out->vendor = query_string(ref, PB_VST_EFF_GET_VENDOR_STRING, 0);
  out->product = query_string(ref, PB_VST_EFF_GET_PRODUCT_STRING, 0);
  out->vendor_version = query_int(ref, PB_VST_EFF_GET_VENDOR_VERSION);
  out->vst_version = query_int(ref, PB_VST_EFF_GET_VST_VERSION);
  out->category = query_int(ref, PB_VST_EFF_GET_PLUG_CATEGORY);
  out->tail_size = query_int(ref, PB_VST_EFF_GET_TAIL_SIZE);
  out->n_midi_in_channels =
    query_int(ref, PB_VST_EFF_GET_NUM_MIDI_INPUT_CHANNELS);
  out->n_midi_out_channels =
    query_int(ref, PB_VST_EFF_GET_NUM_MIDI_OUTPUT_CHANNELS);
  out->n_inputs = clamp_count(ref->effect->num_inputs);
  out->n_outputs = clamp_count(ref->effect->num_outputs);
  out->inputs =
    describe_pins(ref, PB_VST_EFF_GET_INPUT_PROPERTIES, out->n_inputs);
  out->outputs =
    describe_pins(ref, PB_VST_EFF_GET_OUTPUT_PROPERTIES, out->n_outputs);
  describe_params(ref, out);
  describe_programs(ref, out);
  describe_can_do(ref, out);
  /* The effect's own fields last: a plugin may change them while it is
   * set up and queried. */
  out->unique_id = ref->effect->unique_id;
  id_text(out->unique_id, out->unique_id_text);
  out->plugin_version = ref->effect->version;
  out->flags = (uint32_t)ref->effect->flags;
  out->initial_delay = ref->effect->initial_delay;
}

static pb_ref_status_t
fail(pb_ref_info_t* out, pb_ref_status_t status, const char* format, ...)
{
  va_list args;
  va_start(args, format);
  vsnprintf(out->message, sizeof(out->message), format, args);
  va_end(args);
  out->status = status;
  return status;
}

static pb_vst_entry_fn_t
find_entry(void* handle)
{
  static const char* const names[] = { "VSTPluginMain", "main" };
  for (size_t i = 0; i < 2; ++i) {
    void* symbol = dlsym(handle, names[i]);
    if (symbol) {
      pb_vst_entry_fn_t entry = NULL;
      memcpy(&entry, &symbol, sizeof(entry));
      return entry;
    }
  }
  return NULL;
}

static void
info_start(const char* path, pb_ref_info_t* out)
{
  memset(out, 0, sizeof(*out));
  out->path = strdup(path);
#if defined(__x86_64__)
  out->arch = strdup("x86_64");
#else
  out->arch = strdup("i386");
#endif
}

pb_ref_status_t
pb_ref_describe_open(const char* path, pb_ref_info_t* out, void** handle)
{
  *handle = NULL;
  info_start(path, out);
  if (!out->path || !out->arch)
    return fail(out, PB_REF_ERR_NOMEM, "out of memory");
  *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!*handle)
    return fail(out, PB_REF_ERR_LOAD, "%s", dlerror());
  pb_vst_entry_fn_t entry = find_entry(*handle);
  if (!entry)
    return fail(
      out, PB_REF_ERR_NO_ENTRY, "no VSTPluginMain or main in %s", path);
  ref_t ref = { .effect = entry(host_callback), .nomem = 0 };
  if (!ref.effect)
    return fail(out, PB_REF_ERR_NULL_EFFECT, "the entry point returned NULL");
  if (ref.effect->magic != PB_VST_MAGIC)
    return fail(out,
                PB_REF_ERR_BAD_MAGIC,
                "bad magic 0x%08x",
                (unsigned)ref.effect->magic);
  call(&ref, PB_VST_EFF_OPEN, 0, 0, NULL, 0.0f);
  call(&ref, PB_VST_EFF_SET_SAMPLE_RATE, 0, 0, NULL, REF_SAMPLE_RATE);
  call(&ref, PB_VST_EFF_SET_BLOCK_SIZE, 0, REF_BLOCK_SIZE, NULL, 0.0f);
  describe_effect(&ref, out);
  call(&ref, PB_VST_EFF_CLOSE, 0, 0, NULL, 0.0f);
  if (ref.nomem)
    return fail(out, PB_REF_ERR_NOMEM, "out of memory");
  out->status = PB_REF_OK;
  return PB_REF_OK;
}

pb_ref_status_t
pb_ref_describe(const char* path, pb_ref_info_t* out)
{
  void* handle = NULL;
  const pb_ref_status_t status = pb_ref_describe_open(path, out, &handle);
  if (handle)
    dlclose(handle);
  return status;
}

static void
param_fini(pb_ref_param_t* param)
{
  free(param->name);
  free(param->label);
  free(param->display);
  free(param->prop_label);
  free(param->short_label);
  free(param->category_label);
}

static void
pins_fini(pb_ref_pin_t* pins, int32_t n)
{
  for (int32_t i = 0; pins && i < n; ++i) {
    free(pins[i].label);
    free(pins[i].short_label);
  }
  free(pins);
}

void
pb_ref_info_fini(pb_ref_info_t* info)
{
  free(info->path);
  free(info->arch);
  free(info->name);
  free(info->vendor);
  free(info->product);
  for (int32_t i = 0; info->params && i < info->n_params; ++i)
    param_fini(&info->params[i]);
  free(info->params);
  for (int32_t i = 0; info->program_names && i < info->n_programs; ++i)
    free(info->program_names[i]);
  free(info->program_names);
  pins_fini(info->inputs, info->n_inputs);
  pins_fini(info->outputs, info->n_outputs);
  for (int32_t i = 0; info->can_do && i < info->n_can_do; ++i)
    free(info->can_do[i].name);
  free(info->can_do);
  memset(info, 0, sizeof(*info));
}
