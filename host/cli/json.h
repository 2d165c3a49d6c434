/* A small streaming JSON writer: nesting, commas and indentation are kept
 * here, so callers only say what comes next.  Whatever bytes a string
 * holds, the output is valid JSON: quotes, backslashes and control
 * characters are escaped, and bytes of ill-formed UTF-8 become U+FFFD. */
#ifndef PB_HOST_CLI_JSON_H
#define PB_HOST_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PB_JSON_MAX_DEPTH 32

typedef struct
{
  FILE* file;
  int pretty;    /**< newlines and two-space indentation */
  int failed;    /**< a write failed, or the calls did not nest */
  int after_key; /**< a key was written; its value comes next */
  int done;      /**< the top-level value is complete */
  int depth;
  unsigned char in_object[PB_JSON_MAX_DEPTH]; /**< else in an array */
  unsigned char has_items[PB_JSON_MAX_DEPTH];
} pb_json_t;

/** Start one JSON document on `file`, which stays the caller's. */
void pb_json_init(pb_json_t* json, FILE* file, int pretty);

/** End the document with a newline.  Returns 0, or -1 if a write failed or
 *  the document is incomplete or misnested (a value without a key in an
 *  object, a key in an array, a second top-level value, too deep). */
int pb_json_finish(pb_json_t* json);

void pb_json_object_begin(pb_json_t* json);
void pb_json_object_end(pb_json_t* json);
void pb_json_array_begin(pb_json_t* json);
void pb_json_array_end(pb_json_t* json);

/** Name the next member of the current object. */
void pb_json_key(pb_json_t* json, const char* key);

/** A string value; NULL writes null. */
void pb_json_string(pb_json_t* json, const char* s);

/** A string value of the first `n` bytes at `s` (NUL bytes included). */
void pb_json_string_n(pb_json_t* json, const char* s, size_t n);

void pb_json_int(pb_json_t* json, int64_t value);

/** A number written with %.9g (exact for a float); NaN and the infinities,
 *  which JSON cannot express, write null. */
void pb_json_double(pb_json_t* json, double value);

void pb_json_bool(pb_json_t* json, int value);
void pb_json_null(pb_json_t* json);

#endif /* PB_HOST_CLI_JSON_H */
