/* Boilerplate shared by the test plugins; see plugin_base.h. */
#include "plugin_base.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

pb_tp_plugin_t*
pb_tp_plugin_new(size_t object_size,
                 pb_vst_host_cb_t host,
                 const pb_tp_desc_t* desc,
                 pb_vst_dispatch_fn_t dispatcher)
{
  if (object_size < sizeof(pb_tp_plugin_t))
    return NULL;
  pb_tp_plugin_t* plugin = calloc(1, object_size);
  if (!plugin)
    return NULL;
  plugin->effect.magic = PB_VST_MAGIC;
  plugin->effect.dispatcher = dispatcher;
  plugin->effect.object = plugin;
  plugin->effect.io_ratio = 1.0f;
  plugin->host = host;
  plugin->desc = desc;
  plugin->sample_rate = 44100.0f;
  plugin->block_size = 1024;
  return plugin;
}

pb_tp_plugin_t*
pb_tp_plugin(pb_vst_effect_t* effect)
{
  return (pb_tp_plugin_t*)effect->object;
}

intptr_t
pb_tp_str_copy(void* dst, const char* text, size_t cap)
{
  if (!dst || cap == 0)
    return 0;
  const size_t len = strlen(text);
  const size_t n = len < cap - 1 ? len : cap - 1;
  memcpy(dst, text, n);
  ((char*)dst)[n] = '\0';
  return 1;
}

static int
in_list(const char* const* list, const char* what)
{
  for (; list && *list; ++list) {
    if (strcmp(*list, what) == 0)
      return 1;
  }
  return 0;
}

static intptr_t
can_do(const pb_tp_desc_t* desc, const char* what)
{
  if (!what)
    return 0;
  if (in_list(desc->can_do_yes, what))
    return 1;
  if (in_list(desc->can_do_no, what))
    return -1;
  return 0;
}

/* Plugins write at most the documented sizes of these strings, except
 * where a plugin's own description is longer on purpose: the host's buffer
 * is PB_VST_STR_BUF bytes, and we never write past 500 of them. */
static intptr_t
desc_string(const char* text, size_t documented_cap, void* ptr)
{
  const size_t cap = strlen(text) < documented_cap ? documented_cap : 501;
  return pb_tp_str_copy(ptr, text, cap);
}

intptr_t
pb_tp_dispatch_default(pb_vst_effect_t* effect,
                       int32_t opcode,
                       int32_t index,
                       intptr_t value,
                       void* ptr,
                       float opt)
{
  (void)index;
  pb_tp_plugin_t* plugin = pb_tp_plugin(effect);
  const pb_tp_desc_t* desc = plugin->desc;
  switch (opcode) {
    case PB_VST_EFF_CLOSE:
      free(plugin);
      return 1;
    case PB_VST_EFF_SET_SAMPLE_RATE:
      plugin->sample_rate = opt;
      return 1;
    case PB_VST_EFF_SET_BLOCK_SIZE:
      plugin->block_size = (int32_t)value;
      return 1;
    case PB_VST_EFF_GET_EFFECT_NAME:
      return desc_string(desc->name, PB_VST_EFFECT_NAME_LEN, ptr);
    case PB_VST_EFF_GET_VENDOR_STRING:
      return desc_string(desc->vendor, PB_VST_VENDOR_STR_LEN, ptr);
    case PB_VST_EFF_GET_PRODUCT_STRING:
      return desc_string(desc->product, PB_VST_PRODUCT_STR_LEN, ptr);
    case PB_VST_EFF_GET_VENDOR_VERSION:
      return desc->vendor_version;
    case PB_VST_EFF_GET_PLUG_CATEGORY:
      return desc->category;
    case PB_VST_EFF_GET_VST_VERSION:
      return desc->vst_version;
    case PB_VST_EFF_GET_TAIL_SIZE:
      return desc->tail_size;
    case PB_VST_EFF_GET_NUM_MIDI_INPUT_CHANNELS:
      return desc->n_midi_in_channels;
    case PB_VST_EFF_GET_NUM_MIDI_OUTPUT_CHANNELS:
      return desc->n_midi_out_channels;
    case PB_VST_EFF_CAN_DO:
      return can_do(desc, (const char*)ptr);
    case PB_VST_EFF_SET_BYPASS:
      if (can_do(desc, "bypass") != 1)
        return 0;
      plugin->bypass = value != 0;
      return 1;
    default:
      return 0;
  }
}

int
pb_tp_parse_number(const char* text, const char* unit, double* out)
{
  if (!text)
    return 0;
  char* end = NULL;
  const double number = strtod(text, &end);
  if (end == text)
    return 0;
  while (isspace((unsigned char)*end))
    ++end;
  if (unit && *unit && strncmp(end, unit, strlen(unit)) == 0)
    end += strlen(unit);
  while (isspace((unsigned char)*end))
    ++end;
  if (*end != '\0' || isnan(number))
    return 0;
  *out = number;
  return 1;
}

float
pb_tp_clamp01(float value)
{
  if (!(value > 0.0f))
    return 0.0f;
  return value < 1.0f ? value : 1.0f;
}
