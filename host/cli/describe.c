/* Both forms walk the same pb_info_t.  Pointers in it are checked before
 * use even where the library promises them, so that a short description
 * (a crashed read, a future library) prints as empty, never faults. */
#include "describe.h"

#include <string.h>

typedef struct
{
  uint32_t bit;
  const char* name;
} flag_name_t;

/* In the order the listing has always shown them. */
static const flag_name_t plugin_flags[] = {
  { PB_FLAG_EDITOR, "editor" },
  { PB_FLAG_REPLACING, "replacing" },
  { PB_FLAG_DOUBLE_REPLACING, "double-replacing" },
  { PB_FLAG_PROGRAM_CHUNKS, "program-chunks" },
  { PB_FLAG_SYNTH, "synth" },
  { PB_FLAG_NO_SOUND_IN_STOP, "no-sound-in-stop" },
  { 0, NULL },
};

/* VstParameterProperties flags, numbered as in the VST 2.4 format. */
static const flag_name_t param_flags[] = {
  { 1u << 0, "switch" },        { 1u << 1, "integer-min-max" },
  { 1u << 2, "float-step" },    { 1u << 3, "integer-step" },
  { 1u << 4, "display-index" }, { 1u << 5, "category" },
  { 1u << 6, "can-ramp" },      { 0, NULL },
};

static uint32_t
known_bits(const flag_name_t* names)
{
  uint32_t bits = 0;
  for (const flag_name_t* f = names; f->name; ++f)
    bits |= f->bit;
  return bits;
}

/* The four characters of the unique id, up to a NUL. */
static size_t
id_text_length(const pb_info_t* info)
{
  const void* nul = memchr(info->unique_id_text, '\0', 4);
  return nul ? (size_t)((const char*)nul - info->unique_id_text) : 4;
}

static const char*
program_name(const pb_info_t* info, int32_t i)
{
  return info->program_names ? info->program_names[i] : NULL;
}

/* ------------------------------------------------------------- listing */

static void
text_field(pb_text_t* out, const char* label, const char* value)
{
  pb_text_printf(out, "%s: ", label);
  pb_text_puts_safe(out, value);
  pb_text_printf(out, "\n");
}

static void
text_programs(pb_text_t* out, const pb_info_t* info)
{
  for (int32_t i = 0; i < info->n_programs; ++i) {
    pb_text_printf(out, "Program %03d: ", (int)i);
    pb_text_puts_safe(out, program_name(info, i));
    pb_text_printf(out, "\n");
  }
}

/* "Param 000: Pre-Gain [0.00 dB] (normalized = 0.500000)" */
static void
text_param(pb_text_t* out, int32_t i, const pb_param_info_t* p)
{
  int has_display = p->display && p->display[0];
  int has_label = p->label && p->label[0];
  pb_text_printf(out, "Param %03d: ", (int)i);
  pb_text_puts_safe(out, p->name);
  pb_text_printf(out, " [");
  pb_text_puts_safe(out, p->display);
  if (has_display && has_label)
    pb_text_printf(out, " ");
  pb_text_puts_safe(out, p->label);
  pb_text_printf(out, "] (normalized = %f)\n", (double)p->value);
}

static void
text_params(pb_text_t* out, const pb_info_t* info)
{
  for (int32_t i = 0; info->params && i < info->n_params; ++i)
    text_param(out, i, &info->params[i]);
}

static void
text_flags(pb_text_t* out, uint32_t flags)
{
  pb_text_printf(out, "Flags:");
  for (const flag_name_t* f = plugin_flags; f->name; ++f)
    if (flags & f->bit)
      pb_text_printf(out, " %s", f->name);
  uint32_t other = flags & ~known_bits(plugin_flags);
  if (other)
    pb_text_printf(out, " 0x%x", (unsigned)other);
  pb_text_printf(out, "%s\n", flags ? "" : " none");
}

static int
has_labels(const pb_pin_info_t* pins, int32_t n)
{
  for (int32_t i = 0; pins && i < n; ++i)
    if (pins[i].label && pins[i].label[0])
      return 1;
  return 0;
}

/* Pin lines only when the plugin labels its pins: "Input 0: -" lines
 * would say nothing. */
static void
text_pins(pb_text_t* out,
          const char* kind,
          const pb_pin_info_t* pins,
          int32_t n)
{
  if (!has_labels(pins, n))
    return;
  for (int32_t i = 0; i < n; ++i) {
    pb_text_printf(out, "%s %d: ", kind, (int)i);
    if (pins[i].label && pins[i].label[0])
      pb_text_puts_safe(out, pins[i].label);
    else
      pb_text_printf(out, "-");
    pb_text_printf(out, "\n");
  }
}

static void
text_identity(pb_text_t* out, const pb_info_t* info)
{
  pb_text_printf(out, "Unique ID: %ld ('", (long)info->unique_id);
  pb_text_write_safe(out, info->unique_id_text, id_text_length(info), 0);
  pb_text_printf(out, "')\n");
  pb_text_printf(out,
                 "Version: %ld  VST version: %ld  Vendor version: %ld\n",
                 (long)info->plugin_version,
                 (long)info->vst_version,
                 (long)info->vendor_version);
  pb_text_printf(out, "Category: %s\n", pb_category_name(info->category));
  text_flags(out, info->flags);
}

static void
text_processing(pb_text_t* out, const pb_info_t* info)
{
  pb_text_printf(out, "Latency: %ld samples\n", (long)info->initial_delay);
  pb_text_printf(out, "Tail: %ld samples\n", (long)info->tail_size);
  pb_text_printf(out,
                 "MIDI inputs: %ld channels, outputs: %ld channels\n",
                 (long)info->n_midi_in_channels,
                 (long)info->n_midi_out_channels);
  text_pins(out, "Input", info->inputs, info->n_inputs);
  text_pins(out, "Output", info->outputs, info->n_outputs);
  text_field(out, "Architecture", info->arch);
}

void
pb_describe_text(pb_text_t* out, const pb_info_t* info)
{
  text_field(out, "Plugin name", info->name);
  text_field(out, "Vendor", info->vendor);
  text_field(out, "Product", info->product);
  pb_text_printf(out, "numPrograms = %ld\n", (long)info->n_programs);
  pb_text_printf(out, "numParams = %ld\n", (long)info->n_params);
  pb_text_printf(out, "numInputs = %ld\n", (long)info->n_inputs);
  pb_text_printf(out, "numOutputs = %ld\n", (long)info->n_outputs);
  text_programs(out, info);
  text_params(out, info);
  text_identity(out, info);
  text_processing(out, info);
}

/* ---------------------------------------------------------------- JSON */

static void
json_str(pb_json_t* json, const char* key, const char* value)
{
  pb_json_key(json, key);
  pb_json_string(json, value);
}

static void
json_int(pb_json_t* json, const char* key, int64_t value)
{
  pb_json_key(json, key);
  pb_json_int(json, value);
}

static void
json_flag_names(pb_json_t* json,
                const char* key,
                const flag_name_t* names,
                uint32_t flags)
{
  pb_json_key(json, key);
  pb_json_array_begin(json);
  for (const flag_name_t* f = names; f->name; ++f)
    if (flags & f->bit)
      pb_json_string(json, f->name);
  pb_json_array_end(json);
}

static void
json_identity(pb_json_t* json, const pb_info_t* info)
{
  json_str(json, "path", info->path);
  json_str(json, "arch", info->arch);
  json_str(json, "name", info->name);
  json_str(json, "vendor", info->vendor);
  json_str(json, "product", info->product);
  json_int(json, "vendor_version", info->vendor_version);
  json_int(json, "unique_id", info->unique_id);
  pb_json_key(json, "unique_id_text");
  pb_json_string_n(json, info->unique_id_text, id_text_length(info));
  json_int(json, "plugin_version", info->plugin_version);
  json_int(json, "vst_version", info->vst_version);
  json_str(json, "category", pb_category_name(info->category));
  json_int(json, "category_id", info->category);
  json_flag_names(json, "flags", plugin_flags, info->flags);
  json_int(json, "flags_value", info->flags);
}

static void
json_pins(pb_json_t* json,
          const char* key,
          const pb_pin_info_t* pins,
          int32_t n)
{
  pb_json_key(json, key);
  pb_json_array_begin(json);
  for (int32_t i = 0; pins && i < n; ++i) {
    pb_json_object_begin(json);
    json_int(json, "index", i);
    json_str(json, "label", pins[i].label);
    json_str(json, "short_label", pins[i].short_label);
    json_int(json, "flags", pins[i].flags);
    json_int(json, "arrangement", pins[i].arrangement);
    pb_json_object_end(json);
  }
  pb_json_array_end(json);
}

static void
json_processing(pb_json_t* json, const pb_info_t* info)
{
  json_int(json, "n_inputs", info->n_inputs);
  json_int(json, "n_outputs", info->n_outputs);
  json_pins(json, "inputs", info->inputs, info->n_inputs);
  json_pins(json, "outputs", info->outputs, info->n_outputs);
  json_int(json, "latency", info->initial_delay);
  json_int(json, "tail", info->tail_size);
  json_int(json, "midi_inputs", info->n_midi_in_channels);
  json_int(json, "midi_outputs", info->n_midi_out_channels);
}

static void
json_programs(pb_json_t* json, const pb_info_t* info)
{
  pb_json_key(json, "programs");
  pb_json_array_begin(json);
  for (int32_t i = 0; i < info->n_programs; ++i)
    pb_json_string(json, program_name(info, i));
  pb_json_array_end(json);
  json_int(json, "current_program", info->current_program);
}

static void
json_step(pb_json_t* json, const char* key, float value)
{
  pb_json_key(json, key);
  pb_json_double(json, (double)value);
}

static void
json_properties(pb_json_t* json, const pb_param_info_t* p)
{
  pb_json_object_begin(json);
  json_int(json, "flags_value", p->prop_flags);
  json_flag_names(json, "flags", param_flags, p->prop_flags);
  json_step(json, "step", p->step);
  json_step(json, "small_step", p->small_step);
  json_step(json, "large_step", p->large_step);
  json_int(json, "min_int", p->min_int);
  json_int(json, "max_int", p->max_int);
  json_int(json, "step_int", p->step_int);
  json_int(json, "large_step_int", p->large_step_int);
  json_int(json, "display_index", p->display_index);
  json_int(json, "category", p->category);
  json_int(json, "n_in_category", p->n_in_category);
  json_str(json, "label", p->prop_label);
  json_str(json, "short_label", p->short_label);
  json_str(json, "category_label", p->category_label);
  pb_json_object_end(json);
}

static void
json_param(pb_json_t* json, int32_t i, const pb_param_info_t* p)
{
  pb_json_object_begin(json);
  json_int(json, "index", i);
  json_str(json, "name", p->name);
  json_str(json, "label", p->label);
  json_str(json, "display", p->display);
  json_step(json, "value", p->value);
  pb_json_key(json, "automatable");
  pb_json_bool(json, p->automatable);
  pb_json_key(json, "properties");
  if (p->has_properties)
    json_properties(json, p);
  else
    pb_json_null(json);
  pb_json_object_end(json);
}

static void
json_params(pb_json_t* json, const pb_info_t* info)
{
  pb_json_key(json, "params");
  pb_json_array_begin(json);
  for (int32_t i = 0; info->params && i < info->n_params; ++i)
    json_param(json, i, &info->params[i]);
  pb_json_array_end(json);
}

static void
json_can_do(pb_json_t* json, const pb_info_t* info)
{
  pb_json_key(json, "can_do");
  pb_json_object_begin(json);
  for (int32_t i = 0; info->can_do && i < info->n_can_do; ++i) {
    const char* name = info->can_do[i].name;
    json_int(json, name ? name : "", info->can_do[i].answer);
  }
  pb_json_object_end(json);
}

void
pb_describe_json(pb_json_t* json, const pb_info_t* info)
{
  pb_json_object_begin(json);
  json_identity(json, info);
  json_processing(json, info);
  json_programs(json, info);
  json_params(json, info);
  json_can_do(json, info);
  pb_json_object_end(json);
}
