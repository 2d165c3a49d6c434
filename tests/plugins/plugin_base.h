/* Boilerplate shared by the test plugins: the exported entry point, the
 * object every plugin wraps around its effect, and the answers to the
 * opcodes that only read a plugin's fixed description.
 *
 * Test plugins are ordinary VST 2.4 plugins built on common/vst2_abi.h.
 * Each one defines VSTPluginMain(); the project builds with hidden
 * visibility, so the entry points are declared here with PB_TP_EXPORT. */
#ifndef PB_TESTS_PLUGINS_PLUGIN_BASE_H
#define PB_TESTS_PLUGINS_PLUGIN_BASE_H

#include "common/vst2_abi.h"

#include <stddef.h>
#include <stdint.h>

#define PB_TP_EXPORT __attribute__((visibility("default")))

/* Four characters as a big-endian unique id ('PbGn'). */
#define PB_TP_ID(a, b, c, d)                                                   \
  ((int32_t)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) |                   \
             ((uint32_t)(c) << 8) | (uint32_t)(d)))

/* The entry point a plugin defines; declared here so that the definition
 * has a prototype and default visibility. */
PB_TP_EXPORT pb_vst_effect_t* VSTPluginMain(pb_vst_host_cb_t host);

/* Exports the old entry name "main" as a second name of VSTPluginMain in
 * the file that expands it.  The C-level name differs so that the compiler
 * does not check it against the signature of a program's main(). */
#define PB_TP_EXPORT_MAIN_ALIAS                                                \
  PB_TP_EXPORT pb_vst_effect_t* pb_tp_main_alias(                              \
    pb_vst_host_cb_t host) __asm__("main")                                     \
    __attribute__((alias("VSTPluginMain")))

/* What a plugin answers to the opcodes that only read fixed facts. */
typedef struct
{
  const char* name;    /* effGetEffectName */
  const char* vendor;  /* effGetVendorString */
  const char* product; /* effGetProductString */
  int32_t vendor_version;
  int32_t category;
  int32_t vst_version;
  int32_t tail_size;
  int32_t n_midi_in_channels;
  int32_t n_midi_out_channels;
  const char* const* can_do_yes; /* NULL-terminated; answered 1 */
  const char* const* can_do_no;  /* NULL-terminated; answered -1 */
} pb_tp_desc_t;

/* The head of every plugin object.  The effect comes first and its
 * `object` points back at the plugin, so either can be reached from the
 * other. */
typedef struct
{
  pb_vst_effect_t effect;
  pb_vst_host_cb_t host;
  const pb_tp_desc_t* desc;
  float sample_rate;
  int32_t block_size;
  int32_t bypass;
} pb_tp_plugin_t;

/* Allocate a zeroed plugin object of `object_size` bytes (at least
 * sizeof(pb_tp_plugin_t)) with its effect's magic, dispatcher and object
 * filled in.  Returns NULL when out of memory.  Freed by
 * pb_tp_dispatch_default() on effClose. */
pb_tp_plugin_t* pb_tp_plugin_new(size_t object_size,
                                 pb_vst_host_cb_t host,
                                 const pb_tp_desc_t* desc,
                                 pb_vst_dispatch_fn_t dispatcher);

/* The plugin object behind `effect`. */
pb_tp_plugin_t* pb_tp_plugin(pb_vst_effect_t* effect);

/* Answers effClose (frees the object), the sample rate and block size, the
 * strings and numbers of the description, canDo and effSetBypass (only if
 * the description says yes to "bypass").  Everything else returns 0. */
intptr_t pb_tp_dispatch_default(pb_vst_effect_t* effect,
                                int32_t opcode,
                                int32_t index,
                                intptr_t value,
                                void* ptr,
                                float opt);

/* Copy `text` into the host's buffer `dst` of `cap` bytes, always
 * terminated.  Returns 1, or 0 when `dst` is NULL. */
intptr_t pb_tp_str_copy(void* dst, const char* text, size_t cap);

/* Parse a number followed by nothing, blanks or exactly `unit` (may be
 * NULL).  Returns 1 with `*out` set, or 0. */
int pb_tp_parse_number(const char* text, const char* unit, double* out);

/* Clamp a normalized value to 0..1; NaN becomes 0. */
float pb_tp_clamp01(float value);

#endif /* PB_TESTS_PLUGINS_PLUGIN_BASE_H */
