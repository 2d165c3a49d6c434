/* Reassembly of length-prefixed frames from a byte stream.  Pure code. */
#ifndef PB_PROTO_FRAME_H
#define PB_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Accumulates stream bytes and hands out whole frame bodies. */
typedef struct pb_frames
{
  uint8_t* buf;
  size_t size;     /* bytes held */
  size_t cap;      /* bytes allocated */
  size_t consumed; /* bytes of buf already handed out */
  size_t max_body; /* frames with a longer body are an error */
} pb_frames_t;

/** Start empty; bodies over `max_body` bytes are refused. */
void pb_frames_init(pb_frames_t* f, size_t max_body);

void pb_frames_fini(pb_frames_t* f);

/** Append `len` received bytes.  Returns 0 or -ENOMEM. */
int pb_frames_feed(pb_frames_t* f, const void* data, size_t len);

/** Take the next whole frame: returns 1 and sets `*body`/`*len` (borrowed,
 *  valid until the next feed or fini), 0 if more bytes are needed, or
 *  -EMSGSIZE if the next frame announces a body over max_body (the stream
 *  is then unusable). */
int pb_frames_next(pb_frames_t* f, const uint8_t** body, size_t* len);

#endif /* PB_PROTO_FRAME_H */
