/* The note is one line, "plugbox-crash: sig=S addr=0x.. pc=0x.. call=C
 * module=PATH+0x..|? code=N", written by a signal handler; it is read
 * here as untrusted text: every field is optional and bounded. */
#define _POSIX_C_SOURCE 200809L

#include "crash_note.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_PREFIX "plugbox-crash: "

/* The value after " key=" in the line [line, end), up to the next blank
 * (or up to " code=" for the module, whose path may hold blanks). */
static int
field(const char* line, const char* end, const char* key, char* out, size_t cap)
{
  char pattern[32];
  (void)snprintf(pattern, sizeof pattern, " %s=", key);
  const size_t n = strlen(pattern);
  const char* at = NULL;
  for (const char* p = line; p + n <= end; ++p)
    if (!memcmp(p, pattern, n)) {
      at = p + n;
      break;
    }
  if (!at || cap == 0)
    return 0;
  const char* stop = at;
  if (!strcmp(key, "module")) {
    const char* code = NULL;
    for (const char* p = at; p + 6 <= end; ++p)
      if (!memcmp(p, " code=", 6))
        code = p;
    stop = code ? code : end;
  } else {
    while (stop < end && *stop != ' ')
      ++stop;
  }
  size_t len = (size_t)(stop - at);
  if (len >= cap)
    len = cap - 1;
  memcpy(out, at, len);
  out[len] = '\0';
  return 1;
}

static uint64_t
hex(const char* text)
{
  return (uint64_t)strtoull(text, NULL, 16);
}

static void
parse_module(const char* text, pb_crash_t* cr)
{
  const char* plus = strrchr(text, '+');
  if (!plus || !strcmp(text, "?"))
    return;
  const size_t n = (size_t)(plus - text);
  if (n >= sizeof cr->module)
    return;
  memcpy(cr->module, text, n);
  cr->module[n] = '\0';
  cr->module_offset = hex(plus + 1);
}

/* Copy at most `cap - 1` bytes of `src`, terminated. */
static void
copy(char* dst, size_t cap, const char* src)
{
  size_t n = strlen(src);
  if (n >= cap)
    n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static void
parse_line(const char* line, const char* end, pb_crash_t* cr)
{
  char value[320];
  cr->has_note = 1;
  const char* body = line + strlen(NOTE_PREFIX) - 1; /* keep the blank */
  if (field(body, end, "sig", value, sizeof value) &&
      !strncmp(value, "SIG", 3) && !cr->signal_name[0])
    copy(cr->signal_name, sizeof cr->signal_name, value);
  if (field(body, end, "addr", value, sizeof value))
    cr->fault_address = hex(value);
  if (field(body, end, "pc", value, sizeof value))
    cr->pc = hex(value);
  if (field(body, end, "call", value, sizeof value) && value[0] &&
      strcmp(value, "-") != 0)
    copy(cr->call, sizeof cr->call, value);
  if (field(body, end, "module", value, sizeof value))
    parse_module(value, cr);
}

/* The last `max` lines of [log, end), skipping blank ones. */
static void
tail(const char* log, const char* end, char* out, size_t cap, int max)
{
  while (end > log && (end[-1] == '\n' || end[-1] == '\r'))
    --end;
  const char* start = end;
  int lines = 0;
  while (start > log && !(start[-1] == '\n' && ++lines == max))
    --start;
  size_t n = (size_t)(end - start);
  if (n >= cap) {
    start = end - (cap - 1);
    n = cap - 1;
  }
  memcpy(out, start, n);
  out[n] = '\0';
}

void
pb_crash_note_parse(const char* log, pb_crash_t* cr)
{
  const char* note = NULL;
  for (const char* p = strstr(log, NOTE_PREFIX); p;
       p = strstr(p + 1, NOTE_PREFIX))
    if (p == log || p[-1] == '\n')
      note = p;
  const char* before = note ? note : log + strlen(log);
  tail(log, before, cr->last_log, sizeof cr->last_log, 5);
  if (!note)
    return;
  const char* end = strchr(note, '\n');
  parse_line(note, end ? end : note + strlen(note), cr);
}
