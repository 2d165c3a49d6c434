#include "json.h"

#include "text.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void
pb_json_init(pb_json_t* json, FILE* file, int pretty)
{
  memset(json, 0, sizeof *json);
  json->file = file;
  json->pretty = pretty;
}

static void
put(pb_json_t* json, const char* s, size_t n)
{
  if (!json->failed && n > 0 && fwrite(s, 1, n, json->file) != n)
    json->failed = 1;
}

static void
put_str(pb_json_t* json, const char* s)
{
  put(json, s, strlen(s));
}

static void
newline(pb_json_t* json)
{
  if (!json->pretty)
    return;
  put(json, "\n", 1);
  for (int i = 0; i < json->depth; ++i)
    put(json, "  ", 2);
}

/* Separate an array item or object member from the one before it. */
static void
next_item(pb_json_t* json)
{
  int top = json->depth - 1;
  if (json->has_items[top])
    put(json, ",", 1);
  json->has_items[top] = 1;
  newline(json);
}

/* Everything before a value: its place must be open, and an array item
 * needs its separator (an object member had it before its key). */
static void
before_value(pb_json_t* json)
{
  if (json->after_key) {
    json->after_key = 0;
    return;
  }
  if (json->depth == 0) {
    if (json->done)
      json->failed = 1;
    return;
  }
  if (json->in_object[json->depth - 1])
    json->failed = 1;
  next_item(json);
}

static void
after_value(pb_json_t* json)
{
  if (json->depth == 0)
    json->done = 1;
}

static void
begin(pb_json_t* json, int object)
{
  before_value(json);
  if (json->depth == PB_JSON_MAX_DEPTH) {
    json->failed = 1;
    return;
  }
  put(json, object ? "{" : "[", 1);
  json->in_object[json->depth] = (unsigned char)object;
  json->has_items[json->depth] = 0;
  ++json->depth;
}

static void
end(pb_json_t* json, int object)
{
  if (json->depth == 0 || json->after_key ||
      json->in_object[json->depth - 1] != object) {
    json->failed = 1;
    return;
  }
  --json->depth;
  if (json->has_items[json->depth])
    newline(json);
  put(json, object ? "}" : "]", 1);
  after_value(json);
}

void
pb_json_object_begin(pb_json_t* json)
{
  begin(json, 1);
}

void
pb_json_object_end(pb_json_t* json)
{
  end(json, 1);
}

void
pb_json_array_begin(pb_json_t* json)
{
  begin(json, 0);
}

void
pb_json_array_end(pb_json_t* json)
{
  end(json, 0);
}

/* The escape for ASCII byte `c`, or NULL if it stands for itself. */
static const char*
escape(unsigned char c, char buf[8])
{
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      break;
  }
  if (c >= 0x20)
    return NULL;
  (void)snprintf(buf, 8, "\\u%04x", (unsigned)c);
  return buf;
}

/* The replacement for the sequence at `u` (length in `*len`, 0 when it is
 * ill-formed), or NULL if it is copied as it is. */
static const char*
replacement(const unsigned char* u, size_t n, size_t* len, char buf[8])
{
  uint32_t cp = 0;
  if (u[0] < 0x80) {
    *len = 1;
    return escape(u[0], buf);
  }
  *len = pb_text_decode(u, n, &cp);
  if (*len > 0)
    return NULL;
  *len = 1; /* one U+FFFD per byte that belongs to no character */
  return PB_TEXT_REPLACEMENT;
}

static void
put_quoted(pb_json_t* json, const char* s, size_t n)
{
  const unsigned char* u = (const unsigned char*)s;
  size_t run = 0;
  size_t i = 0;
  put(json, "\"", 1);
  while (i < n) {
    char buf[8];
    size_t len = 0;
    const char* rep = replacement(u + i, n - i, &len, buf);
    if (rep) {
      put(json, s + run, i - run);
      put_str(json, rep);
      run = i + len;
    }
    i += len;
  }
  put(json, s + run, n - run);
  put(json, "\"", 1);
}

void
pb_json_key(pb_json_t* json, const char* key)
{
  if (json->depth == 0 || !json->in_object[json->depth - 1] ||
      json->after_key) {
    json->failed = 1;
    return;
  }
  next_item(json);
  put_quoted(json, key, strlen(key));
  put_str(json, json->pretty ? ": " : ":");
  json->after_key = 1;
}

void
pb_json_string_n(pb_json_t* json, const char* s, size_t n)
{
  before_value(json);
  put_quoted(json, s, n);
  after_value(json);
}

void
pb_json_string(pb_json_t* json, const char* s)
{
  if (!s)
    pb_json_null(json);
  else
    pb_json_string_n(json, s, strlen(s));
}

static void
put_literal(pb_json_t* json, const char* text)
{
  before_value(json);
  put_str(json, text);
  after_value(json);
}

void
pb_json_int(pb_json_t* json, int64_t value)
{
  char buf[32];
  (void)snprintf(buf, sizeof buf, "%" PRId64, value);
  put_literal(json, buf);
}

void
pb_json_double(pb_json_t* json, double value)
{
  char buf[40];
  if (!isfinite(value)) {
    put_literal(json, "null");
    return;
  }
  (void)snprintf(buf, sizeof buf, "%.9g", value);
  put_literal(json, buf);
}

void
pb_json_bool(pb_json_t* json, int value)
{
  put_literal(json, value ? "true" : "false");
}

void
pb_json_null(pb_json_t* json)
{
  put_literal(json, "null");
}

int
pb_json_finish(pb_json_t* json)
{
  if (json->depth != 0 || json->after_key || !json->done)
    json->failed = 1;
  put(json, "\n", 1);
  return json->failed ? -1 : 0;
}
