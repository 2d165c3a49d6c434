/* The over-long strings pb_test_odd reports, shared with the tests that
 * check they arrive whole.  Each is a head followed by letters a..z
 * repeated up to an exact length: longer than the format's documented
 * 32/64 characters, shorter than a host's 512-byte buffer. */
#ifndef PB_TESTS_PLUGINS_ODD_STRINGS_H
#define PB_TESTS_PLUGINS_ODD_STRINGS_H

#include <stddef.h>
#include <string.h>

#define PB_ODD_NAME_LEN 300
#define PB_ODD_VENDOR_LEN 250
#define PB_ODD_PRODUCT_LEN 480

/* Fill `buf` (at least `len + 1` bytes) with `head` then letters, `len`
 * characters in all, NUL-terminated. */
static inline void
pb_odd_text(char* buf, const char* head, size_t len)
{
  size_t n = strlen(head);
  if (n > len)
    n = len;
  memcpy(buf, head, n);
  for (size_t i = n; i < len; ++i)
    buf[i] = (char)('a' + (char)(i % 26));
  buf[len] = '\0';
}

#endif /* PB_TESTS_PLUGINS_ODD_STRINGS_H */
