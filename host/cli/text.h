/* Untrusted text on its way to a terminal: UTF-8 decoding, and a writer
 * that replaces what could garble or hijack the reader's screen. */
#ifndef PB_HOST_CLI_TEXT_H
#define PB_HOST_CLI_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define PB_TEXT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PB_TEXT_PRINTF(fmt, args)
#endif

/** U+FFFD REPLACEMENT CHARACTER, encoded in UTF-8. */
#define PB_TEXT_REPLACEMENT "\xEF\xBF\xBD"

/** Keep line feeds and tabs (a log); without it they are replaced too. */
#define PB_TEXT_KEEP_LINES 1u

/** Length (1 to 4) of the well-formed UTF-8 sequence that starts the `n`
 *  bytes at `s` (`n` >= 1), with its code point in `*cp`; 0 if the bytes
 *  there are not well-formed (stray continuation byte, overlong form,
 *  surrogate, past U+10FFFF, or cut short by the end). */
size_t pb_text_decode(const unsigned char* s, size_t n, uint32_t* cp);

/** An output stream that remembers its first write error. */
typedef struct
{
  FILE* file;
  int failed; /**< 1 once any write failed */
} pb_text_t;

/** Start writing to `file`, which stays the caller's. */
void pb_text_init(pb_text_t* text, FILE* file);

/** Write formatted output; program-made text only, never a plugin's. */
void pb_text_printf(pb_text_t* text, const char* format, ...)
  PB_TEXT_PRINTF(2, 3);

/** Write the `n` bytes at `s`, each control character (C0, DEL, C1) and
 *  each byte of ill-formed UTF-8 replaced by U+FFFD, so that the text can
 *  neither move the cursor, send escape sequences, nor break lines
 *  (unless `flags` has PB_TEXT_KEEP_LINES). */
void pb_text_write_safe(pb_text_t* text,
                        const char* s,
                        size_t n,
                        unsigned flags);

/** pb_text_write_safe() on a NUL-terminated string (NULL writes nothing). */
void pb_text_puts_safe(pb_text_t* text, const char* s);

#endif /* PB_HOST_CLI_TEXT_H */
