/* The CLI's JSON writer and its untrusted-text handling (host/cli/json.c,
 * host/cli/text.c): exact output, escaping, ill-formed UTF-8, non-finite
 * numbers, misuse and write errors. */
#include "cli/json.h"
#include "cli/text.h"
#include "cli_json_check.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* What a writer produced: the bytes written to a temporary file. */
typedef struct
{
  FILE* file;
  char text[8192];
  size_t size;
} capture_t;

static void
capture_open(capture_t* cap)
{
  cap->file = tmpfile();
  assert_non_null(cap->file);
  cap->size = 0;
}

static const char*
capture_close(capture_t* cap)
{
  assert_int_equal(fflush(cap->file), 0);
  rewind(cap->file);
  cap->size = fread(cap->text, 1, sizeof cap->text - 1, cap->file);
  assert_int_equal(ferror(cap->file), 0);
  cap->text[cap->size] = '\0';
  assert_int_equal(fclose(cap->file), 0);
  return cap->text;
}

/* A string written as the only value of a compact document. */
static const char*
json_of_string(capture_t* cap, const char* s, size_t n)
{
  pb_json_t json;
  capture_open(cap);
  pb_json_init(&json, cap->file, 0);
  pb_json_string_n(&json, s, n);
  assert_int_equal(pb_json_finish(&json), 0);
  capture_close(cap);
  assert_true(json_check(cap->text, cap->size));
  return cap->text;
}

static void
compact_document_has_commas_only_between_items(void** state)
{
  (void)state;
  capture_t cap;
  pb_json_t json;
  capture_open(&cap);
  pb_json_init(&json, cap.file, 0);
  pb_json_object_begin(&json);
  pb_json_key(&json, "a");
  pb_json_int(&json, 1);
  pb_json_key(&json, "b");
  pb_json_array_begin(&json);
  pb_json_bool(&json, 1);
  pb_json_bool(&json, 0);
  pb_json_null(&json);
  pb_json_array_end(&json);
  pb_json_key(&json, "c");
  pb_json_object_begin(&json);
  pb_json_object_end(&json);
  pb_json_key(&json, "d");
  pb_json_array_begin(&json);
  pb_json_array_end(&json);
  pb_json_object_end(&json);
  assert_int_equal(pb_json_finish(&json), 0);
  assert_string_equal(capture_close(&cap),
                      "{\"a\":1,\"b\":[true,false,null],\"c\":{},\"d\":[]}\n");
}

static void
pretty_document_indents_two_spaces(void** state)
{
  (void)state;
  capture_t cap;
  pb_json_t json;
  capture_open(&cap);
  pb_json_init(&json, cap.file, 1);
  pb_json_object_begin(&json);
  pb_json_key(&json, "k");
  pb_json_array_begin(&json);
  pb_json_int(&json, 1);
  pb_json_string(&json, "x");
  pb_json_array_end(&json);
  pb_json_key(&json, "e");
  pb_json_object_begin(&json);
  pb_json_object_end(&json);
  pb_json_object_end(&json);
  assert_int_equal(pb_json_finish(&json), 0);
  assert_string_equal(
    capture_close(&cap),
    "{\n  \"k\": [\n    1,\n    \"x\"\n  ],\n  \"e\": {}\n}\n");
  assert_true(json_check(cap.text, cap.size));
}

static void
string_escapes_quotes_backslashes_and_controls(void** state)
{
  (void)state;
  capture_t cap;
  const char in[] = "\"\\/\n\r\t\b\f\x01\x1f\x7f";
  assert_string_equal(
    json_of_string(&cap, in, sizeof in - 1),
    "\"\\\"\\\\/\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\x7f\"\n");
}

static void
string_keeps_embedded_nul_escaped(void** state)
{
  (void)state;
  capture_t cap;
  assert_string_equal(json_of_string(&cap, "a\0b", 3), "\"a\\u0000b\"\n");
}

static void
string_keeps_well_formed_utf8(void** state)
{
  (void)state;
  capture_t cap;
  const char in[] = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBF";
  char want[64];
  (void)snprintf(want, sizeof want, "\"%s\"\n", in);
  assert_string_equal(json_of_string(&cap, in, sizeof in - 1), want);
}

#define FFFD "\xEF\xBF\xBD"

static void
string_replaces_each_ill_formed_byte(void** state)
{
  (void)state;
  static const struct
  {
    const char* in;
    const char* out;
  } cases[] = {
    { "\xFF", "\"" FFFD "\"\n" },                   /* never a lead */
    { "a\x80z", "\"a" FFFD "z\"\n" },               /* stray continuation */
    { "\xC0\xAF", "\"" FFFD FFFD "\"\n" },          /* overlong '/' */
    { "\xE0\x80\x80", "\"" FFFD FFFD FFFD "\"\n" }, /* overlong NUL */
    { "\xED\xA0\x80", "\"" FFFD FFFD FFFD "\"\n" }, /* surrogate */
    { "\xF4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"\n" }, /* > 10FFFF */
    { "\xE2\x82", "\"" FFFD FFFD "\"\n" },                   /* cut short */
    { "\xE2\x82z", "\"" FFFD FFFD "z\"\n" },                 /* cut short */
    { "\xC3\xA9\xFE\xC3\xA9", "\"\xC3\xA9" FFFD "\xC3\xA9\"\n" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    capture_t cap;
    assert_string_equal(json_of_string(&cap, cases[i].in, strlen(cases[i].in)),
                        cases[i].out);
  }
}

/* Random bytes, many of them special, always make valid JSON. */
static void
string_of_any_bytes_is_valid_json(void** state)
{
  (void)state;
  uint32_t seed = 12345;
  for (int round = 0; round < 500; ++round) {
    unsigned char in[64];
    size_t n = (size_t)(round % 64);
    for (size_t i = 0; i < n; ++i) {
      seed = seed * 1103515245u + 12345u;
      in[i] = (unsigned char)(seed >> 16);
    }
    capture_t cap;
    json_of_string(&cap, (const char*)in, n);
  }
}

static void
null_string_is_null(void** state)
{
  (void)state;
  capture_t cap;
  pb_json_t json;
  capture_open(&cap);
  pb_json_init(&json, cap.file, 0);
  pb_json_string(&json, NULL);
  assert_int_equal(pb_json_finish(&json), 0);
  assert_string_equal(capture_close(&cap), "null\n");
}

static const char*
json_of_numbers(capture_t* cap, const double* values, size_t n)
{
  pb_json_t json;
  capture_open(cap);
  pb_json_init(&json, cap->file, 0);
  pb_json_array_begin(&json);
  for (size_t i = 0; i < n; ++i)
    pb_json_double(&json, values[i]);
  pb_json_int(&json, INT64_MIN);
  pb_json_int(&json, INT64_MAX);
  pb_json_array_end(&json);
  assert_int_equal(pb_json_finish(&json), 0);
  capture_close(cap);
  assert_true(json_check(cap->text, cap->size));
  return cap->text;
}

static void
non_finite_numbers_are_null(void** state)
{
  (void)state;
  const double values[] = { NAN,          INFINITY, -INFINITY, 0.5,
                            (double)0.1f, -1e300,   0.0 };
  capture_t cap;
  assert_string_equal(json_of_numbers(&cap, values, 7),
                      "[null,null,null,0.5,0.100000001,-1e+300,0,"
                      "-9223372036854775808,9223372036854775807]\n");
}

typedef void (*misuse_fn)(pb_json_t* json);

static void
value_without_key(pb_json_t* json)
{
  pb_json_object_begin(json);
  pb_json_int(json, 1);
  pb_json_object_end(json);
}

static void
key_in_array(pb_json_t* json)
{
  pb_json_array_begin(json);
  pb_json_key(json, "k");
  pb_json_int(json, 1);
  pb_json_array_end(json);
}

static void
key_without_value(pb_json_t* json)
{
  pb_json_object_begin(json);
  pb_json_key(json, "k");
  pb_json_object_end(json);
}

static void
mismatched_end(pb_json_t* json)
{
  pb_json_object_begin(json);
  pb_json_array_end(json);
}

static void
unclosed(pb_json_t* json)
{
  pb_json_array_begin(json);
}

static void
two_roots(pb_json_t* json)
{
  pb_json_int(json, 1);
  pb_json_int(json, 2);
}

static void
nothing(pb_json_t* json)
{
  (void)json;
}

static void
too_deep(pb_json_t* json)
{
  for (int i = 0; i <= PB_JSON_MAX_DEPTH; ++i)
    pb_json_array_begin(json);
  for (int i = 0; i <= PB_JSON_MAX_DEPTH; ++i)
    pb_json_array_end(json);
}

static void
misnested_calls_fail_at_finish(void** state)
{
  (void)state;
  const misuse_fn cases[] = { value_without_key, key_in_array,
                              key_without_value, mismatched_end,
                              unclosed,          two_roots,
                              nothing,           too_deep };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    capture_t cap;
    pb_json_t json;
    capture_open(&cap);
    pb_json_init(&json, cap.file, 0);
    cases[i](&json);
    assert_int_equal(pb_json_finish(&json), -1);
    capture_close(&cap);
  }
}

static void
write_error_fails_at_finish(void** state)
{
  (void)state;
  FILE* full = fopen("/dev/full", "w");
  if (!full)
    skip();
  assert_int_equal(setvbuf(full, NULL, _IONBF, 0), 0);
  pb_json_t json;
  pb_json_init(&json, full, 0);
  pb_json_string(&json, "lost");
  assert_int_equal(pb_json_finish(&json), -1);
  assert_true(ferror(full));
  (void)fclose(full);
}

static void
decode_accepts_well_formed_and_rejects_the_rest(void** state)
{
  (void)state;
  uint32_t cp = 0;
  assert_int_equal(pb_text_decode((const unsigned char*)"A", 1, &cp), 1);
  assert_int_equal(cp, 0x41);
  assert_int_equal(pb_text_decode((const unsigned char*)"\xC2\x80", 2, &cp), 2);
  assert_int_equal(cp, 0x80);
  assert_int_equal(
    pb_text_decode((const unsigned char*)"\xF4\x8F\xBF\xBF", 4, &cp), 4);
  assert_int_equal(cp, 0x10FFFF);
  assert_int_equal(pb_text_decode((const unsigned char*)"\xC1\xBF", 2, &cp), 0);
  assert_int_equal(
    pb_text_decode((const unsigned char*)"\xF0\x8F\xBF\xBF", 4, &cp), 0);
  assert_int_equal(pb_text_decode((const unsigned char*)"\xC2\x80", 1, &cp), 0);
  assert_int_equal(pb_text_decode((const unsigned char*)"\xF8\x88", 2, &cp), 0);
}

static const char*
safe_text(capture_t* cap, const char* s, unsigned flags)
{
  pb_text_t text;
  capture_open(cap);
  pb_text_init(&text, cap->file);
  pb_text_write_safe(&text, s, strlen(s), flags);
  assert_false(text.failed);
  return capture_close(cap);
}

static void
safe_text_replaces_terminal_controls(void** state)
{
  (void)state;
  capture_t cap;
  assert_string_equal(safe_text(&cap,
                                "a\x1b[2Jb\n\t\x7f\xC2\x9B"
                                "c\xFF",
                                0),
                      "a" FFFD "[2Jb" FFFD FFFD FFFD FFFD "c" FFFD);
  assert_string_equal(safe_text(&cap, "x\ny\tz\r", PB_TEXT_KEEP_LINES),
                      "x\ny\tz" FFFD);
  assert_string_equal(safe_text(&cap, "caf\xC3\xA9", 0), "caf\xC3\xA9");
}

static void
text_writer_records_write_errors(void** state)
{
  (void)state;
  FILE* full = fopen("/dev/full", "w");
  if (!full)
    skip();
  assert_int_equal(setvbuf(full, NULL, _IONBF, 0), 0);
  pb_text_t text;
  pb_text_init(&text, full);
  pb_text_printf(&text, "%s", "lost");
  assert_true(text.failed);
  pb_text_init(&text, full);
  pb_text_puts_safe(&text, "lost too");
  assert_true(text.failed);
  (void)fclose(full);
}

/* The checker the other tests lean on must itself say no. */
static void
checker_rejects_what_is_not_json(void** state)
{
  (void)state;
  static const char* const bad[] = {
    "",    "{\"a\":1,}",       "[1 2]", "\"\x01\"", "\"\xFF\"", "01",   "1.",
    "nul", "{\"a\"}",          "[",     "\"\\x\"",  "1 2",      "[1,]", "{1:2}",
    "-",   "\"\xED\xA0\x80\"",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i)
    assert_false(json_check(bad[i], strlen(bad[i])));
  const char good[] = " {\"a\":[1,-2.5e+3,true,null,\"\\u00e9\xC3\xA9\"]} ";
  assert_true(json_check(good, sizeof good - 1));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(checker_rejects_what_is_not_json),
    cmocka_unit_test(compact_document_has_commas_only_between_items),
    cmocka_unit_test(pretty_document_indents_two_spaces),
    cmocka_unit_test(string_escapes_quotes_backslashes_and_controls),
    cmocka_unit_test(string_keeps_embedded_nul_escaped),
    cmocka_unit_test(string_keeps_well_formed_utf8),
    cmocka_unit_test(string_replaces_each_ill_formed_byte),
    cmocka_unit_test(string_of_any_bytes_is_valid_json),
    cmocka_unit_test(null_string_is_null),
    cmocka_unit_test(non_finite_numbers_are_null),
    cmocka_unit_test(misnested_calls_fail_at_finish),
    cmocka_unit_test(write_error_fails_at_finish),
    cmocka_unit_test(decode_accepts_well_formed_and_rejects_the_rest),
    cmocka_unit_test(safe_text_replaces_terminal_controls),
    cmocka_unit_test(text_writer_records_write_errors),
  };
  return cmocka_run_group_tests_name("cli_json", tests, NULL, NULL);
}
