/* pb_ref_compare(): a reference description against a bridged one; see
 * ref_vst2.h. */
#define _POSIX_C_SOURCE 200809L

#include "ref_vst2.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- comparing */

#define DIFF_SHOWN 6 /* differences described; the rest are only counted */

typedef struct
{
  char* buf;
  size_t cap;
  size_t len;
  int count;
} diff_t;

static void
diff_add(diff_t* d, const char* format, ...)
{
  ++d->count;
  if (d->count > DIFF_SHOWN || d->len + 1 >= d->cap)
    return;
  va_list args;
  va_start(args, format);
  const int n = vsnprintf(d->buf + d->len, d->cap - d->len, format, args);
  va_end(args);
  if (n > 0)
    d->len += (size_t)n < d->cap - d->len ? (size_t)n : d->cap - d->len - 1;
}

static void
diff_str(diff_t* d, const char* what, const char* ref, const char* got)
{
  if (got && strcmp(ref ? ref : "", got) == 0)
    return;
  diff_add(d,
           "%s: ref \"%.80s\" != bridged %s%.80s%s; ",
           what,
           ref ? ref : "",
           got ? "\"" : "",
           got ? got : "NULL",
           got ? "\"" : "");
}

static void
diff_int(diff_t* d, const char* what, int64_t ref, int64_t got)
{
  if (ref != got)
    diff_add(d,
             "%s: ref %lld != bridged %lld; ",
             what,
             (long long)ref,
             (long long)got);
}

static void
diff_float(diff_t* d, const char* what, float ref, float got)
{
  uint32_t a = 0;
  uint32_t b = 0;
  memcpy(&a, &ref, sizeof(a));
  memcpy(&b, &got, sizeof(b));
  if (a != b)
    diff_add(d,
             "%s: ref %.9g (0x%08x) != bridged %.9g (0x%08x); ",
             what,
             (double)ref,
             (unsigned)a,
             (double)got,
             (unsigned)b);
}

static void
compare_properties(diff_t* d,
                   const char* w,
                   const pb_ref_param_t* r,
                   const pb_param_info_t* g)
{
  char what[96];
#define PROP_INT(field, gfield)                                                \
  snprintf(what, sizeof(what), "%s." #field, w);                               \
  diff_int(d, what, r->field, g->gfield)
#define PROP_FLOAT(field)                                                      \
  snprintf(what, sizeof(what), "%s." #field, w);                               \
  diff_float(d, what, r->field, g->field)
#define PROP_STR(field)                                                        \
  snprintf(what, sizeof(what), "%s." #field, w);                               \
  diff_str(d, what, r->field, g->field)
  PROP_INT(prop_flags, prop_flags);
  PROP_FLOAT(step);
  PROP_FLOAT(small_step);
  PROP_FLOAT(large_step);
  PROP_INT(min_int, min_int);
  PROP_INT(max_int, max_int);
  PROP_INT(step_int, step_int);
  PROP_INT(large_step_int, large_step_int);
  PROP_INT(display_index, display_index);
  PROP_INT(category, category);
  PROP_INT(n_in_category, n_in_category);
  PROP_STR(prop_label);
  PROP_STR(short_label);
  PROP_STR(category_label);
#undef PROP_INT
#undef PROP_FLOAT
#undef PROP_STR
}

static void
compare_param(diff_t* d,
              int32_t i,
              const pb_ref_param_t* r,
              const pb_param_info_t* g)
{
  char what[64];
  snprintf(what, sizeof(what), "param[%d].name", (int)i);
  diff_str(d, what, r->name, g->name);
  snprintf(what, sizeof(what), "param[%d].label", (int)i);
  diff_str(d, what, r->label, g->label);
  snprintf(what, sizeof(what), "param[%d].display", (int)i);
  diff_str(d, what, r->display, g->display);
  snprintf(what, sizeof(what), "param[%d].value", (int)i);
  diff_float(d, what, r->value, g->value);
  snprintf(what, sizeof(what), "param[%d].automatable", (int)i);
  diff_int(d, what, r->automatable, g->automatable != 0);
  snprintf(what, sizeof(what), "param[%d].has_properties", (int)i);
  diff_int(d, what, r->has_properties, g->has_properties != 0);
  if (r->has_properties && g->has_properties) {
    snprintf(what, sizeof(what), "param[%d]", (int)i);
    compare_properties(d, what, r, g);
  }
}

static void
compare_pins(diff_t* d,
             const char* kind,
             const pb_ref_pin_t* r,
             const pb_pin_info_t* g,
             int32_t n)
{
  char what[64];
  if (n > 0 && !g) {
    diff_add(d, "%s: bridged array is NULL; ", kind);
    return;
  }
  for (int32_t i = 0; i < n; ++i) {
    snprintf(what, sizeof(what), "%s[%d].label", kind, (int)i);
    diff_str(d, what, r[i].label, g[i].label);
    snprintf(what, sizeof(what), "%s[%d].short_label", kind, (int)i);
    diff_str(d, what, r[i].short_label, g[i].short_label);
    snprintf(what, sizeof(what), "%s[%d].flags", kind, (int)i);
    diff_int(d, what, r[i].flags, g[i].flags);
    snprintf(what, sizeof(what), "%s[%d].arrangement", kind, (int)i);
    diff_int(d, what, r[i].arrangement, g[i].arrangement);
  }
}

static void
compare_lists(diff_t* d, const pb_ref_info_t* r, const pb_info_t* g)
{
  char what[96];
  diff_int(d, "n_params", r->n_params, g->n_params);
  if (r->n_params == g->n_params && r->n_params > 0 && !g->params)
    diff_add(d, "params: bridged array is NULL; ");
  for (int32_t i = 0; g->params && i < r->n_params && i < g->n_params; ++i)
    compare_param(d, i, &r->params[i], &g->params[i]);
  diff_int(d, "n_programs", r->n_programs, g->n_programs);
  if (r->n_programs == g->n_programs && r->n_programs > 0 && !g->program_names)
    diff_add(d, "program_names: bridged array is NULL; ");
  for (int32_t i = 0;
       g->program_names && i < r->n_programs && i < g->n_programs;
       ++i) {
    snprintf(what, sizeof(what), "program_names[%d]", (int)i);
    diff_str(d, what, r->program_names[i], g->program_names[i]);
  }
  diff_int(d, "current_program", r->current_program, g->current_program);
  if (r->n_inputs == g->n_inputs)
    compare_pins(d, "inputs", r->inputs, g->inputs, r->n_inputs);
  if (r->n_outputs == g->n_outputs)
    compare_pins(d, "outputs", r->outputs, g->outputs, r->n_outputs);
  for (int32_t i = 0; g->can_do && i < g->n_can_do; ++i) {
    for (int32_t j = 0; g->can_do[i].name && j < r->n_can_do; ++j) {
      if (strcmp(g->can_do[i].name, r->can_do[j].name) != 0)
        continue;
      snprintf(what, sizeof(what), "can_do[%.60s]", r->can_do[j].name);
      diff_int(d, what, r->can_do[j].answer, g->can_do[i].answer);
    }
  }
}

int
pb_ref_compare(const pb_ref_info_t* ref,
               const pb_info_t* info,
               char* diff,
               size_t cap)
{
  char scratch[1];
  diff_t d = { diff && cap ? diff : scratch, diff && cap ? cap : 1, 0, 0 };
  d.buf[0] = '\0';
  if (ref->status != PB_REF_OK) {
    diff_add(&d,
             "the reference failed (%s): %s",
             pb_ref_status_name(ref->status),
             ref->message);
    return d.count;
  }
  diff_str(&d, "path", ref->path, info->path);
  diff_str(&d, "arch", ref->arch, info->arch);
  diff_str(&d, "name", ref->name, info->name);
  diff_str(&d, "vendor", ref->vendor, info->vendor);
  diff_str(&d, "product", ref->product, info->product);
  diff_int(&d, "vendor_version", ref->vendor_version, info->vendor_version);
  diff_int(&d, "unique_id", ref->unique_id, info->unique_id);
  diff_str(&d, "unique_id_text", ref->unique_id_text, info->unique_id_text);
  diff_int(&d, "plugin_version", ref->plugin_version, info->plugin_version);
  diff_int(&d, "vst_version", ref->vst_version, info->vst_version);
  diff_int(&d, "category", ref->category, info->category);
  diff_int(&d, "flags", ref->flags, info->flags);
  diff_int(&d, "n_inputs", ref->n_inputs, info->n_inputs);
  diff_int(&d, "n_outputs", ref->n_outputs, info->n_outputs);
  diff_int(&d, "initial_delay", ref->initial_delay, info->initial_delay);
  diff_int(&d,
           "n_midi_in_channels",
           ref->n_midi_in_channels,
           info->n_midi_in_channels);
  diff_int(&d,
           "n_midi_out_channels",
           ref->n_midi_out_channels,
           info->n_midi_out_channels);
  diff_int(&d, "tail_size", ref->tail_size, info->tail_size);
  compare_lists(&d, ref, info);
  if (d.count > DIFF_SHOWN && d.len + 1 < d.cap)
    snprintf(d.buf + d.len, d.cap - d.len, "(%d differences in all)", d.count);
  return d.count;
}

/* ------------------------------------------------------------- views */

static pb_pin_info_t*
view_pins(const pb_ref_pin_t* pins, int32_t n)
{
  pb_pin_info_t* view = calloc(n > 0 ? (size_t)n : 1u, sizeof(*view));
  for (int32_t i = 0; view && i < n; ++i) {
    view[i].label = pins[i].label;
    view[i].short_label = pins[i].short_label;
    view[i].flags = pins[i].flags;
    view[i].arrangement = pins[i].arrangement;
  }
  return view;
}

static void
view_param(const pb_ref_param_t* r, pb_param_info_t* p)
{
  p->name = r->name;
  p->label = r->label;
  p->display = r->display;
  p->value = r->value;
  p->automatable = r->automatable;
  p->has_properties = r->has_properties;
  p->prop_flags = r->prop_flags;
  p->step = r->step;
  p->small_step = r->small_step;
  p->large_step = r->large_step;
  p->min_int = r->min_int;
  p->max_int = r->max_int;
  p->step_int = r->step_int;
  p->large_step_int = r->large_step_int;
  p->display_index = r->display_index;
  p->category = r->category;
  p->n_in_category = r->n_in_category;
  p->prop_label = r->prop_label;
  p->short_label = r->short_label;
  p->category_label = r->category_label;
}

static void
view_scalars(const pb_ref_info_t* ref, pb_info_t* view)
{
  view->path = ref->path;
  view->arch = ref->arch;
  view->name = ref->name;
  view->vendor = ref->vendor;
  view->product = ref->product;
  view->vendor_version = ref->vendor_version;
  view->unique_id = ref->unique_id;
  memcpy(
    view->unique_id_text, ref->unique_id_text, sizeof(view->unique_id_text));
  view->plugin_version = ref->plugin_version;
  view->vst_version = ref->vst_version;
  view->category = ref->category;
  view->flags = ref->flags;
  view->n_inputs = ref->n_inputs;
  view->n_outputs = ref->n_outputs;
  view->initial_delay = ref->initial_delay;
  view->n_midi_in_channels = ref->n_midi_in_channels;
  view->n_midi_out_channels = ref->n_midi_out_channels;
  view->tail_size = ref->tail_size;
  view->n_params = ref->n_params;
  view->n_programs = ref->n_programs;
  view->current_program = ref->current_program;
  view->n_can_do = ref->n_can_do;
}

int
pb_ref_view_init(const pb_ref_info_t* ref, pb_info_t* view)
{
  memset(view, 0, sizeof(*view));
  view_scalars(ref, view);
  const size_t n_params = ref->n_params > 0 ? (size_t)ref->n_params : 1u;
  const size_t n_programs = ref->n_programs > 0 ? (size_t)ref->n_programs : 1u;
  const size_t n_can_do = ref->n_can_do > 0 ? (size_t)ref->n_can_do : 1u;
  pb_param_info_t* params = calloc(n_params, sizeof(*params));
  const char** names = calloc(n_programs, sizeof(*names));
  pb_can_do_t* can_do = calloc(n_can_do, sizeof(*can_do));
  view->params = params;
  view->program_names = names;
  view->can_do = can_do;
  view->inputs = view_pins(ref->inputs, ref->n_inputs);
  view->outputs = view_pins(ref->outputs, ref->n_outputs);
  if (!params || !names || !can_do || !view->inputs || !view->outputs) {
    pb_ref_view_fini(view);
    return -1;
  }
  for (int32_t i = 0; i < ref->n_params; ++i)
    view_param(&ref->params[i], &params[i]);
  for (int32_t i = 0; i < ref->n_programs; ++i)
    names[i] = ref->program_names[i];
  for (int32_t i = 0; i < ref->n_can_do; ++i) {
    can_do[i].name = ref->can_do[i].name;
    can_do[i].answer = ref->can_do[i].answer;
  }
  return 0;
}

void
pb_ref_view_fini(pb_info_t* view)
{
  free((void*)(uintptr_t)view->params);
  free((void*)(uintptr_t)view->program_names);
  free((void*)(uintptr_t)view->can_do);
  free((void*)(uintptr_t)view->inputs);
  free((void*)(uintptr_t)view->outputs);
  memset(view, 0, sizeof(*view));
}
