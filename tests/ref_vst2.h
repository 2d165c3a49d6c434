/* The reference loader of the tests: loads a VST 2.4 plugin with dlopen in
 * this process (or in a forked child), asks it what a typical host asks, and
 * keeps the answers in a description with the same content as pb_info_t.
 * It is the oracle the bridged descriptions are compared against, so it is
 * written independently of the bridge and kept simple.
 *
 * Call order: entry point, effOpen, effSetSampleRate(48000),
 * effSetBlockSize(512), then the queries, then effClose.  Every string
 * buffer handed to the plugin is 512 zeroed bytes, terminated afterwards. */
#ifndef PB_TESTS_REF_VST2_H
#define PB_TESTS_REF_VST2_H

#include "plugbox.h"

#include <stddef.h>
#include <stdint.h>

/* More parameters, programs or pins than this is garbage. */
#define PB_REF_MAX_COUNT 65536

typedef enum
{
  PB_REF_OK = 0,
  PB_REF_ERR_LOAD = 1,        /* dlopen failed; message is dlerror() */
  PB_REF_ERR_NO_ENTRY = 2,    /* neither VSTPluginMain nor main */
  PB_REF_ERR_NULL_EFFECT = 3, /* the entry point returned NULL */
  PB_REF_ERR_BAD_MAGIC = 4,   /* the effect's magic is wrong */
  PB_REF_ERR_CRASHED = 5,     /* the child died (signal or exit code) */
  PB_REF_ERR_TIMEOUT = 6,     /* the child missed its deadline */
  PB_REF_ERR_IO = 7,          /* fork, pipe or a malformed reply */
  PB_REF_ERR_NOMEM = 8,
} pb_ref_status_t;

typedef struct
{
  char* label;
  char* short_label;
  uint32_t flags;
  int32_t arrangement;
} pb_ref_pin_t;

typedef struct
{
  char* name;
  char* label;
  char* display;
  float value;
  int32_t automatable;
  int32_t has_properties;
  /* Meaningful when has_properties; the strings are "" otherwise. */
  uint32_t prop_flags;
  float step, small_step, large_step;
  int32_t min_int, max_int, step_int, large_step_int;
  int32_t display_index, category, n_in_category;
  char* prop_label;
  char* short_label;
  char* category_label;
} pb_ref_param_t;

typedef struct
{
  char* name;
  int32_t answer;
} pb_ref_can_do_t;

/* Owned strings and arrays; release with pb_ref_info_fini(). */
typedef struct
{
  pb_ref_status_t status;
  char message[512]; /* why status is not PB_REF_OK */
  char* path;
  char* arch;
  char* name;
  char* vendor;
  char* product;
  int32_t vendor_version;
  int32_t unique_id;
  char unique_id_text[5];
  int32_t plugin_version;
  int32_t vst_version;
  int32_t category;
  uint32_t flags;
  int32_t n_inputs, n_outputs;
  int32_t initial_delay;
  int32_t n_midi_in_channels, n_midi_out_channels;
  int32_t tail_size;
  int32_t n_params;
  pb_ref_param_t* params;
  int32_t n_programs;
  char** program_names;
  int32_t current_program;
  pb_ref_pin_t* inputs;  /* n_inputs entries */
  pb_ref_pin_t* outputs; /* n_outputs entries */
  int32_t n_can_do;
  pb_ref_can_do_t* can_do; /* a fixed list of common questions */
} pb_ref_info_t;

/** Describe the plugin at `path` in this process.  `*out` is always
 *  initialized (release with pb_ref_info_fini()); returns out->status. */
pb_ref_status_t pb_ref_describe(const char* path, pb_ref_info_t* out);

/** pb_ref_describe() that leaves the plugin's library loaded: `*handle`
 *  is its dlopen() handle, or NULL if it did not load. */
pb_ref_status_t pb_ref_describe_open(const char* path,
                                     pb_ref_info_t* out,
                                     void** handle);

/** The same in a forked child, so a plugin that crashes, hangs or pollutes
 *  its process harms only the child; 10 s deadline. */
pb_ref_status_t pb_ref_describe_in_child(const char* path, pb_ref_info_t* out);

/** pb_ref_describe_in_child() with a deadline of `timeout_ms`. */
pb_ref_status_t pb_ref_describe_in_child_timeout(const char* path,
                                                 uint32_t timeout_ms,
                                                 pb_ref_info_t* out);

/** The same through `helper` (pb_ref32, the 32-bit build of this loader):
 *  a forked child runs `helper describe PATH FD`, which describes the
 *  plugin in its own process and writes the description on FD. */
pb_ref_status_t pb_ref_describe_exec(const char* helper,
                                     const char* path,
                                     uint32_t timeout_ms,
                                     pb_ref_info_t* out);

/** Describe `path` in this process and write the description to `fd` in
 *  the form the functions above read.  Returns 0, or -1 on a write or
 *  memory failure.  Leaves the plugin loaded. */
int pb_ref_describe_write(const char* path, int fd);

/** Release what `info` owns and zero it.  Accepts a zeroed struct. */
void pb_ref_info_fini(pb_ref_info_t* info);

/** Short name of `status` ("ok", "load", ...). */
const char* pb_ref_status_name(pb_ref_status_t status);

/** Compare a reference description with a bridged one: strings exactly,
 *  floats bit for bit, canDo answers for the questions both asked.
 *  Returns 0 if equal, else the number of differences, with the first few
 *  described in `diff` (NUL-terminated, cut to `cap`). */
int pb_ref_compare(const pb_ref_info_t* ref,
                   const pb_info_t* info,
                   char* diff,
                   size_t cap);

/** Show `ref` as a pb_info_t, so the same assertions apply to both.  The
 *  strings are borrowed from `ref`; the arrays are allocated.  Returns 0,
 *  or -1 when out of memory.  Release with pb_ref_view_fini(). */
int pb_ref_view_init(const pb_ref_info_t* ref, pb_info_t* view);

/** Release the arrays of a view.  Accepts a zeroed struct. */
void pb_ref_view_fini(pb_info_t* view);

#endif /* PB_TESTS_REF_VST2_H */
