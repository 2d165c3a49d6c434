/* What the test plugins are known to report; see expect_info.h. */
#include "expect_info.h"

#include "tests/plugins/odd_strings.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

int32_t
pb_expect_can_do_answer(const pb_info_t* info, const char* name)
{
  for (int32_t i = 0; i < info->n_can_do; ++i) {
    if (info->can_do[i].name && strcmp(info->can_do[i].name, name) == 0)
      return info->can_do[i].answer;
  }
  return 2;
}

/* An answer the description may lack (it holds the questions its maker
 * chose), but must not contradict. */
static void
expect_can_do(const pb_info_t* info, const char* name, int32_t answer)
{
  const int32_t got = pb_expect_can_do_answer(info, name);
  if (got != 2)
    assert_int_equal(got, answer);
}

const char* pb_expect_arch = "x86_64";

static void
expect_common(const pb_info_t* info)
{
  assert_non_null(info);
  assert_string_equal(info->arch, pb_expect_arch);
  assert_non_null(info->path);
  assert_int_equal(info->vst_version, 2400);
}

static void
expect_param(const pb_info_t* info,
             int32_t i,
             const char* name,
             const char* label,
             const char* display,
             float value,
             int automatable)
{
  const pb_param_info_t* p = &info->params[i];
  assert_string_equal(p->name, name);
  assert_string_equal(p->label, label);
  assert_string_equal(p->display, display);
  assert_true(p->value == value);
  assert_int_equal(p->automatable != 0, automatable);
}

static void
expect_pin(const pb_pin_info_t* pin, const char* label, const char* short_label)
{
  assert_string_equal(pin->label, label);
  assert_string_equal(pin->short_label, short_label);
  assert_int_equal(pin->flags, 3); /* active, stereo */
  assert_int_equal(pin->arrangement, 1);
}

static void
expect_gain_params(const pb_info_t* info)
{
  assert_int_equal(info->n_params, 3);
  assert_non_null(info->params);
  expect_param(info, 0, "Output Gain", "dB", "0.00", 0.5f, 1);
  expect_param(info, 1, "Pan Position", "%", "0", 0.5f, 1);
  expect_param(info, 2, "Phase Invert", "", "Off", 0.0f, 0);
  assert_false(info->params[0].has_properties);
  assert_false(info->params[1].has_properties);
  const pb_param_info_t* invert = &info->params[2];
  assert_true(invert->has_properties);
  assert_int_equal(invert->prop_flags, 3); /* switch, int min/max */
  assert_int_equal(invert->min_int, 0);
  assert_int_equal(invert->max_int, 1);
  assert_string_equal(invert->prop_label, "Phase Invert");
  assert_string_equal(invert->short_label, "Phase");
  assert_string_equal(invert->category_label, "");
}

void
pb_expect_gain(const pb_info_t* info)
{
  static const char* const programs[] = {
    "Unity", "Quiet", "Hard Left", "Inverted"
  };
  expect_common(info);
  assert_string_equal(info->name, "plugbox test gain");
  assert_string_equal(info->vendor, "plugbox tests");
  assert_string_equal(info->product, "plugbox test gain product");
  assert_int_equal(info->vendor_version, 10203);
  assert_int_equal(info->unique_id, 0x5062476e);
  assert_string_equal(info->unique_id_text, "PbGn");
  assert_int_equal(info->plugin_version, 1);
  assert_int_equal(info->category, PB_CATEGORY_EFFECT);
  assert_int_equal(info->flags,
                   PB_FLAG_REPLACING | PB_FLAG_DOUBLE_REPLACING |
                     PB_FLAG_PROGRAM_CHUNKS);
  assert_int_equal(info->n_inputs, 2);
  assert_int_equal(info->n_outputs, 2);
  assert_int_equal(info->initial_delay, 0);
  assert_int_equal(info->n_midi_in_channels, 0);
  assert_int_equal(info->n_midi_out_channels, 0);
  assert_int_equal(info->tail_size, 0);
  expect_gain_params(info);
  assert_int_equal(info->n_programs, 4);
  for (int32_t i = 0; i < 4; ++i)
    assert_string_equal(info->program_names[i], programs[i]);
  assert_int_equal(info->current_program, 0);
  expect_pin(&info->inputs[0], "Gain In L", "InL");
  expect_pin(&info->inputs[1], "Gain In R", "InR");
  expect_pin(&info->outputs[0], "Gain Out L", "OutL");
  expect_pin(&info->outputs[1], "Gain Out R", "OutR");
  expect_can_do(info, "bypass", 1);
  expect_can_do(info, "receiveVstEvents", -1);
  expect_can_do(info, "receiveVstMidiEvent", -1);
  expect_can_do(info, "sendVstMidiEvent", 0);
}

void
pb_expect_synth(const pb_info_t* info)
{
  expect_common(info);
  assert_string_equal(info->name, "plugbox test synth");
  assert_string_equal(info->vendor, "plugbox tests");
  assert_string_equal(info->product, "plugbox test synth product");
  assert_int_equal(info->vendor_version, 10000);
  assert_string_equal(info->unique_id_text, "PbSy");
  assert_int_equal(info->plugin_version, 2);
  assert_int_equal(info->category, PB_CATEGORY_SYNTH);
  assert_int_equal(info->flags, PB_FLAG_REPLACING | PB_FLAG_SYNTH);
  assert_int_equal(info->n_inputs, 0);
  assert_int_equal(info->n_outputs, 2);
  assert_int_equal(info->n_midi_in_channels, 16);
  assert_int_equal(info->n_midi_out_channels, 1);
  assert_int_equal(info->n_params, 3);
  expect_param(info, 0, "Attack Time", "ms", "10", 0.005f, 1);
  expect_param(info, 1, "Release Time", "ms", "200", 0.1f, 1);
  expect_param(info, 2, "Volume", "dB", "-6.02", 0.5f, 1);
  for (int32_t i = 0; i < 3; ++i)
    assert_false(info->params[i].has_properties);
  assert_int_equal(info->n_programs, 1);
  assert_string_equal(info->program_names[0], "Init");
  assert_int_equal(info->current_program, 0);
  expect_pin(&info->outputs[0], "Synth Out L", "L");
  expect_pin(&info->outputs[1], "Synth Out R", "R");
  expect_can_do(info, "receiveVstEvents", 1);
  expect_can_do(info, "receiveVstMidiEvent", 1);
  expect_can_do(info, "sendVstMidiEvent", 1);
  expect_can_do(info, "bypass", 0);
}

void
pb_expect_odd(const pb_info_t* info)
{
  char name[PB_ODD_NAME_LEN + 1];
  char vendor[PB_ODD_VENDOR_LEN + 1];
  char product[PB_ODD_PRODUCT_LEN + 1];
  pb_odd_text(name, "plugbox test odd name ", PB_ODD_NAME_LEN);
  pb_odd_text(vendor, "plugbox test odd vendor ", PB_ODD_VENDOR_LEN);
  pb_odd_text(product, "plugbox test odd product ", PB_ODD_PRODUCT_LEN);
  expect_common(info);
  assert_string_equal(info->name, name);
  assert_string_equal(info->vendor, vendor);
  assert_string_equal(info->product, product);
  assert_int_equal(info->vendor_version, -5);
  assert_int_equal(info->unique_id, 0x016f647f);
  assert_string_equal(info->unique_id_text, ".od.");
  assert_int_equal(info->plugin_version, 0);
  assert_int_equal(info->category, PB_CATEGORY_UNKNOWN);
  assert_int_equal(info->flags, PB_FLAG_REPLACING);
  assert_int_equal(info->n_inputs, 1);
  assert_int_equal(info->n_outputs, 0);
  assert_int_equal(info->initial_delay, 123);
  assert_int_equal(info->tail_size, 48000);
  assert_int_equal(info->n_midi_in_channels, 0);
  assert_int_equal(info->n_midi_out_channels, 0);
  assert_int_equal(info->n_params, 0);
  assert_int_equal(info->n_programs, 0);
  assert_int_equal(info->current_program, 0);
  /* It answers no pin query. */
  assert_string_equal(info->inputs[0].label, "");
  assert_string_equal(info->inputs[0].short_label, "");
  assert_int_equal(info->inputs[0].flags, 0);
  for (int32_t i = 0; i < info->n_can_do; ++i)
    assert_int_equal(info->can_do[i].answer, 0);
}
