/* dlopen() and PATH_MAX are POSIX. */
#define _POSIX_C_SOURCE 200809L

#include "bridge/vst2.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(void*) == sizeof(pb_vst_entry_fn_t),
               "dlsym() results convert to function pointers");

/* Plugins write past the documented sizes of the structs they fill too, so
 * they get as much room as any string. */
union pin_room
{
  struct pb_vst_pin_props props;
  char room[PB_VST_STR_BUF];
};

union param_room
{
  struct pb_vst_param_props props;
  char room[PB_VST_STR_BUF];
};

/* effGetProgramNameIndexed's category argument: all categories. */
#define ANY_CATEGORY (-1)

static intptr_t
call(const pb_vst2_t* plugin,
     int32_t opcode,
     int32_t index,
     intptr_t value,
     void* ptr,
     float opt)
{
  pb_vst_effect_t* effect = plugin->effect;

  return effect->dispatcher(effect, opcode, index, value, ptr, opt);
}

/* An integer answer.  Plugins answer through a pointer-sized return value;
 * the int they mean is in its low 32 bits. */
static int32_t
call_int(const pb_vst2_t* plugin, int32_t opcode)
{
  return (int32_t)call(plugin, opcode, 0, 0, NULL, 0.0f);
}

static intptr_t
get_string(const pb_vst2_t* plugin,
           int32_t opcode,
           int32_t index,
           intptr_t value,
           char out[PB_VST_STR_BUF])
{
  memset(out, 0, PB_VST_STR_BUF);
  const intptr_t result = call(plugin, opcode, index, value, out, 0.0f);
  out[PB_VST_STR_BUF - 1] = '\0';
  return result;
}

/* Copy a fixed-size string field of a plugin struct, which need not be
 * NUL-terminated when full. */
static void
copy_field(char* dst, size_t dst_size, const char* src, size_t src_size)
{
  const char* nul = memchr(src, '\0', src_size);
  size_t n = nul ? (size_t)(nul - src) : src_size;

  if (n >= dst_size)
    n = dst_size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static uint32_t
count(int32_t n)
{
  return n > 0 ? (uint32_t)n : 0u;
}

/* ------------------------------------------------------------- loading */

static pb_vst_entry_fn_t
find_entry(void* library)
{
  void* symbol = dlsym(library, "VSTPluginMain");
  pb_vst_entry_fn_t entry = NULL;

  if (!symbol)
    symbol = dlsym(library, "main");
  if (symbol)
    memcpy(&entry, &symbol, sizeof entry);
  return entry;
}

/* A path without a slash would make dlopen() search the system's library
 * folders; the host means a file. */
static void*
open_library(const char* path, char* err, size_t err_size)
{
  char local[PATH_MAX];
  const char* file = path;

  if (!strchr(path, '/')) {
    if (snprintf(local, sizeof local, "./%s", path) >= (int)sizeof local) {
      snprintf(err, err_size, "%s: path too long", path);
      return NULL;
    }
    file = local;
  }

  void* library = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* why = dlerror();
    snprintf(err, err_size, "%s", why ? why : "the loader gave no reason");
  }
  return library;
}

static pb_status_t
not_plugin(char* err, size_t err_size, const char* why)
{
  snprintf(err, err_size, "%s", why);
  return PB_ERR_NOT_PLUGIN;
}

static pb_status_t
check_effect(const pb_vst_effect_t* effect, char* err, size_t err_size)
{
  if (!effect)
    return not_plugin(err, err_size, "entry point returned no effect");
  if (effect->magic != PB_VST_MAGIC) {
    snprintf(err, err_size, "bad magic 0x%08x", (uint32_t)effect->magic);
    return PB_ERR_NOT_PLUGIN;
  }
  if (!effect->dispatcher)
    return not_plugin(err, err_size, "effect has no dispatcher");
  return PB_OK;
}

pb_status_t
pb_vst2_load(pb_vst2_t* plugin,
             const char* path,
             pb_vst_host_cb_t host_cb,
             char* err,
             size_t err_size)
{
  memset(plugin, 0, sizeof *plugin);
  plugin->library = open_library(path, err, err_size);
  if (!plugin->library)
    return PB_ERR_LOAD;

  const pb_vst_entry_fn_t entry = find_entry(plugin->library);
  if (!entry)
    return not_plugin(err, err_size, "no VSTPluginMain or main entry point");

  pb_vst_effect_t* effect = entry(host_cb);
  const pb_status_t status = check_effect(effect, err, err_size);
  if (status)
    return status;

  plugin->effect = effect;
  return PB_OK;
}

void
pb_vst2_open(pb_vst2_t* plugin, float sample_rate, int32_t max_block)
{
  call(plugin, PB_VST_EFF_OPEN, 0, 0, NULL, 0.0f);
  call(plugin, PB_VST_EFF_SET_SAMPLE_RATE, 0, 0, NULL, sample_rate);
  call(plugin, PB_VST_EFF_SET_BLOCK_SIZE, 0, max_block, NULL, 0.0f);
}

void
pb_vst2_close(pb_vst2_t* plugin)
{
  pb_vst2_set_active(plugin, 0);
  call(plugin, PB_VST_EFF_CLOSE, 0, 0, NULL, 0.0f);
  plugin->effect = NULL;
}

/* ---------------------------------------------------------- description */

uint32_t
pb_vst2_n_params(const pb_vst2_t* plugin)
{
  return count(plugin->effect->num_params);
}

uint32_t
pb_vst2_n_programs(const pb_vst2_t* plugin)
{
  return count(plugin->effect->num_programs);
}

uint32_t
pb_vst2_n_inputs(const pb_vst2_t* plugin)
{
  return count(plugin->effect->num_inputs);
}

uint32_t
pb_vst2_n_outputs(const pb_vst2_t* plugin)
{
  return count(plugin->effect->num_outputs);
}

static void
summarize_effect(const pb_vst_effect_t* effect, pb_vst2_summary_t* out)
{
  out->unique_id = effect->unique_id;
  out->plugin_version = effect->version;
  out->flags = (uint32_t)effect->flags;
  out->n_inputs = effect->num_inputs;
  out->n_outputs = effect->num_outputs;
  out->initial_delay = effect->initial_delay;
  out->n_params = count(effect->num_params);
  out->n_programs = count(effect->num_programs);
}

void
pb_vst2_summarize(const pb_vst2_t* plugin, pb_vst2_summary_t* out)
{
  memset(out, 0, sizeof *out);
  get_string(plugin, PB_VST_EFF_GET_EFFECT_NAME, 0, 0, out->name);
  get_string(plugin, PB_VST_EFF_GET_VENDOR_STRING, 0, 0, out->vendor);
  get_string(plugin, PB_VST_EFF_GET_PRODUCT_STRING, 0, 0, out->product);
  out->vendor_version = call_int(plugin, PB_VST_EFF_GET_VENDOR_VERSION);
  out->vst_version = call_int(plugin, PB_VST_EFF_GET_VST_VERSION);
  out->category = call_int(plugin, PB_VST_EFF_GET_PLUG_CATEGORY);
  out->midi_in_channels =
    call_int(plugin, PB_VST_EFF_GET_NUM_MIDI_INPUT_CHANNELS);
  out->midi_out_channels =
    call_int(plugin, PB_VST_EFF_GET_NUM_MIDI_OUTPUT_CHANNELS);
  out->tail_size = pb_vst2_tail_size(plugin);
  out->program = pb_vst2_program(plugin);
  /* Last: the calls above may change counts or latency. */
  summarize_effect(plugin->effect, out);
}

void
pb_vst2_pin(const pb_vst2_t* plugin,
            int is_output,
            uint32_t index,
            pb_vst2_pin_t* out)
{
  const int32_t opcode = is_output ? PB_VST_EFF_GET_OUTPUT_PROPERTIES
                                   : PB_VST_EFF_GET_INPUT_PROPERTIES;
  union pin_room pin;

  memset(out, 0, sizeof *out);
  memset(&pin, 0, sizeof pin);
  if (!call(plugin, opcode, (int32_t)index, 0, &pin, 0.0f))
    return;

  copy_field(
    out->label, sizeof out->label, pin.props.label, sizeof pin.props.label);
  copy_field(out->short_label,
             sizeof out->short_label,
             pin.props.short_label,
             sizeof pin.props.short_label);
  out->flags = (uint32_t)pin.props.flags;
  out->arrangement = pin.props.arrangement;
}

static void
copy_param_props(const struct pb_vst_param_props* props, pb_vst2_param_t* out)
{
  out->prop_flags = (uint32_t)props->flags;
  out->step = props->step;
  out->small_step = props->small_step;
  out->large_step = props->large_step;
  out->min_int = props->min_int;
  out->max_int = props->max_int;
  out->step_int = props->step_int;
  out->large_step_int = props->large_step_int;
  out->display_index = props->display_index;
  out->category = props->category;
  out->n_in_category = props->n_params_in_category;
  copy_field(
    out->prop_label, sizeof out->prop_label, props->label, sizeof props->label);
  copy_field(out->short_label,
             sizeof out->short_label,
             props->short_label,
             sizeof props->short_label);
  copy_field(out->category_label,
             sizeof out->category_label,
             props->category_label,
             sizeof props->category_label);
}

static void
describe_param_props(const pb_vst2_t* plugin,
                     int32_t index,
                     pb_vst2_param_t* out)
{
  union param_room props;

  memset(&props, 0, sizeof props);
  if (!call(
        plugin, PB_VST_EFF_GET_PARAMETER_PROPERTIES, index, 0, &props, 0.0f))
    return;

  out->has_props = 1;
  copy_param_props(&props.props, out);
}

void
pb_vst2_param_describe(const pb_vst2_t* plugin,
                       uint32_t index,
                       pb_vst2_param_t* out)
{
  const int32_t i = (int32_t)index;

  memset(out, 0, sizeof *out);
  get_string(plugin, PB_VST_EFF_GET_PARAM_NAME, i, 0, out->name);
  get_string(plugin, PB_VST_EFF_GET_PARAM_LABEL, i, 0, out->label);
  get_string(plugin, PB_VST_EFF_GET_PARAM_DISPLAY, i, 0, out->display);
  out->value = pb_vst2_param_get(plugin, index);
  out->is_automatable = pb_vst2_param_is_automatable(plugin, index);
  describe_param_props(plugin, i, out);
}

/* ----------------------------------------------------------- parameters */

float
pb_vst2_param_get(const pb_vst2_t* plugin, uint32_t index)
{
  pb_vst_effect_t* effect = plugin->effect;

  if (!effect->get_parameter)
    return 0.0f;
  return effect->get_parameter(effect, (int32_t)index);
}

void
pb_vst2_param_set(const pb_vst2_t* plugin, uint32_t index, float value)
{
  pb_vst_effect_t* effect = plugin->effect;

  if (effect->set_parameter)
    effect->set_parameter(effect, (int32_t)index, value);
}

void
pb_vst2_param_display(const pb_vst2_t* plugin,
                      uint32_t index,
                      char out[PB_VST_STR_BUF])
{
  get_string(plugin, PB_VST_EFF_GET_PARAM_DISPLAY, (int32_t)index, 0, out);
}

void
pb_vst2_param_label(const pb_vst2_t* plugin,
                    uint32_t index,
                    char out[PB_VST_STR_BUF])
{
  get_string(plugin, PB_VST_EFF_GET_PARAM_LABEL, (int32_t)index, 0, out);
}

/* Plugins take strings as writable: they get a copy in a full-size
 * buffer.  `text` is shorter than PB_VST_STR_BUF bytes. */
static void
copy_text(char buf[PB_VST_STR_BUF], const char* text)
{
  memset(buf, 0, PB_VST_STR_BUF);
  snprintf(buf, PB_VST_STR_BUF, "%s", text);
}

int
pb_vst2_param_from_string(const pb_vst2_t* plugin,
                          uint32_t index,
                          const char* text,
                          float* value)
{
  char buf[PB_VST_STR_BUF];

  copy_text(buf, text);
  const intptr_t ok =
    call(plugin, PB_VST_EFF_STRING_TO_PARAMETER, (int32_t)index, 0, buf, 0.0f);
  *value = pb_vst2_param_get(plugin, index);
  return ok != 0;
}

int
pb_vst2_param_is_automatable(const pb_vst2_t* plugin, uint32_t index)
{
  return call(plugin,
              PB_VST_EFF_CAN_BE_AUTOMATED,
              (int32_t)index,
              0,
              NULL,
              0.0f) != 0;
}

/* ------------------------------------------------------------- programs */

int32_t
pb_vst2_program(const pb_vst2_t* plugin)
{
  return call_int(plugin, PB_VST_EFF_GET_PROGRAM);
}

void
pb_vst2_program_set(const pb_vst2_t* plugin, uint32_t index)
{
  call(plugin, PB_VST_EFF_BEGIN_SET_PROGRAM, 0, 0, NULL, 0.0f);
  call(plugin, PB_VST_EFF_SET_PROGRAM, 0, (intptr_t)index, NULL, 0.0f);
  call(plugin, PB_VST_EFF_END_SET_PROGRAM, 0, 0, NULL, 0.0f);
}

/* A plugin that wrote a name but answered 0 still named the program. */
static int
name_indexed(const pb_vst2_t* plugin, uint32_t index, char out[PB_VST_STR_BUF])
{
  return get_string(plugin,
                    PB_VST_EFF_GET_PROGRAM_NAME_INDEXED,
                    (int32_t)index,
                    ANY_CATEGORY,
                    out) != 0 ||
         out[0] != '\0';
}

static void
current_name(const pb_vst2_t* plugin, char out[PB_VST_STR_BUF])
{
  get_string(plugin, PB_VST_EFF_GET_PROGRAM_NAME, 0, 0, out);
}

void
pb_vst2_program_name(const pb_vst2_t* plugin,
                     uint32_t index,
                     char out[PB_VST_STR_BUF])
{
  if (name_indexed(plugin, index, out))
    return;
  if ((int64_t)index == pb_vst2_program(plugin))
    current_name(plugin, out);
}

void
pb_vst2_program_name_by_switching(const pb_vst2_t* plugin,
                                  uint32_t index,
                                  char out[PB_VST_STR_BUF])
{
  const int32_t current = pb_vst2_program(plugin);

  pb_vst2_program_name(plugin, index, out);
  if (out[0] || current < 0 || (int64_t)index == current)
    return;
  pb_vst2_program_set(plugin, index);
  current_name(plugin, out);
  pb_vst2_program_set(plugin, (uint32_t)current);
}

/* Cut `s` to at most `max_bytes`, never inside a UTF-8 sequence. */
static void
cut_utf8(char* s, size_t max_bytes)
{
  size_t n = strlen(s);

  if (n <= max_bytes)
    return;
  n = max_bytes;
  while (n > 0 && ((unsigned char)s[n] & 0xC0u) == 0x80u)
    --n;
  s[n] = '\0';
}

void
pb_vst2_program_rename(const pb_vst2_t* plugin, const char* name)
{
  char buf[PB_VST_STR_BUF];

  copy_text(buf, name);
  cut_utf8(buf, PB_VST_PROG_NAME_LEN - 1);
  call(plugin, PB_VST_EFF_SET_PROGRAM_NAME, 0, 0, buf, 0.0f);
}

/* ---------------------------------------------------------------- state */

static pb_status_t
check_chunks(const pb_vst2_t* plugin, char* err, size_t err_size)
{
  if (plugin->effect->flags & PB_VST_FLAG_PROGRAM_CHUNKS)
    return PB_OK;
  snprintf(err, err_size, "plugin does not support state chunks");
  return PB_ERR_UNSUPPORTED;
}

pb_status_t
pb_vst2_chunk_get(const pb_vst2_t* plugin,
                  int program_only,
                  const void** data,
                  size_t* size,
                  char* err,
                  size_t err_size)
{
  const pb_status_t status = check_chunks(plugin, err, err_size);
  if (status)
    return status;

  void* chunk = NULL;
  const intptr_t n =
    call(plugin, PB_VST_EFF_GET_CHUNK, program_only ? 1 : 0, 0, &chunk, 0.0f);
  if (n < 0 || (uintmax_t)n > PB_CHUNK_MAX_BYTES) {
    snprintf(err,
             err_size,
             "plugin chunk of %jd bytes (limit %u)",
             (intmax_t)n,
             PB_CHUNK_MAX_BYTES);
    return PB_ERR_TOO_BIG;
  }
  if (!chunk && n > 0) {
    snprintf(
      err, err_size, "plugin gave a %jd-byte chunk without data", (intmax_t)n);
    return PB_ERR_REFUSED;
  }
  *data = chunk;
  *size = (size_t)n;
  return PB_OK;
}

pb_status_t
pb_vst2_chunk_set(const pb_vst2_t* plugin,
                  int program_only,
                  const void* data,
                  size_t size,
                  int32_t* result,
                  char* err,
                  size_t err_size)
{
  const pb_status_t status = check_chunks(plugin, err, err_size);
  if (status)
    return status;
  if (size > PB_CHUNK_MAX_BYTES) {
    snprintf(
      err, err_size, "chunk of %zu bytes (limit %u)", size, PB_CHUNK_MAX_BYTES);
    return PB_ERR_TOO_BIG;
  }

  void* copy = malloc(size ? size : 1);
  if (!copy) {
    snprintf(err, err_size, "no memory for a %zu-byte chunk", size);
    return PB_ERR_NOMEM;
  }
  if (size)
    memcpy(copy, data, size);
  *result = (int32_t)call(plugin,
                          PB_VST_EFF_SET_CHUNK,
                          program_only ? 1 : 0,
                          (intptr_t)size,
                          copy,
                          0.0f);
  free(copy);
  return PB_OK;
}

/* ------------------------------------------------------------- settings */

pb_status_t
pb_vst2_set_sample_rate(const pb_vst2_t* plugin, float hz)
{
  if (plugin->is_active)
    return PB_ERR_INVALID;
  call(plugin, PB_VST_EFF_SET_SAMPLE_RATE, 0, 0, NULL, hz);
  return PB_OK;
}

pb_status_t
pb_vst2_set_block_size(const pb_vst2_t* plugin, int32_t n_frames)
{
  if (plugin->is_active)
    return PB_ERR_INVALID;
  call(plugin, PB_VST_EFF_SET_BLOCK_SIZE, 0, n_frames, NULL, 0.0f);
  return PB_OK;
}

void
pb_vst2_set_active(pb_vst2_t* plugin, int on)
{
  if (!on == !plugin->is_active)
    return;
  if (!on)
    (void)pb_vst2_set_processing(plugin, 0);
  call(plugin, PB_VST_EFF_MAINS_CHANGED, 0, on ? 1 : 0, NULL, 0.0f);
  plugin->is_active = on ? 1 : 0;
}

pb_status_t
pb_vst2_set_processing(pb_vst2_t* plugin, int on)
{
  if (!on == !plugin->is_processing)
    return PB_OK;
  if (on && !plugin->is_active)
    return PB_ERR_INVALID;
  call(plugin,
       on ? PB_VST_EFF_START_PROCESS : PB_VST_EFF_STOP_PROCESS,
       0,
       0,
       NULL,
       0.0f);
  plugin->is_processing = on ? 1 : 0;
  return PB_OK;
}

int
pb_vst2_set_bypass(const pb_vst2_t* plugin, int on)
{
  return call(plugin, PB_VST_EFF_SET_BYPASS, 0, on ? 1 : 0, NULL, 0.0f) != 0;
}

int32_t
pb_vst2_tail_size(const pb_vst2_t* plugin)
{
  return call_int(plugin, PB_VST_EFF_GET_TAIL_SIZE);
}

int32_t
pb_vst2_can_do(const pb_vst2_t* plugin, const char* question)
{
  char buf[PB_VST_STR_BUF];

  copy_text(buf, question);
  return (int32_t)call(plugin, PB_VST_EFF_CAN_DO, 0, 0, buf, 0.0f);
}
