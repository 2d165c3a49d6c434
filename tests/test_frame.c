/* Tests of proto/frame.c: frames come out whole and in order however the
 * stream is cut, and an oversize announcement stops the stream. */
#include "proto/frame.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define N_FRAMES 40

/* A stream of N_FRAMES frames whose body i has length i * 7 (so the first
 * is empty) and bytes derived from i. */
typedef struct
{
  uint8_t* bytes;
  size_t len;
} stream_t;

static size_t
body_len(size_t i)
{
  return i * 7;
}

static uint8_t
body_byte(size_t i, size_t k)
{
  return (uint8_t)(i * 31 + k);
}

static void
stream_init(stream_t* s)
{
  size_t total = 0;
  uint8_t* p = NULL;

  for (size_t i = 0; i < N_FRAMES; ++i)
    total += 4 + body_len(i);
  s->bytes = (uint8_t*)malloc(total);
  assert_non_null(s->bytes);
  s->len = total;
  p = s->bytes;
  for (size_t i = 0; i < N_FRAMES; ++i) {
    const size_t n = body_len(i);
    for (int b = 0; b < 4; ++b)
      *p++ = (uint8_t)(n >> (8 * b));
    for (size_t k = 0; k < n; ++k)
      *p++ = body_byte(i, k);
  }
}

static void
check_body(size_t i, const uint8_t* body, size_t len)
{
  assert_int_equal(len, body_len(i));
  for (size_t k = 0; k < len; ++k)
    assert_int_equal(body[k], body_byte(i, k));
}

/* Takes every whole frame, checking it is frame `*next`. */
static void
drain(pb_frames_t* f, size_t* next)
{
  const uint8_t* body = NULL;
  size_t len = 0;
  int rc = 0;

  while ((rc = pb_frames_next(f, &body, &len)) == 1) {
    assert_true(*next < N_FRAMES);
    check_body(*next, body, len);
    ++*next;
  }
  assert_int_equal(rc, 0);
}

/* Feeds the stream in pieces of the sizes `cut` returns, draining after
 * each, and checks that all frames came out. */
static void
feed_in_pieces(size_t (*cut)(size_t* state), size_t state)
{
  stream_t s;
  pb_frames_t f;
  size_t next = 0;

  stream_init(&s);
  pb_frames_init(&f, 1024);
  for (size_t off = 0; off < s.len;) {
    size_t n = cut(&state);
    if (n > s.len - off)
      n = s.len - off;
    assert_int_equal(pb_frames_feed(&f, s.bytes + off, n), 0);
    off += n;
    drain(&f, &next);
  }
  assert_int_equal(next, N_FRAMES);
  pb_frames_fini(&f);
  free(s.bytes);
}

static size_t
cut_one(size_t* state)
{
  (void)state;
  return 1;
}

static size_t
cut_random(size_t* state)
{
  *state = *state * 6364136223846793005u + 1442695040888963407u;
  return 1 + (*state >> 33) % 97;
}

static size_t
cut_whole(size_t* state)
{
  (void)state;
  return SIZE_MAX;
}

static void
frames_fed_byte_by_byte_come_out_whole(void** state)
{
  (void)state;
  feed_in_pieces(cut_one, 0);
}

static void
frames_cut_at_random_places_come_out_whole(void** state)
{
  (void)state;
  for (size_t seed = 1; seed <= 20; ++seed)
    feed_in_pieces(cut_random, seed);
}

static void
several_frames_in_one_feed_come_out_in_order(void** state)
{
  (void)state;
  feed_in_pieces(cut_whole, 0);
}

static void
frames_can_wait_across_feeds_before_being_taken(void** state)
{
  stream_t s;
  pb_frames_t f;
  size_t next = 0;

  (void)state;
  stream_init(&s);
  pb_frames_init(&f, 1024);
  for (size_t off = 0; off < s.len; off += 10) {
    const size_t n = s.len - off < 10 ? s.len - off : 10;
    const uint8_t* body = NULL;
    size_t len = 0;
    assert_int_equal(pb_frames_feed(&f, s.bytes + off, n), 0);
    /* take at most one frame per feed, so that frames pile up */
    if (pb_frames_next(&f, &body, &len) == 1)
      check_body(next++, body, len);
  }
  drain(&f, &next);
  assert_int_equal(next, N_FRAMES);
  pb_frames_fini(&f);
  free(s.bytes);
}

static void
zero_length_body_is_a_frame(void** state)
{
  static const uint8_t two_empty[] = { 0, 0, 0, 0, 0, 0, 0, 0 };
  const uint8_t* body = NULL;
  size_t len = 99;
  pb_frames_t f;

  (void)state;
  pb_frames_init(&f, 0);
  assert_int_equal(pb_frames_feed(&f, two_empty, sizeof(two_empty)), 0);
  assert_int_equal(pb_frames_next(&f, &body, &len), 1);
  assert_int_equal(len, 0);
  assert_non_null(body);
  assert_int_equal(pb_frames_next(&f, &body, &len), 1);
  assert_int_equal(pb_frames_next(&f, &body, &len), 0);
  pb_frames_fini(&f);
}

static void
oversize_announcement_is_refused_and_stops_the_stream(void** state)
{
  static const uint8_t over[] = { 0x01, 0x01, 0, 0 }; /* 257 bytes */
  static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
  static const uint8_t more[] = { 0, 0, 0, 0 };
  const uint8_t* body = NULL;
  size_t len = 0;
  pb_frames_t f;

  (void)state;
  pb_frames_init(&f, 256);
  assert_int_equal(pb_frames_feed(&f, over, sizeof(over)), 0);
  assert_int_equal(pb_frames_next(&f, &body, &len), -EMSGSIZE);
  assert_int_equal(pb_frames_feed(&f, more, sizeof(more)), 0);
  assert_int_equal(pb_frames_next(&f, &body, &len), -EMSGSIZE);
  pb_frames_fini(&f);

  pb_frames_init(&f, 1u << 20);
  assert_int_equal(pb_frames_feed(&f, huge, 2), 0);
  assert_int_equal(pb_frames_next(&f, &body, &len), 0);
  assert_int_equal(pb_frames_feed(&f, huge + 2, 2), 0);
  assert_int_equal(pb_frames_next(&f, &body, &len), -EMSGSIZE);
  assert_true(f.cap < 4096); /* nothing was reserved for the announced size */
  pb_frames_fini(&f);
}

static void
body_of_exactly_max_body_is_accepted(void** state)
{
  uint8_t frame[4 + 256];
  const uint8_t* body = NULL;
  size_t len = 0;
  pb_frames_t f;

  (void)state;
  memset(frame, 0xab, sizeof(frame));
  memcpy(frame, (const uint8_t[]){ 0, 1, 0, 0 }, 4);
  pb_frames_init(&f, 256);
  assert_int_equal(pb_frames_feed(&f, frame, sizeof(frame) - 1), 0);
  assert_int_equal(pb_frames_next(&f, &body, &len), 0);
  assert_int_equal(pb_frames_feed(&f, frame + sizeof(frame) - 1, 1), 0);
  assert_int_equal(pb_frames_next(&f, &body, &len), 1);
  assert_int_equal(len, 256);
  assert_memory_equal(body, frame + 4, 256);
  pb_frames_fini(&f);
}

static void
consumed_bytes_are_reclaimed(void** state)
{
  enum
  {
    FRAME = 4 + 100,
    N = 10000,
    PIECE = 70
  };
  uint8_t* stream = (uint8_t*)malloc((size_t)FRAME * N);
  const uint8_t* body = NULL;
  size_t len = 0;
  size_t n_taken = 0;
  pb_frames_t f;

  (void)state;
  assert_non_null(stream);
  for (size_t i = 0; i < N; ++i) {
    memset(stream + i * FRAME, (int)(i & 0x7f), FRAME);
    memcpy(stream + i * FRAME, (const uint8_t[]){ 100, 0, 0, 0 }, 4);
  }
  pb_frames_init(&f, 1024);
  /* Pieces never end on a frame boundary but every 26 frames, so a partial
   * frame is nearly always held when the next piece arrives. */
  for (size_t off = 0; off < (size_t)FRAME * N; off += PIECE) {
    const size_t left = (size_t)FRAME * N - off;
    assert_int_equal(
      pb_frames_feed(&f, stream + off, left < PIECE ? left : PIECE), 0);
    while (pb_frames_next(&f, &body, &len) == 1) {
      assert_int_equal(len, 100);
      assert_int_equal(body[99], n_taken & 0x7f);
      ++n_taken;
    }
  }
  assert_int_equal(n_taken, N);
  assert_true(f.cap <= 1024);
  pb_frames_fini(&f);
  free(stream);
}

static void
empty_stream_has_no_frame_and_fini_is_idempotent(void** state)
{
  const uint8_t* body = NULL;
  size_t len = 0;
  pb_frames_t f;

  (void)state;
  pb_frames_init(&f, 64);
  assert_int_equal(pb_frames_next(&f, &body, &len), 0);
  assert_int_equal(pb_frames_feed(&f, NULL, 0), 0);
  assert_int_equal(pb_frames_next(&f, &body, &len), 0);
  assert_int_equal(pb_frames_feed(&f, "\x01\x00\x00", 3), 0);
  assert_int_equal(pb_frames_next(&f, &body, &len), 0);
  pb_frames_fini(&f);
  pb_frames_fini(&f);
  assert_null(f.buf);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(frames_fed_byte_by_byte_come_out_whole),
    cmocka_unit_test(frames_cut_at_random_places_come_out_whole),
    cmocka_unit_test(several_frames_in_one_feed_come_out_in_order),
    cmocka_unit_test(frames_can_wait_across_feeds_before_being_taken),
    cmocka_unit_test(zero_length_body_is_a_frame),
    cmocka_unit_test(oversize_announcement_is_refused_and_stops_the_stream),
    cmocka_unit_test(body_of_exactly_max_body_is_accepted),
    cmocka_unit_test(consumed_bytes_are_reclaimed),
    cmocka_unit_test(empty_stream_has_no_frame_and_fini_is_idempotent),
  };
  return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
