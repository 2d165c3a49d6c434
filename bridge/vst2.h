/* The VST 2.4 adapter: loads a plugin and wraps the dispatcher calls the
 * bridge makes.  Knows the ABI (common/vst2_abi.h), nothing of messages.
 *
 * Every string a plugin writes goes into a zeroed PB_VST_STR_BUF-byte
 * buffer that is re-terminated afterwards: plugins overflow the documented
 * 8/24/64-byte limits, and names are kept at full length.
 *
 * Functions taking an index expect it in range (the caller checks it
 * against pb_vst2_n_params() / pb_vst2_n_programs()).  All [main-thread]. */
#ifndef PB_BRIDGE_VST2_H
#define PB_BRIDGE_VST2_H

#include "common/vst2_abi.h"
#include "host/plugbox.h"

#include <stddef.h>
#include <stdint.h>

/* Room for a fixed-size string field of a plugin struct plus its NUL. */
#define PB_VST2_PIN_LABEL_BYTES 65
#define PB_VST2_SHORT_LABEL_BYTES 9
#define PB_VST2_CATEGORY_LABEL_BYTES 25

typedef struct pb_vst2
{
  void* library;           /* dlopen() handle, never closed */
  pb_vst_effect_t* effect; /* owned by the plugin */
  int is_active;           /* effMainsChanged(1) sent */
  int is_processing;       /* effStartProcess sent */
} pb_vst2_t;

/** The plugin-wide part of the INFO reply. */
typedef struct pb_vst2_summary
{
  char name[PB_VST_STR_BUF];
  char vendor[PB_VST_STR_BUF];
  char product[PB_VST_STR_BUF];
  int32_t vendor_version;
  int32_t unique_id;
  int32_t plugin_version;
  int32_t vst_version;
  int32_t category; /* PB_VST_CAT_* */
  uint32_t flags;   /* PB_VST_FLAG_* */
  int32_t n_inputs;
  int32_t n_outputs;
  int32_t initial_delay;
  int32_t midi_in_channels;
  int32_t midi_out_channels;
  int32_t tail_size;
  int32_t program;
  uint32_t n_params;
  uint32_t n_programs;
} pb_vst2_summary_t;

/** One input or output pin (all zero/empty when the plugin has no
 *  properties for it). */
typedef struct pb_vst2_pin
{
  char label[PB_VST2_PIN_LABEL_BYTES];
  char short_label[PB_VST2_SHORT_LABEL_BYTES];
  uint32_t flags; /* PB_VST_PIN_* */
  int32_t arrangement;
} pb_vst2_pin_t;

/** Everything the plugin says about one parameter.  The property fields
 *  are zero unless `has_props`. */
typedef struct pb_vst2_param
{
  char name[PB_VST_STR_BUF];
  char label[PB_VST_STR_BUF];
  char display[PB_VST_STR_BUF];
  float value;
  int is_automatable;
  int has_props;
  uint32_t prop_flags; /* PB_VST_PARAM_* */
  float step;
  float small_step;
  float large_step;
  int32_t min_int;
  int32_t max_int;
  int32_t step_int;
  int32_t large_step_int;
  int32_t display_index;
  int32_t category;
  int32_t n_in_category;
  char prop_label[PB_VST2_PIN_LABEL_BYTES];
  char short_label[PB_VST2_SHORT_LABEL_BYTES];
  char category_label[PB_VST2_CATEGORY_LABEL_BYTES];
} pb_vst2_param_t;

/** Load the plugin at `path` and get its effect from the entry point,
 *  which is given `host_cb`.  On failure writes one line into `err`.
 *  Returns PB_OK, PB_ERR_LOAD (dlopen failed: the loader's message),
 *  PB_ERR_NOT_PLUGIN (no entry point, NULL effect, bad magic).  A library
 *  that loaded stays loaded whatever the result: unloading runs plugin
 *  code that often crashes. */
pb_status_t pb_vst2_load(pb_vst2_t* plugin,
                         const char* path,
                         pb_vst_host_cb_t host_cb,
                         char* err,
                         size_t err_size);

/** effOpen, then the sample rate and block size, in that order. */
void pb_vst2_open(pb_vst2_t* plugin, float sample_rate, int32_t max_block);

/** Stop processing and deactivate if needed, then effClose.  The library
 *  stays loaded. */
void pb_vst2_close(pb_vst2_t* plugin);

/** Parameter, program and pin counts; a negative count reads as 0. */
uint32_t pb_vst2_n_params(const pb_vst2_t* plugin);

uint32_t pb_vst2_n_programs(const pb_vst2_t* plugin);

uint32_t pb_vst2_n_inputs(const pb_vst2_t* plugin);

uint32_t pb_vst2_n_outputs(const pb_vst2_t* plugin);

void pb_vst2_summarize(const pb_vst2_t* plugin, pb_vst2_summary_t* out);

void pb_vst2_pin(const pb_vst2_t* plugin,
                 int is_output,
                 uint32_t index,
                 pb_vst2_pin_t* out);

void pb_vst2_param_describe(const pb_vst2_t* plugin,
                            uint32_t index,
                            pb_vst2_param_t* out);

float pb_vst2_param_get(const pb_vst2_t* plugin, uint32_t index);

/** `value` must be in 0..1. */
void pb_vst2_param_set(const pb_vst2_t* plugin, uint32_t index, float value);

void pb_vst2_param_display(const pb_vst2_t* plugin,
                           uint32_t index,
                           char out[PB_VST_STR_BUF]);

void pb_vst2_param_label(const pb_vst2_t* plugin,
                         uint32_t index,
                         char out[PB_VST_STR_BUF]);

/** effString2Parameter: the plugin parses `text` (under PB_VST_STR_BUF
 *  bytes) and, if it can, sets the parameter.  Returns whether it did;
 *  `*value` is the parameter's value afterwards either way. */
int pb_vst2_param_from_string(const pb_vst2_t* plugin,
                              uint32_t index,
                              const char* text,
                              float* value);

/** Can the parameter be automated (effCanBeAutomated)? */
int pb_vst2_param_is_automatable(const pb_vst2_t* plugin, uint32_t index);

int32_t pb_vst2_program(const pb_vst2_t* plugin);

/** effBeginSetProgram, effSetProgram, effEndSetProgram. */
void pb_vst2_program_set(const pb_vst2_t* plugin, uint32_t index);

/** The name of program `index` from effGetProgramNameIndexed, or for the
 *  current program from effGetProgramName when that fails.  Never
 *  switches programs: "" when the plugin cannot name another program. */
void pb_vst2_program_name(const pb_vst2_t* plugin,
                          uint32_t index,
                          char out[PB_VST_STR_BUF]);

/** Like pb_vst2_program_name(), but when that gives nothing, select
 *  program `index`, read its name and select the current one again. */
void pb_vst2_program_name_by_switching(const pb_vst2_t* plugin,
                                       uint32_t index,
                                       char out[PB_VST_STR_BUF]);

/** Rename the current program.  Names are cut to fit the format's
 *  24-byte field (23 bytes, on a UTF-8 character boundary): plugins copy
 *  them into fixed buffers. */
void pb_vst2_program_rename(const pb_vst2_t* plugin, const char* name);

/** The plugin's state as an opaque chunk (`program_only`: the current
 *  program, else the whole bank).  On success `*data` is borrowed from
 *  the plugin, valid until its next call.  Returns PB_OK,
 *  PB_ERR_UNSUPPORTED (no chunk support), PB_ERR_TOO_BIG (size negative or
 *  over PB_CHUNK_MAX_BYTES), PB_ERR_REFUSED (no data); `err` says which. */
pb_status_t pb_vst2_chunk_get(const pb_vst2_t* plugin,
                              int program_only,
                              const void** data,
                              size_t* size,
                              char* err,
                              size_t err_size);

/** Give the plugin a chunk (copied first: plugins take it as writable).
 *  `*result` is effSetChunk's answer.  Returns PB_OK, PB_ERR_UNSUPPORTED,
 *  PB_ERR_TOO_BIG, PB_ERR_NOMEM. */
pb_status_t pb_vst2_chunk_set(const pb_vst2_t* plugin,
                              int program_only,
                              const void* data,
                              size_t size,
                              int32_t* result,
                              char* err,
                              size_t err_size);

/** Change the sample rate or block size.  The format wants the plugin
 *  off for that: returns PB_OK or PB_ERR_INVALID (the plugin is active). */
pb_status_t pb_vst2_set_sample_rate(const pb_vst2_t* plugin, float hz);

pb_status_t pb_vst2_set_block_size(const pb_vst2_t* plugin, int32_t n_frames);

/** effMainsChanged; deactivating stops processing first.  Does nothing
 *  when already in that state. */
void pb_vst2_set_active(pb_vst2_t* plugin, int on);

/** effStartProcess / effStopProcess.  Does nothing when already in that
 *  state.  Returns PB_OK or PB_ERR_INVALID (starting while inactive). */
pb_status_t pb_vst2_set_processing(pb_vst2_t* plugin, int on);

/** effSetBypass; returns whether the plugin accepted it. */
int pb_vst2_set_bypass(const pb_vst2_t* plugin, int on);

int32_t pb_vst2_tail_size(const pb_vst2_t* plugin);

/** effCanDo for `question` (under PB_VST_STR_BUF bytes): 1 yes, -1 no,
 *  0 don't know, or whatever else the plugin answers. */
int32_t pb_vst2_can_do(const pb_vst2_t* plugin, const char* question);

#endif /* PB_BRIDGE_VST2_H */
