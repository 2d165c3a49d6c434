#include "bridge/info_reply.h"

#include <stdio.h>

/* The canDo questions every INFO reply answers. */
static const char* const can_do_questions[] = {
  "sendVstEvents",
  "sendVstMidiEvent",
  "receiveVstEvents",
  "receiveVstMidiEvent",
  "receiveVstTimeInfo",
  "offline",
  "midiProgramNames",
  "bypass",
  "MPE",
};

#define N_CAN_DO (sizeof can_do_questions / sizeof can_do_questions[0])
#define PIN_COLS 4u
#define PROGRAM_COLS 1u
#define CAN_DO_COLS 2u

static uint32_t
n_rows(int32_t n)
{
  return n > 0 ? (uint32_t)n : 0u;
}

static pb_status_t
check_rows(const char* what, uint32_t n, char* err, size_t err_size)
{
  if (n <= PB_PROTO_MAX_ROWS)
    return PB_OK;
  snprintf(err,
           err_size,
           "plugin declares %u %s (limit %u)",
           n,
           what,
           PB_PROTO_MAX_ROWS);
  return PB_ERR_TOO_BIG;
}

static pb_status_t
check_counts(const pb_vst2_summary_t* sum, char* err, size_t err_size)
{
  pb_status_t status = PB_OK;

  if ((status = check_rows("inputs", n_rows(sum->n_inputs), err, err_size)) ||
      (status = check_rows("outputs", n_rows(sum->n_outputs), err, err_size)) ||
      (status = check_rows("parameters", sum->n_params, err, err_size)))
    return status;
  return check_rows("programs", sum->n_programs, err, err_size);
}

static void
write_summary(pb_wr_t* w, const pb_vst2_summary_t* sum)
{
  pb_wr_s(w, sum->name);
  pb_wr_s(w, sum->vendor);
  pb_wr_s(w, sum->product);
  pb_wr_i(w, sum->vendor_version);
  pb_wr_i(w, sum->unique_id);
  pb_wr_i(w, sum->plugin_version);
  pb_wr_i(w, sum->vst_version);
  pb_wr_i(w, sum->category);
  pb_wr_u(w, sum->flags);
  pb_wr_i(w, sum->n_inputs);
  pb_wr_i(w, sum->n_outputs);
  pb_wr_i(w, sum->initial_delay);
  pb_wr_i(w, sum->midi_in_channels);
  pb_wr_i(w, sum->midi_out_channels);
  pb_wr_i(w, sum->tail_size);
  pb_wr_i(w, sum->program);
  pb_wr_u(w, sum->n_params);
  pb_wr_u(w, sum->n_programs);
}

static void
write_pins(const pb_vst2_t* plugin, pb_wr_t* w, int is_output, uint32_t n)
{
  pb_vst2_pin_t pin;

  pb_wr_array(w, n);
  for (uint32_t i = 0; i < n; ++i) {
    pb_vst2_pin(plugin, is_output, i, &pin);
    pb_wr_row(w, PIN_COLS);
    pb_wr_s(w, pin.label);
    pb_wr_s(w, pin.short_label);
    pb_wr_u(w, pin.flags);
    pb_wr_i(w, pin.arrangement);
  }
}

static void
write_param_props(pb_wr_t* w, const pb_vst2_param_t* p)
{
  pb_wr_u(w, p->prop_flags);
  pb_wr_f(w, p->step);
  pb_wr_f(w, p->small_step);
  pb_wr_f(w, p->large_step);
  pb_wr_i(w, p->min_int);
  pb_wr_i(w, p->max_int);
  pb_wr_i(w, p->step_int);
  pb_wr_i(w, p->large_step_int);
  pb_wr_i(w, p->display_index);
  pb_wr_i(w, p->category);
  pb_wr_i(w, p->n_in_category);
  pb_wr_s(w, p->prop_label);
  pb_wr_s(w, p->short_label);
  pb_wr_s(w, p->category_label);
}

static void
write_params(const pb_vst2_t* plugin, pb_wr_t* w, uint32_t n)
{
  pb_vst2_param_t param;

  pb_wr_array(w, n);
  for (uint32_t i = 0; i < n; ++i) {
    pb_vst2_param_describe(plugin, i, &param);
    pb_wr_row(w, PB_PCOL_COUNT);
    pb_wr_s(w, param.name);
    pb_wr_s(w, param.label);
    pb_wr_s(w, param.display);
    pb_wr_f(w, param.value);
    pb_wr_b(w, param.is_automatable);
    pb_wr_b(w, param.has_props);
    write_param_props(w, &param);
  }
}

static void
write_programs(const pb_vst2_t* plugin, pb_wr_t* w, uint32_t n)
{
  char name[PB_VST_STR_BUF];

  pb_wr_array(w, n);
  for (uint32_t i = 0; i < n; ++i) {
    pb_vst2_program_name(plugin, i, name);
    pb_wr_row(w, PROGRAM_COLS);
    pb_wr_s(w, name);
  }
}

static void
write_can_do(const pb_vst2_t* plugin, pb_wr_t* w)
{
  pb_wr_array(w, N_CAN_DO);
  for (uint32_t i = 0; i < N_CAN_DO; ++i) {
    pb_wr_row(w, CAN_DO_COLS);
    pb_wr_s(w, can_do_questions[i]);
    pb_wr_i(w, pb_vst2_can_do(plugin, can_do_questions[i]));
  }
}

pb_status_t
pb_info_reply_write(const pb_vst2_t* plugin,
                    pb_wr_t* reply,
                    char* err,
                    size_t err_size)
{
  pb_vst2_summary_t sum;

  pb_vst2_summarize(plugin, &sum);
  const pb_status_t status = check_counts(&sum, err, err_size);
  if (status)
    return status;

  write_summary(reply, &sum);
  write_pins(plugin, reply, 0, n_rows(sum.n_inputs));
  write_pins(plugin, reply, 1, n_rows(sum.n_outputs));
  write_params(plugin, reply, sum.n_params);
  write_programs(plugin, reply, sum.n_programs);
  write_can_do(plugin, reply);
  return PB_OK;
}
