/* Untrusted text: plugins name themselves, their parameters and their
 * programs with whatever bytes they like, and a probe of a hostile plugin
 * must not let those bytes drive the user's terminal. */
#include "text.h"

#include <stdarg.h>
#include <string.h>

/* The sequence length and payload bits announced by lead byte `b`, with
 * the smallest code point that length may encode (to reject overlongs).
 * 0xC0, 0xC1 and 0xF5..0xFF never start a well-formed sequence. */
static size_t
lead_length(unsigned char b, uint32_t* bits, uint32_t* min)
{
  if (b >= 0xC2 && b <= 0xDF) {
    *bits = b & 0x1Fu;
    *min = 0x80;
    return 2;
  }
  if (b >= 0xE0 && b <= 0xEF) {
    *bits = b & 0x0Fu;
    *min = 0x800;
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    *bits = b & 0x07u;
    *min = 0x10000;
    return 4;
  }
  return 0;
}

size_t
pb_text_decode(const unsigned char* s, size_t n, uint32_t* cp)
{
  if (s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  uint32_t c = 0;
  uint32_t min = 0;
  size_t len = lead_length(s[0], &c, &min);
  if (len == 0 || n < len)
    return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xC0u) != 0x80u)
      return 0;
    c = (c << 6) | (s[i] & 0x3Fu);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  *cp = c;
  return len;
}

void
pb_text_init(pb_text_t* text, FILE* file)
{
  text->file = file;
  text->failed = 0;
}

static void
put(pb_text_t* text, const char* s, size_t n)
{
  if (n > 0 && fwrite(s, 1, n, text->file) != n)
    text->failed = 1;
}

void
pb_text_printf(pb_text_t* text, const char* format, ...)
{
  va_list args;
  va_start(args, format);
  if (vfprintf(text->file, format, args) < 0)
    text->failed = 1;
  va_end(args);
}

static int
is_unsafe(uint32_t cp, unsigned flags)
{
  if ((flags & PB_TEXT_KEEP_LINES) && (cp == '\n' || cp == '\t'))
    return 0;
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

void
pb_text_write_safe(pb_text_t* text, const char* s, size_t n, unsigned flags)
{
  const unsigned char* u = (const unsigned char*)s;
  size_t run = 0; /* start of the bytes that pass through unchanged */
  size_t i = 0;
  while (i < n) {
    uint32_t cp = 0;
    size_t len = pb_text_decode(u + i, n - i, &cp);
    if (len > 0 && !is_unsafe(cp, flags)) {
      i += len;
      continue;
    }
    put(text, s + run, i - run);
    put(text, PB_TEXT_REPLACEMENT, sizeof PB_TEXT_REPLACEMENT - 1);
    i += len > 0 ? len : 1;
    run = i;
  }
  put(text, s + run, n - run);
}

void
pb_text_puts_safe(pb_text_t* text, const char* s)
{
  if (s)
    pb_text_write_safe(text, s, strlen(s), 0);
}
