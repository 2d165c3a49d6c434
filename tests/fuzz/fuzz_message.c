/* libFuzzer target for the control protocol.
 *
 * The input is used twice: as one frame body handed to pb_msg_decode(), and
 * as a byte stream cut into pieces and fed to pb_frames, whose frames are
 * decoded in turn.  Every body that decodes must be written again by
 * pb_wr_msg(), decode again to the same values, and be written again to the
 * same bytes.  Any other outcome than 0, -EBADMSG or -EMSGSIZE aborts. */
#include "proto/frame.h"
#include "proto/message.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_BODY 4096u

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void
check(int ok)
{
  if (!ok)
    abort();
}

static int val_equal(const pb_val_t* a, const pb_val_t* b);

static int
array_equal(const pb_val_t* a, const pb_val_t* b)
{
  if (a->v.a.n_rows != b->v.a.n_rows || a->v.a.n_cols != b->v.a.n_cols)
    return 0;
  for (uint32_t r = 0; r < a->v.a.n_rows; ++r)
    for (uint32_t c = 0; c < a->v.a.n_cols; ++c)
      if (!val_equal(pb_val_cell(a, r, c), pb_val_cell(b, r, c)))
        return 0;
  return 1;
}

static int
val_equal(const pb_val_t* a, const pb_val_t* b)
{
  if (a->type != b->type)
    return 0;
  switch (a->type) {
    case PB_VAL_U:
      return a->v.u == b->v.u;
    case PB_VAL_I:
      return a->v.i == b->v.i;
    case PB_VAL_F: /* bit for bit, so that NaNs compare too */
      return memcmp(&a->v.f, &b->v.f, sizeof(double)) == 0;
    case PB_VAL_B:
      return a->v.b == b->v.b;
    case PB_VAL_S:
      return a->v.s.len == b->v.s.len && a->v.s.ptr[a->v.s.len] == '\0' &&
             memcmp(a->v.s.ptr, b->v.s.ptr, a->v.s.len) == 0;
    case PB_VAL_X:
      return a->v.x.len == b->v.x.len &&
             (a->v.x.len == 0 ||
              memcmp(a->v.x.ptr, b->v.x.ptr, a->v.x.len) == 0);
    case PB_VAL_A:
      return array_equal(a, b);
    default:
      return 0;
  }
}

static int
msg_equal(const pb_msg_t* a, const pb_msg_t* b)
{
  if (a->kind != b->kind || a->id != b->id || a->n_args != b->n_args)
    return 0;
  for (uint32_t i = 0; i < a->n_args; ++i)
    if (!val_equal(&a->args[i], &b->args[i]))
      return 0;
  return 1;
}

static void
round_trip(const pb_msg_t* m)
{
  pb_wr_t w1;
  pb_wr_t w2;
  pb_msg_t m2;

  pb_wr_init(&w1);
  pb_wr_init(&w2);
  check(pb_wr_msg(&w1, m) == 0);
  check(pb_msg_decode(pb_wr_data(&w1) + PB_FRAME_HEADER_BYTES,
                      pb_wr_size(&w1) - PB_FRAME_HEADER_BYTES,
                      &m2) == 0);
  check(msg_equal(m, &m2));
  check(pb_wr_msg(&w2, &m2) == 0);
  check(pb_wr_size(&w1) == pb_wr_size(&w2));
  check(memcmp(pb_wr_data(&w1), pb_wr_data(&w2), pb_wr_size(&w1)) == 0);
  pb_msg_fini(&m2);
  pb_wr_fini(&w2);
  pb_wr_fini(&w1);
}

static void
decode_body(const uint8_t* body, size_t len)
{
  pb_msg_t m;
  const int rc = pb_msg_decode(body, len, &m);

  check(rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE);
  if (rc == 0) {
    check(pb_msg_schema(m.kind) != NULL);
    check(strcmp(pb_msg_kind_name(m.kind), "unknown") != 0);
    round_trip(&m);
  }
  pb_msg_fini(&m);
}

/* Decodes a private exact-size copy of a frame body, so that the sanitizer
 * sees any read past its end (the frame buffer holds more bytes). */
static void
decode_frame(const uint8_t* body, size_t len)
{
  uint8_t* copy = (uint8_t*)malloc(len ? len : 1);

  check(copy != NULL);
  if (len)
    memcpy(copy, body, len);
  decode_body(copy, len);
  free(copy);
}

static void
feed_stream(const uint8_t* data, size_t size)
{
  const size_t piece = 1 + size % 13;
  pb_frames_t f;
  int rc = 0;

  pb_frames_init(&f, FUZZ_MAX_BODY);
  for (size_t off = 0; off < size && rc >= 0; off += piece) {
    const uint8_t* body = NULL;
    size_t len = 0;
    check(pb_frames_feed(
            &f, data + off, size - off < piece ? size - off : piece) == 0);
    while ((rc = pb_frames_next(&f, &body, &len)) == 1) {
      check(len <= FUZZ_MAX_BODY);
      decode_frame(body, len);
    }
    check(rc == 0 || rc == -EMSGSIZE);
  }
  pb_frames_fini(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  decode_body(data, size);
  feed_stream(data, size);
  return 0;
}
