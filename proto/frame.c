/* Reassembly of length-prefixed frames from a byte stream.
 *
 * Bytes accumulate in one buffer; pb_frames_next() hands out bodies in
 * place and only advances `consumed`.  Consumed bytes are reclaimed when a
 * feed would not fit otherwise (or for free when everything was consumed),
 * and the buffer at least doubles when it grows.  With a reader that takes
 * every whole frame before the next feed, only the head of one pending
 * frame is ever moved, once, so each byte costs amortized O(1) however the
 * stream is split. */
#include "proto/frame.h"

#include "proto/message.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CAP_BYTES 256u

void
pb_frames_init(pb_frames_t* f, size_t max_body)
{
  memset(f, 0, sizeof(*f));
  f->max_body = max_body;
}

void
pb_frames_fini(pb_frames_t* f)
{
  free(f->buf);
  memset(f, 0, sizeof(*f));
}

/* Moves the bytes not yet handed out to the front of the buffer. */
static void
compact(pb_frames_t* f)
{
  const size_t left = f->size - f->consumed;

  if (left > 0 && f->consumed > 0)
    memmove(f->buf, f->buf + f->consumed, left);
  f->size = left;
  f->consumed = 0;
}

/* Grows the buffer to hold at least `need` bytes (need > cap). */
static int
grow(pb_frames_t* f, size_t need)
{
  size_t cap = f->cap ? f->cap : MIN_CAP_BYTES;
  uint8_t* buf = NULL;

  while (cap < need) {
    if (cap > SIZE_MAX / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  buf = (uint8_t*)realloc(f->buf, cap);
  if (!buf)
    return -ENOMEM;
  f->buf = buf;
  f->cap = cap;
  return 0;
}

int
pb_frames_feed(pb_frames_t* f, const void* data, size_t len)
{
  if (len == 0)
    return 0;
  if (f->consumed == f->size || f->cap - f->size < len)
    compact(f);
  if (f->cap - f->size < len) {
    if (len > SIZE_MAX - f->size)
      return -ENOMEM;
    const int err = grow(f, f->size + len);
    if (err)
      return err;
  }
  memcpy(f->buf + f->size, data, len);
  f->size += len;
  return 0;
}

int
pb_frames_next(pb_frames_t* f, const uint8_t** body, size_t* len)
{
  const size_t avail = f->size - f->consumed;
  const uint8_t* head = NULL;
  uint32_t n = 0;

  if (avail < PB_FRAME_HEADER_BYTES)
    return 0;
  head = f->buf + f->consumed;
  for (unsigned i = 0; i < PB_FRAME_HEADER_BYTES; ++i)
    n |= (uint32_t)head[i] << (8 * i);
  if (n > f->max_body)
    return -EMSGSIZE; /* stays so: `consumed` does not move past it */
  if (avail - PB_FRAME_HEADER_BYTES < n)
    return 0;
  *body = head + PB_FRAME_HEADER_BYTES;
  *len = n;
  f->consumed += PB_FRAME_HEADER_BYTES + (size_t)n;
  return 1;
}
