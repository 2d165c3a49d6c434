/* A strict JSON checker for the CLI tests (RFC 8259): one value, with
 * whitespace around it, strings of well-formed UTF-8 without raw control
 * characters.  Written apart from host/cli/json.c on purpose, so the
 * emitter is not checked against its own idea of JSON. */
#ifndef PB_TESTS_CLI_JSON_CHECK_H
#define PB_TESTS_CLI_JSON_CHECK_H

#include <stddef.h>
#include <string.h>

typedef struct
{
  const unsigned char* s;
  size_t n;
  size_t i;
  int depth;
} json_check_t;

static int check_value(json_check_t* c);

static void
check_space(json_check_t* c)
{
  while (c->i < c->n && strchr(" \t\r\n", c->s[c->i]) && c->s[c->i])
    ++c->i;
}

static int
check_byte(json_check_t* c, unsigned char b)
{
  if (c->i < c->n && c->s[c->i] == b) {
    ++c->i;
    return 1;
  }
  return 0;
}

static int
check_literal(json_check_t* c, const char* word)
{
  size_t len = strlen(word);
  if (c->n - c->i < len || memcmp(c->s + c->i, word, len) != 0)
    return 0;
  c->i += len;
  return 1;
}

static int
check_digits(json_check_t* c)
{
  size_t start = c->i;
  while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
    ++c->i;
  return c->i > start;
}

static int
check_number(json_check_t* c)
{
  (void)check_byte(c, '-');
  if (!check_byte(c, '0') && !check_digits(c))
    return 0;
  if (check_byte(c, '.') && !check_digits(c))
    return 0;
  if (check_byte(c, 'e') || check_byte(c, 'E')) {
    if (!check_byte(c, '+'))
      (void)check_byte(c, '-');
    return check_digits(c);
  }
  return 1;
}

static int
check_escape(json_check_t* c)
{
  if (c->i >= c->n)
    return 0;
  unsigned char e = c->s[c->i++];
  if (strchr("\"\\/bfnrt", e) && e)
    return 1;
  if (e != 'u' || c->n - c->i < 4)
    return 0;
  for (int k = 0; k < 4; ++k, ++c->i)
    if (!strchr("0123456789abcdefABCDEF", c->s[c->i]) || !c->s[c->i])
      return 0;
  return 1;
}

/* One well-formed UTF-8 sequence of two to four bytes. */
static int
check_utf8(json_check_t* c)
{
  unsigned char b = c->s[c->i];
  size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  unsigned long cp = b & (len == 2 ? 0x1Fu : len == 3 ? 0x0Fu : 0x07u);
  unsigned long min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
  if (b < 0xC0 || b > 0xF7 || c->n - c->i < len)
    return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((c->s[c->i + k] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (c->s[c->i + k] & 0x3Fu);
  }
  c->i += len;
  return cp >= min && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
}

static int
check_string(json_check_t* c)
{
  if (!check_byte(c, '"'))
    return 0;
  while (c->i < c->n) {
    unsigned char b = c->s[c->i];
    if (b == '"') {
      ++c->i;
      return 1;
    }
    if (b < 0x20)
      return 0;
    if (b == '\\') {
      ++c->i;
      if (!check_escape(c))
        return 0;
    } else if (b >= 0x80) {
      if (!check_utf8(c))
        return 0;
    } else {
      ++c->i;
    }
  }
  return 0;
}

/* The members of an object or the items of an array, after the opener. */
static int
check_items(json_check_t* c, int object)
{
  unsigned char close = object ? '}' : ']';
  check_space(c);
  if (check_byte(c, close))
    return 1;
  do {
    check_space(c);
    if (object) {
      if (!check_string(c))
        return 0;
      check_space(c);
      if (!check_byte(c, ':'))
        return 0;
    }
    if (!check_value(c))
      return 0;
    check_space(c);
  } while (check_byte(c, ','));
  return check_byte(c, close);
}

static int
check_value(json_check_t* c)
{
  int ok = 0;
  check_space(c);
  if (c->i >= c->n || ++c->depth > 64)
    return 0;
  unsigned char b = c->s[c->i];
  if (b == '{' || b == '[') {
    ++c->i;
    ok = check_items(c, b == '{');
  } else if (b == '"') {
    ok = check_string(c);
  } else if (b == '-' || (b >= '0' && b <= '9')) {
    ok = check_number(c);
  } else {
    ok = check_literal(c, "true") || check_literal(c, "false") ||
         check_literal(c, "null");
  }
  --c->depth;
  return ok;
}

/** 1 if the `n` bytes at `s` are exactly one JSON value. */
static int
json_check(const char* s, size_t n)
{
  json_check_t c = { (const unsigned char*)s, n, 0, 0 };
  if (!check_value(&c))
    return 0;
  check_space(&c);
  return c.i == c.n;
}

#endif /* PB_TESTS_CLI_JSON_CHECK_H */
