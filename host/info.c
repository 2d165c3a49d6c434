/* Turning the INFO reply into the pb_info_t the caller reads.
 *
 * The shape of the reply is checked once up front (argument types, array
 * columns and cell types, counts that agree with their arrays); after that
 * the copy cannot fail.  Everything lands in one block sized by a first
 * pass, so the plugin frees its description with a single free(). */
#include "info.h"

#include <assert.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Argument types of the INFO reply and of its array rows (message.h). */
static const char info_types[] = "sssiiiiiuiiiiiiiuuaaaaa";
static const char pin_cols[] = "ssui";
static const char param_cols[] = "sssfbbufffiiiiiiisss";
static const char program_cols[] = "s";
static const char can_do_cols[] = "si";

_Static_assert(sizeof(info_types) - 1 == PB_INFO_ARG_COUNT,
               "one type per INFO argument");
_Static_assert(sizeof(param_cols) - 1 == PB_PCOL_COUNT,
               "one type per parameter column");

typedef struct
{
  char* base;
  size_t used;
} arena_t;

static size_t
align_up(size_t n)
{
  const size_t a = alignof(max_align_t);
  return (n + a - 1) & ~(a - 1);
}

/* ----------------------------------------------------------- checking */

static int
array_ok(const pb_val_t* a, const char* cols)
{
  const uint32_t n_cols = (uint32_t)strlen(cols);
  if (a->type != PB_VAL_A || a->v.a.n_cols != n_cols)
    return 0;
  for (uint32_t r = 0; r < a->v.a.n_rows; ++r)
    for (uint32_t c = 0; c < n_cols; ++c)
      if ((char)pb_val_cell(a, r, c)->type != cols[c])
        return 0;
  return 1;
}

static int
args_ok(const pb_msg_t* m)
{
  if (m->n_args != PB_INFO_ARG_COUNT)
    return 0;
  for (uint32_t i = 0; i < PB_INFO_ARG_COUNT; ++i)
    if ((char)m->args[i].type != info_types[i])
      return 0;
  return array_ok(&m->args[PB_INFO_INPUTS], pin_cols) &&
         array_ok(&m->args[PB_INFO_OUTPUTS], pin_cols) &&
         array_ok(&m->args[PB_INFO_PARAMS], param_cols) &&
         array_ok(&m->args[PB_INFO_PROGRAMS], program_cols) &&
         array_ok(&m->args[PB_INFO_CAN_DO], can_do_cols);
}

static uint32_t
rows(const pb_msg_t* m, int arg)
{
  return m->args[arg].v.a.n_rows;
}

/* A count and its array must agree: the caller indexes one by the other. */
static int
count_ok(const pb_msg_t* m,
         int64_t count,
         int arg,
         const char* what,
         char* err,
         size_t cap)
{
  if (count == (int64_t)rows(m, arg))
    return 1;
  (void)snprintf(err,
                 cap,
                 "INFO reply has %u %s rows for a count of %lld",
                 (unsigned)rows(m, arg),
                 what,
                 (long long)count);
  return 0;
}

static pb_status_t
check_shape(const pb_msg_t* m, char* err, size_t cap)
{
  if (!args_ok(m)) {
    (void)snprintf(err, cap, "INFO reply has the wrong shape");
    return PB_ERR_PROTOCOL;
  }
  const pb_val_t* a = m->args;
  if (!count_ok(
        m, a[PB_INFO_N_INPUTS].v.i, PB_INFO_INPUTS, "input", err, cap) ||
      !count_ok(
        m, a[PB_INFO_N_OUTPUTS].v.i, PB_INFO_OUTPUTS, "output", err, cap) ||
      !count_ok(
        m, a[PB_INFO_N_PARAMS].v.u, PB_INFO_PARAMS, "parameter", err, cap) ||
      !count_ok(
        m, a[PB_INFO_N_PROGRAMS].v.u, PB_INFO_PROGRAMS, "program", err, cap))
    return PB_ERR_PROTOCOL;
  return PB_OK;
}

/* ----------------------------------------------------------- measuring */

static size_t
array_string_bytes(const pb_val_t* a)
{
  size_t n = 0;
  for (uint32_t r = 0; r < a->v.a.n_rows; ++r)
    for (uint32_t c = 0; c < a->v.a.n_cols; ++c) {
      const pb_val_t* cell = pb_val_cell(a, r, c);
      if (cell->type == PB_VAL_S)
        n += (size_t)cell->v.s.len + 1u;
    }
  return n;
}

static size_t
measure(const pb_msg_t* m, const char* path, const char* arch)
{
  const pb_val_t* a = m->args;
  size_t n = align_up(rows(m, PB_INFO_PARAMS) * sizeof(pb_param_info_t));
  n += align_up(rows(m, PB_INFO_PROGRAMS) * sizeof(const char*));
  n += align_up(rows(m, PB_INFO_INPUTS) * sizeof(pb_pin_info_t));
  n += align_up(rows(m, PB_INFO_OUTPUTS) * sizeof(pb_pin_info_t));
  n += align_up(rows(m, PB_INFO_CAN_DO) * sizeof(pb_can_do_t));
  n += strlen(path) + strlen(arch) + 2u;
  for (int i = PB_INFO_NAME; i <= PB_INFO_PRODUCT; ++i)
    n += (size_t)a[i].v.s.len + 1u;
  for (int i = PB_INFO_INPUTS; i <= PB_INFO_CAN_DO; ++i)
    n += array_string_bytes(&a[i]);
  return n;
}

/* ------------------------------------------------------------- filling */

static void*
take(arena_t* ar, size_t bytes)
{
  void* p = ar->base + ar->used;
  ar->used += align_up(bytes);
  return p;
}

static const char*
put_str(arena_t* ar, const char* s, size_t len)
{
  char* d = ar->base + ar->used;
  memcpy(d, s, len);
  d[len] = '\0';
  ar->used += len + 1u;
  return d;
}

static const char*
cell_str(arena_t* ar, const pb_val_t* a, uint32_t r, uint32_t c)
{
  const pb_val_t* cell = pb_val_cell(a, r, c);
  return put_str(ar, cell->v.s.ptr, cell->v.s.len);
}

static const pb_val_t*
cell(const pb_val_t* a, uint32_t r, int c)
{
  return pb_val_cell(a, r, (uint32_t)c);
}

static void
fill_param_props(const pb_val_t* a, uint32_t r, pb_param_info_t* p)
{
  p->prop_flags = cell(a, r, PB_PCOL_PROP_FLAGS)->v.u;
  p->step = (float)cell(a, r, PB_PCOL_STEP)->v.f;
  p->small_step = (float)cell(a, r, PB_PCOL_SMALL_STEP)->v.f;
  p->large_step = (float)cell(a, r, PB_PCOL_LARGE_STEP)->v.f;
  p->min_int = cell(a, r, PB_PCOL_MIN_INT)->v.i;
  p->max_int = cell(a, r, PB_PCOL_MAX_INT)->v.i;
  p->step_int = cell(a, r, PB_PCOL_STEP_INT)->v.i;
  p->large_step_int = cell(a, r, PB_PCOL_LARGE_STEP_INT)->v.i;
  p->display_index = cell(a, r, PB_PCOL_DISPLAY_INDEX)->v.i;
  p->category = cell(a, r, PB_PCOL_CATEGORY)->v.i;
  p->n_in_category = cell(a, r, PB_PCOL_N_IN_CATEGORY)->v.i;
}

static void
fill_param(arena_t* ar, const pb_val_t* a, uint32_t r, pb_param_info_t* p)
{
  p->name = cell_str(ar, a, r, PB_PCOL_NAME);
  p->label = cell_str(ar, a, r, PB_PCOL_LABEL);
  p->display = cell_str(ar, a, r, PB_PCOL_DISPLAY);
  p->value = (float)cell(a, r, PB_PCOL_VALUE)->v.f;
  p->automatable = cell(a, r, PB_PCOL_AUTOMATABLE)->v.b;
  p->has_properties = cell(a, r, PB_PCOL_HAS_PROPS)->v.b;
  fill_param_props(a, r, p);
  p->prop_label = cell_str(ar, a, r, PB_PCOL_PROP_LABEL);
  p->short_label = cell_str(ar, a, r, PB_PCOL_SHORT_LABEL);
  p->category_label = cell_str(ar, a, r, PB_PCOL_CATEGORY_LABEL);
}

static void
fill_pins(arena_t* ar, const pb_val_t* a, pb_pin_info_t* pins)
{
  for (uint32_t r = 0; r < a->v.a.n_rows; ++r) {
    pins[r].label = cell_str(ar, a, r, 0);
    pins[r].short_label = cell_str(ar, a, r, 1);
    pins[r].flags = cell(a, r, 2)->v.u;
    pins[r].arrangement = cell(a, r, 3)->v.i;
  }
}

static void
fill_arrays(arena_t* ar, const pb_msg_t* m, pb_info_t* out)
{
  const pb_val_t* a = m->args;
  pb_param_info_t* params = (pb_param_info_t*)take(
    ar, rows(m, PB_INFO_PARAMS) * sizeof(pb_param_info_t));
  const char** names =
    (const char**)take(ar, rows(m, PB_INFO_PROGRAMS) * sizeof(const char*));
  pb_pin_info_t* ins =
    (pb_pin_info_t*)take(ar, rows(m, PB_INFO_INPUTS) * sizeof(pb_pin_info_t));
  pb_pin_info_t* outs =
    (pb_pin_info_t*)take(ar, rows(m, PB_INFO_OUTPUTS) * sizeof(pb_pin_info_t));
  pb_can_do_t* can_do =
    (pb_can_do_t*)take(ar, rows(m, PB_INFO_CAN_DO) * sizeof(pb_can_do_t));

  for (uint32_t r = 0; r < rows(m, PB_INFO_PARAMS); ++r)
    fill_param(ar, &a[PB_INFO_PARAMS], r, &params[r]);
  for (uint32_t r = 0; r < rows(m, PB_INFO_PROGRAMS); ++r)
    names[r] = cell_str(ar, &a[PB_INFO_PROGRAMS], r, 0);
  fill_pins(ar, &a[PB_INFO_INPUTS], ins);
  fill_pins(ar, &a[PB_INFO_OUTPUTS], outs);
  for (uint32_t r = 0; r < rows(m, PB_INFO_CAN_DO); ++r) {
    can_do[r].name = cell_str(ar, &a[PB_INFO_CAN_DO], r, 0);
    can_do[r].answer = cell(&a[PB_INFO_CAN_DO], r, 1)->v.i;
  }
  out->params = params;
  out->program_names = names;
  out->inputs = ins;
  out->outputs = outs;
  out->can_do = can_do;
  out->n_can_do = (int32_t)rows(m, PB_INFO_CAN_DO);
}

static const char*
arg_str(arena_t* ar, const pb_msg_t* m, int arg)
{
  return put_str(ar, m->args[arg].v.s.ptr, m->args[arg].v.s.len);
}

static void
fill_scalars(const pb_msg_t* m, pb_info_t* out)
{
  const pb_val_t* a = m->args;
  out->vendor_version = a[PB_INFO_VENDOR_VERSION].v.i;
  out->unique_id = a[PB_INFO_UNIQUE_ID].v.i;
  pb_info_id_text(out->unique_id, out->unique_id_text);
  out->plugin_version = a[PB_INFO_PLUGIN_VERSION].v.i;
  out->vst_version = a[PB_INFO_VST_VERSION].v.i;
  out->category = a[PB_INFO_CATEGORY].v.i;
  out->flags = a[PB_INFO_FLAGS].v.u;
  out->n_inputs = a[PB_INFO_N_INPUTS].v.i;
  out->n_outputs = a[PB_INFO_N_OUTPUTS].v.i;
  out->initial_delay = a[PB_INFO_INITIAL_DELAY].v.i;
  out->n_midi_in_channels = a[PB_INFO_MIDI_IN].v.i;
  out->n_midi_out_channels = a[PB_INFO_MIDI_OUT].v.i;
  out->tail_size = a[PB_INFO_TAIL_SIZE].v.i;
  out->current_program = a[PB_INFO_CURRENT_PROGRAM].v.i;
  /* Equal to the row counts (checked), which are at most 65536. */
  out->n_params = (int32_t)a[PB_INFO_N_PARAMS].v.u;
  out->n_programs = (int32_t)a[PB_INFO_N_PROGRAMS].v.u;
}

void
pb_info_id_text(int32_t unique_id, char out[5])
{
  const uint32_t id = (uint32_t)unique_id;
  for (int i = 0; i < 4; ++i) {
    const unsigned ch = (id >> (24 - 8 * i)) & 0xffu;
    out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '.';
  }
  out[4] = '\0';
}

pb_status_t
pb_info_build(const pb_msg_t* reply,
              const char* path,
              const char* arch,
              pb_info_t* out,
              void** arena,
              char* err,
              size_t err_cap)
{
  memset(out, 0, sizeof(*out));
  *arena = NULL;
  const pb_status_t st = check_shape(reply, err, err_cap);
  if (st)
    return st;
  const size_t size = measure(reply, path, arch);
  arena_t ar = { (char*)malloc(size ? size : 1u), 0 };
  if (!ar.base) {
    (void)snprintf(err, err_cap, "out of memory reading the plugin info");
    return PB_ERR_NOMEM;
  }
  fill_scalars(reply, out);
  fill_arrays(&ar, reply, out); /* arrays first: they are aligned */
  out->path = put_str(&ar, path, strlen(path));
  out->arch = put_str(&ar, arch, strlen(arch));
  out->name = arg_str(&ar, reply, PB_INFO_NAME);
  out->vendor = arg_str(&ar, reply, PB_INFO_VENDOR);
  out->product = arg_str(&ar, reply, PB_INFO_PRODUCT);
  assert(ar.used <= size);
  *arena = ar.base;
  return PB_OK;
}
