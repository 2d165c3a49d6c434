/* The CLI's plugin description (host/cli/describe.c) from a pb_info_t
 * filled by hand: the exact listing, the JSON fields, and hostile or
 * missing strings. */
#include "cli/describe.h"
#include "cli_json_check.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static char out_text[16384];

/* The description of `info`, as JSON or as the listing. */
static const char*
describe(const pb_info_t* info, int as_json)
{
  FILE* file = tmpfile();
  assert_non_null(file);
  if (as_json) {
    pb_json_t json;
    pb_json_init(&json, file, 1);
    pb_describe_json(&json, info);
    assert_int_equal(pb_json_finish(&json), 0);
  } else {
    pb_text_t text;
    pb_text_init(&text, file);
    pb_describe_text(&text, info);
    assert_false(text.failed);
  }
  rewind(file);
  size_t n = fread(out_text, 1, sizeof out_text - 1, file);
  out_text[n] = '\0';
  assert_int_equal(fclose(file), 0);
  if (as_json)
    assert_true(json_check(out_text, n));
  return out_text;
}

static const pb_param_info_t shaper_params[] = {
  { .name = "Pre-Gain",
    .label = "dB",
    .display = "0.00",
    .value = 0.5f,
    .automatable = 1 },
  { .name = "Mode", .label = "", .display = "Hard", .value = 0.25f },
  { .name = "Odd",
    .label = "%",
    .display = "",
    .value = 1.0f,
    .has_properties = 1,
    .prop_flags = 3,
    .step = INFINITY,
    .max_int = 3,
    .prop_label = "Mode",
    .category_label = "Main" },
};

static const char* const shaper_programs[] = { "Nasty Shaper", "Soft" };

static const pb_pin_info_t shaper_pins[] = {
  { "Left", "L", 3, 0 },
  { "Right", "R", 3, 0 },
};

static const pb_can_do_t shaper_can_do[] = {
  { "receiveVstMidiEvent", 1 },
  { "bypass", -1 },
};

static pb_info_t
shaper(void)
{
  pb_info_t info = {
    .path = "/x/shaper.so",
    .arch = "x86_64",
    .name = "Shaper",
    .vendor = "Tone",
    .product = "Nasty",
    .vendor_version = 1200,
    .unique_id = 1315926358,
    .unique_id_text = "NaSh",
    .plugin_version = 3,
    .vst_version = 2400,
    .category = 1,
    .flags = PB_FLAG_EDITOR | PB_FLAG_REPLACING | PB_FLAG_PROGRAM_CHUNKS,
    .n_inputs = 2,
    .n_outputs = 2,
    .initial_delay = 64,
    .tail_size = 10,
    .n_midi_in_channels = 16,
    .n_params = 3,
    .params = shaper_params,
    .n_programs = 2,
    .program_names = shaper_programs,
    .current_program = 1,
    .inputs = shaper_pins,
    .outputs = shaper_pins,
    .n_can_do = 2,
    .can_do = shaper_can_do,
  };
  return info;
}

static void
listing_has_the_classic_shape(void** state)
{
  (void)state;
  pb_info_t info = shaper();
  assert_string_equal(describe(&info, 0),
                      "Plugin name: Shaper\n"
                      "Vendor: Tone\n"
                      "Product: Nasty\n"
                      "numPrograms = 2\n"
                      "numParams = 3\n"
                      "numInputs = 2\n"
                      "numOutputs = 2\n"
                      "Program 000: Nasty Shaper\n"
                      "Program 001: Soft\n"
                      "Param 000: Pre-Gain [0.00 dB] (normalized = 0.500000)\n"
                      "Param 001: Mode [Hard] (normalized = 0.250000)\n"
                      "Param 002: Odd [%] (normalized = 1.000000)\n"
                      "Unique ID: 1315926358 ('NaSh')\n"
                      "Version: 3  VST version: 2400  Vendor version: 1200\n"
                      "Category: effect\n"
                      "Flags: editor replacing program-chunks\n"
                      "Latency: 64 samples\n"
                      "Tail: 10 samples\n"
                      "MIDI inputs: 16 channels, outputs: 0 channels\n"
                      "Input 0: Left\n"
                      "Input 1: Right\n"
                      "Output 0: Left\n"
                      "Output 1: Right\n"
                      "Architecture: x86_64\n");
}

static void
listing_says_none_without_flags_and_shows_unknown_bits(void** state)
{
  (void)state;
  pb_info_t info = shaper();
  info.flags = 0;
  assert_non_null(strstr(describe(&info, 0), "\nFlags: none\n"));
  info.flags = PB_FLAG_SYNTH | PB_FLAG_NO_SOUND_IN_STOP |
               PB_FLAG_DOUBLE_REPLACING | (1u << 2);
  assert_non_null(strstr(describe(&info, 0),
                         "\nFlags: double-replacing synth "
                         "no-sound-in-stop 0x4\n"));
}

static void
listing_neutralizes_hostile_strings(void** state)
{
  (void)state;
  pb_info_t info = shaper();
  info.name = "Evil\x1b]0;pwned\x07\nFake: line";
  info.vendor = NULL;
  memcpy(info.unique_id_text, "A\nB\xFF", 5);
  const char* text = describe(&info, 0);
  assert_null(strchr(text, '\x1b'));
  assert_null(strchr(text, '\x07'));
  assert_non_null(strstr(text,
                         "Plugin name: Evil\xEF\xBF\xBD]0;pwned"
                         "\xEF\xBF\xBD\xEF\xBF\xBD"
                         "Fake: line\nVendor: \n"));
  assert_non_null(strstr(text,
                         "('A\xEF\xBF\xBD"
                         "B\xEF\xBF\xBD')"));
}

static void
listing_survives_missing_arrays(void** state)
{
  (void)state;
  pb_info_t info = shaper();
  info.params = NULL;
  info.program_names = NULL;
  info.inputs = NULL;
  info.outputs = NULL;
  const char* text = describe(&info, 0);
  assert_non_null(strstr(text, "numOutputs = 2\nProgram 000: \n"));
  assert_null(strstr(text, "Param 000"));
  assert_null(strstr(text, "Input 0"));
}

static void
listing_shows_pins_only_when_labelled(void** state)
{
  (void)state;
  static const pb_pin_info_t unlabelled[] = { { "", "", 1, 0 },
                                              { NULL, NULL, 1, 0 } };
  static const pb_pin_info_t half[] = { { NULL, NULL, 1, 0 },
                                        { "Side", "S", 1, 0 } };
  pb_info_t info = shaper();
  info.inputs = unlabelled;
  info.outputs = half;
  const char* text = describe(&info, 0);
  assert_null(strstr(text, "Input 0"));
  assert_non_null(strstr(text,
                         "channels\nOutput 0: -\nOutput 1: Side\n"
                         "Architecture: x86_64\n"));
}

static void
json_holds_every_field(void** state)
{
  (void)state;
  pb_info_t info = shaper();
  const char* json = describe(&info, 1);
  static const char* const wanted[] = {
    "\"path\": \"/x/shaper.so\"",
    "\"arch\": \"x86_64\"",
    "\"name\": \"Shaper\"",
    "\"vendor\": \"Tone\"",
    "\"product\": \"Nasty\"",
    "\"vendor_version\": 1200",
    "\"unique_id\": 1315926358",
    "\"unique_id_text\": \"NaSh\"",
    "\"plugin_version\": 3",
    "\"vst_version\": 2400",
    "\"category\": \"effect\"",
    "\"category_id\": 1",
    "\"flags\": [\n    \"editor\",\n    \"replacing\",\n"
    "    \"program-chunks\"\n  ]",
    "\"flags_value\": 49",
    "\"n_inputs\": 2",
    "\"n_outputs\": 2",
    "\"short_label\": \"R\"",
    "\"latency\": 64",
    "\"tail\": 10",
    "\"midi_inputs\": 16",
    "\"midi_outputs\": 0",
    "\"programs\": [\n    \"Nasty Shaper\",\n    \"Soft\"\n  ]",
    "\"current_program\": 1",
    "\"display\": \"0.00\"",
    "\"automatable\": true",
    "\"automatable\": false",
    "\"properties\": null",
    "\"step\": null",
    "\"max_int\": 3",
    "\"category_label\": \"Main\"",
    "\"receiveVstMidiEvent\": 1",
    "\"bypass\": -1",
  };
  for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; ++i)
    if (!strstr(json, wanted[i]))
      fail_msg("missing %s in\n%s", wanted[i], json);
}

static void
json_of_hostile_or_missing_strings_is_valid(void** state)
{
  (void)state;
  pb_info_t info = shaper();
  info.name = "\"\\\x01\xC0\xFF";
  info.vendor = NULL;
  info.program_names = NULL;
  memcpy(info.unique_id_text, "\xFF\xFE\x01\x02", 5);
  const char* json = describe(&info, 1);
  assert_non_null(strstr(json, "\"vendor\": null"));
  assert_non_null(strstr(json, "\"name\": \"\\\"\\\\\\u0001"));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(listing_has_the_classic_shape),
    cmocka_unit_test(listing_says_none_without_flags_and_shows_unknown_bits),
    cmocka_unit_test(listing_neutralizes_hostile_strings),
    cmocka_unit_test(listing_survives_missing_arrays),
    cmocka_unit_test(listing_shows_pins_only_when_labelled),
    cmocka_unit_test(json_holds_every_field),
    cmocka_unit_test(json_of_hostile_or_missing_strings_is_valid),
  };
  return cmocka_run_group_tests_name("cli_describe", tests, NULL, NULL);
}
