/* Tests of proto/message.c: schema table, writer, and a decoder that must
 * refuse every malformed, mistyped or oversized body without crashing or
 * allocating without bound. */
#include "proto/message.h"

#include <msgpack.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define INFO_REPLY_SCHEMA                                                      \
  "sssiiiiiuiiiiiiiuu"                                                         \
  "a(ssui)a(ssui)a(sssfbbufffiiiiiiisss)a(s)a(si)"

/* Every kind, request or hello or error or event form. */
static const uint32_t all_kinds[] = {
  PB_MSG_HELLO,
  PB_MSG_ERROR,
  PB_MSG_OPEN,
  PB_MSG_CLOSE,
  PB_MSG_INFO,
  PB_MSG_PARAM_GET,
  PB_MSG_PARAM_SET,
  PB_MSG_PARAM_FROM_STRING,
  PB_MSG_PROGRAM_GET,
  PB_MSG_PROGRAM_SET,
  PB_MSG_PROGRAM_NAME,
  PB_MSG_PROGRAM_RENAME,
  PB_MSG_CHUNK_GET,
  PB_MSG_CHUNK_SET,
  PB_MSG_SET_SAMPLE_RATE,
  PB_MSG_SET_BLOCK_SIZE,
  PB_MSG_SET_ACTIVE,
  PB_MSG_SET_PROCESSING,
  PB_MSG_SET_BYPASS,
  PB_MSG_TAIL_SIZE,
  PB_MSG_CAN_DO,
  PB_MSG_PING,
  PB_MSG_SANDBOX,
  PB_MSG_EV_AUTOMATE,
  PB_MSG_EV_BEGIN_EDIT,
  PB_MSG_EV_END_EDIT,
  PB_MSG_EV_IO_CHANGED,
  PB_MSG_EV_LATENCY,
};
#define N_ALL_KINDS (sizeof(all_kinds) / sizeof(all_kinds[0]))

static int
has_reply(uint32_t kind)
{
  return (kind >= PB_MSG_OPEN && kind <= PB_MSG_PING) || kind == PB_MSG_SANDBOX;
}

static int
has_id(uint32_t kind)
{
  return kind != PB_MSG_HELLO && kind < PB_MSG_EV_AUTOMATE;
}

/* Calls fn(kind) for every kind in every form it has. */
static void
for_each_form(void (*fn)(uint32_t kind))
{
  for (size_t k = 0; k < N_ALL_KINDS; ++k) {
    fn(all_kinds[k]);
    if (has_reply(all_kinds[k]))
      fn(all_kinds[k] | PB_MSG_REPLY);
  }
}

static const char*
skip_arg(const char* s)
{
  return *s == 'a' ? strchr(s, ')') + 1 : s + 1;
}

static uint32_t
count_args(const char* s)
{
  uint32_t n = 0;
  for (; *s; s = skip_arg(s))
    ++n;
  return n;
}

static uint32_t
count_cols(const char* spec) /* spec at "a(" */
{
  return (uint32_t)(strchr(spec, ')') - spec - 2);
}

/* Decodes a private exact-size copy, so that reading past the end is caught
 * by the sanitizers, and returns the status. */
static int
decode_copy(const void* bytes, size_t len)
{
  uint8_t* copy = (uint8_t*)malloc(len ? len : 1);
  pb_msg_t msg;
  int rc = 0;

  assert_non_null(copy);
  if (len)
    memcpy(copy, bytes, len);
  rc = pb_msg_decode(copy, len, &msg);
  pb_msg_fini(&msg);
  free(copy);
  return rc;
}

/* Decodes the frame held by `w`. */
static int
decode_wr(const pb_wr_t* w, pb_msg_t* msg)
{
  assert_true(pb_wr_size(w) >= PB_FRAME_HEADER_BYTES);
  return pb_msg_decode(pb_wr_data(w) + PB_FRAME_HEADER_BYTES,
                       pb_wr_size(w) - PB_FRAME_HEADER_BYTES,
                       msg);
}

/* --------------------------------------------------- sample values */

static uint32_t
sample_u(uint32_t seed)
{
  return 4000000000u - seed * 977u;
}

static int32_t
sample_i(uint32_t seed)
{
  return (seed & 1u) ? -(int32_t)(seed * 1009u) - 7 : (int32_t)seed * 31;
}

static double
sample_f(uint32_t seed)
{
  return 0.25 + (double)seed * 1.5;
}

static void
sample_s(uint32_t seed, char* buf, size_t size)
{
  snprintf(buf, size, "value %u \xc2\xb5s", seed); /* with a UTF-8 "µ" */
}

static size_t
sample_x(uint32_t seed, uint8_t* buf)
{
  const size_t len = 1 + seed % 7u;
  for (size_t i = 0; i < len; ++i)
    buf[i] = (uint8_t)(seed * 13u + i * 0x51u);
  return len;
}

static void
put_sample(pb_wr_t* w, char letter, uint32_t seed)
{
  char s[64];
  uint8_t x[8];

  switch (letter) {
    case 'u':
      pb_wr_u(w, sample_u(seed));
      break;
    case 'i':
      pb_wr_i(w, sample_i(seed));
      break;
    case 'f':
      pb_wr_f(w, sample_f(seed));
      break;
    case 'b':
      pb_wr_b(w, (int)(seed & 1u));
      break;
    case 's':
      sample_s(seed, s, sizeof(s));
      pb_wr_s(w, s);
      break;
    default:
      pb_wr_x(w, x, sample_x(seed, x));
      break;
  }
}

static void
check_sample(const pb_val_t* v, char letter, uint32_t seed)
{
  char s[64];
  uint8_t x[8];
  size_t len = 0;

  assert_int_equal(v->type, letter);
  switch (letter) {
    case 'u':
      assert_int_equal(v->v.u, sample_u(seed));
      break;
    case 'i':
      assert_int_equal(v->v.i, sample_i(seed));
      break;
    case 'f':
      assert_true(v->v.f == sample_f(seed));
      break;
    case 'b':
      assert_int_equal(v->v.b, (int)(seed & 1u));
      break;
    case 's':
      sample_s(seed, s, sizeof(s));
      assert_string_equal(v->v.s.ptr, s);
      assert_int_equal(v->v.s.len, strlen(s));
      break;
    default:
      len = sample_x(seed, x);
      assert_int_equal(v->v.x.len, len);
      assert_memory_equal(v->v.x.ptr, x, len);
      break;
  }
}

static uint32_t
cell_seed(uint32_t arg, uint32_t row, uint32_t col)
{
  return arg * 1000u + row * 50u + col;
}

/* Writes `kind` with sample values and `n_rows` rows in each array. */
static int
write_sample(pb_wr_t* w, uint32_t kind, uint32_t id, uint32_t n_rows)
{
  const char* s = pb_msg_schema(kind);
  uint32_t arg = 0;

  assert_non_null(s);
  pb_wr_begin(w, kind, id);
  for (; *s; s = skip_arg(s), ++arg) {
    if (*s != 'a') {
      put_sample(w, *s, arg);
      continue;
    }
    const uint32_t n_cols = count_cols(s);
    pb_wr_array(w, n_rows);
    for (uint32_t r = 0; r < n_rows; ++r) {
      pb_wr_row(w, n_cols);
      for (uint32_t c = 0; c < n_cols; ++c)
        put_sample(w, s[2 + c], cell_seed(arg, r, c));
    }
  }
  return pb_wr_end(w);
}

static void
check_sample_msg(const pb_msg_t* m, uint32_t kind, uint32_t id, uint32_t n_rows)
{
  const char* s = pb_msg_schema(kind);
  uint32_t arg = 0;

  assert_int_equal(m->kind, kind);
  assert_int_equal(m->id, id);
  assert_int_equal(m->n_args, count_args(s));
  for (; *s; s = skip_arg(s), ++arg) {
    const pb_val_t* v = &m->args[arg];
    if (*s != 'a') {
      check_sample(v, *s, arg);
      continue;
    }
    assert_int_equal(v->type, PB_VAL_A);
    assert_int_equal(v->v.a.n_rows, n_rows);
    assert_int_equal(v->v.a.n_cols, count_cols(s));
    for (uint32_t r = 0; r < n_rows; ++r)
      for (uint32_t c = 0; c < v->v.a.n_cols; ++c)
        check_sample(pb_val_cell(v, r, c), s[2 + c], cell_seed(arg, r, c));
  }
}

/* ------------------------------------------------ raw msgpack bodies */

typedef struct
{
  msgpack_sbuffer sb;
  msgpack_packer pk;
} raw_t;

static void
raw_init(raw_t* r)
{
  msgpack_sbuffer_init(&r->sb);
  msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

static void
raw_fini(raw_t* r)
{
  msgpack_sbuffer_destroy(&r->sb);
}

static int
raw_decode(const raw_t* r)
{
  return decode_copy(r->sb.data, r->sb.size);
}

/* Values of every msgpack type our schemas use, to put where they are
 * wrong. */
enum wrong
{
  W_NIL,
  W_FALSE,
  W_POS,
  W_NEG,
  W_FLOAT32,
  W_FLOAT64,
  W_STR,
  W_BIN,
  W_EMPTY_ARRAY,
  W_ARRAY_OF_INT,
  W_COUNT
};

static int
letter_accepts(char letter, enum wrong w)
{
  switch (letter) {
    case 'u':
      return w == W_POS;
    case 'i':
      return w == W_POS || w == W_NEG;
    case 'f':
      return w == W_FLOAT32 || w == W_FLOAT64;
    case 'b':
      return w == W_FALSE;
    case 's':
      return w == W_STR;
    case 'x':
      return w == W_BIN;
    default: /* 'a': no rows is a valid array */
      return w == W_EMPTY_ARRAY;
  }
}

static void
pack_wrong(msgpack_packer* pk, enum wrong w)
{
  int rc = 0;
  switch (w) {
    case W_NIL:
      rc = msgpack_pack_nil(pk);
      break;
    case W_FALSE:
      rc = msgpack_pack_false(pk);
      break;
    case W_POS:
      rc = msgpack_pack_uint32(pk, 5);
      break;
    case W_NEG:
      rc = msgpack_pack_int32(pk, -5);
      break;
    case W_FLOAT32:
      rc = msgpack_pack_float(pk, 0.5f);
      break;
    case W_FLOAT64:
      rc = msgpack_pack_double(pk, 0.5);
      break;
    case W_STR:
      rc = msgpack_pack_str_with_body(pk, "s", 1);
      break;
    case W_BIN:
      rc = msgpack_pack_bin_with_body(pk, "b", 1);
      break;
    case W_EMPTY_ARRAY:
      rc = msgpack_pack_array(pk, 0);
      break;
    default:
      rc = msgpack_pack_array(pk, 1) || msgpack_pack_uint32(pk, 1);
      break;
  }
  assert_int_equal(rc, 0);
}

static enum wrong
good_for(char letter)
{
  switch (letter) {
    case 'u':
      return W_POS;
    case 'i':
      return W_NEG;
    case 'f':
      return W_FLOAT32;
    case 'b':
      return W_FALSE;
    case 's':
      return W_STR;
    default:
      return W_BIN;
  }
}

/* How to break an otherwise valid raw message. */
typedef enum
{
  BREAK_NONE,
  BREAK_ARG,   /* argument `arg` is `bad` */
  BREAK_CELL,  /* cell (0, `col`) of array argument `arg` is `bad` */
  BREAK_COLS,  /* row 0 of array argument `arg` has `delta` more cells */
  BREAK_N_ARGS /* `delta` more arguments (uint 1) or fewer at the end */
} break_how_t;

typedef struct
{
  break_how_t how;
  int arg;
  int col;
  enum wrong bad;
  int delta;
} breakage_t;

static const breakage_t intact = { BREAK_NONE, -1, -1, W_NIL, 0 };

static void
pack_array_arg(raw_t* r, const char* spec, int arg, const breakage_t* b)
{
  const uint32_t n_cols = count_cols(spec);

  assert_int_equal(msgpack_pack_array(&r->pk, 2), 0);
  for (uint32_t row = 0; row < 2; ++row) {
    const int here = b->arg == arg && row == 0;
    const int delta = here && b->how == BREAK_COLS ? b->delta : 0;
    const uint32_t n = (uint32_t)((int)n_cols + delta);
    assert_int_equal(msgpack_pack_array(&r->pk, n), 0);
    for (uint32_t c = 0; c < n; ++c) {
      const char letter = c < n_cols ? spec[2 + c] : 'u';
      const int broken = here && b->how == BREAK_CELL && b->col == (int)c;
      pack_wrong(&r->pk, broken ? b->bad : good_for(letter));
    }
  }
}

/* Packs [kind, id, args...] following the schema of `kind`. */
static void
pack_msg(raw_t* r, uint32_t kind, uint32_t id, const breakage_t* b)
{
  const char* s = pb_msg_schema(kind);
  const int n_args =
    (int)count_args(s) + (b->how == BREAK_N_ARGS ? b->delta : 0);
  int arg = 0;

  assert_int_equal(msgpack_pack_array(&r->pk, (size_t)(2 + n_args)), 0);
  assert_int_equal(msgpack_pack_uint32(&r->pk, kind), 0);
  assert_int_equal(msgpack_pack_uint32(&r->pk, id), 0);
  for (; *s && arg < n_args; s = skip_arg(s), ++arg) {
    if (b->how == BREAK_ARG && b->arg == arg)
      pack_wrong(&r->pk, b->bad);
    else if (*s == 'a')
      pack_array_arg(r, s, arg, b);
    else
      pack_wrong(&r->pk, good_for(*s));
  }
  for (; arg < n_args; ++arg)
    assert_int_equal(msgpack_pack_uint32(&r->pk, 1), 0);
}

static int
decode_broken(uint32_t kind, uint32_t id, const breakage_t* b)
{
  raw_t r;
  int rc = 0;

  raw_init(&r);
  pack_msg(&r, kind, id, b);
  rc = raw_decode(&r);
  raw_fini(&r);
  return rc;
}

/* -------------------------------------------------- schema table */

static void
schema_table_is_the_documented_contract(void** state)
{
  static const struct
  {
    uint32_t kind;
    const char* request;
    const char* reply;
  } table[] = {
    { PB_MSG_HELLO, "usu", NULL },
    { PB_MSG_ERROR, "is", NULL },
    { PB_MSG_OPEN, "sfu", "" },
    { PB_MSG_CLOSE, "", "" },
    { PB_MSG_INFO, "", INFO_REPLY_SCHEMA },
    { PB_MSG_PARAM_GET, "u", "fss" },
    { PB_MSG_PARAM_SET, "uf", "" },
    { PB_MSG_PARAM_FROM_STRING, "us", "bf" },
    { PB_MSG_PROGRAM_GET, "", "i" },
    { PB_MSG_PROGRAM_SET, "u", "" },
    { PB_MSG_PROGRAM_NAME, "u", "s" },
    { PB_MSG_PROGRAM_RENAME, "s", "" },
    { PB_MSG_CHUNK_GET, "b", "x" },
    { PB_MSG_CHUNK_SET, "bx", "i" },
    { PB_MSG_SET_SAMPLE_RATE, "f", "" },
    { PB_MSG_SET_BLOCK_SIZE, "u", "" },
    { PB_MSG_SET_ACTIVE, "b", "" },
    { PB_MSG_SET_PROCESSING, "b", "" },
    { PB_MSG_SET_BYPASS, "b", "b" },
    { PB_MSG_TAIL_SIZE, "", "i" },
    { PB_MSG_CAN_DO, "s", "i" },
    { PB_MSG_PING, "", "" },
    { PB_MSG_SANDBOX, "", "s" },
    { PB_MSG_EV_AUTOMATE, "uf", NULL },
    { PB_MSG_EV_BEGIN_EDIT, "u", NULL },
    { PB_MSG_EV_END_EDIT, "u", NULL },
    { PB_MSG_EV_IO_CHANGED, "iii", NULL },
    { PB_MSG_EV_LATENCY, "i", NULL },
  };
  (void)state;
  assert_int_equal(sizeof(table) / sizeof(table[0]), N_ALL_KINDS);
  for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); ++k) {
    const char* reply = pb_msg_schema(table[k].kind | PB_MSG_REPLY);
    assert_string_equal(pb_msg_schema(table[k].kind), table[k].request);
    if (table[k].reply)
      assert_string_equal(reply, table[k].reply);
    else
      assert_null(reply);
  }
  assert_int_equal(count_args(INFO_REPLY_SCHEMA), PB_INFO_ARG_COUNT);
}

static void
schema_is_null_for_unknown_kinds(void** state)
{
  (void)state;
  for (uint32_t k = 0; k < 0x200; ++k) {
    const uint32_t base = k & ~(uint32_t)PB_MSG_REPLY;
    const int known =
      k < 0x100 && ((base >= 1 && base <= 22) || base == PB_MSG_SANDBOX ||
                    (base >= 64 && base <= 68));
    if (!known)
      assert_null(pb_msg_schema(k));
  }
  assert_null(pb_msg_schema(UINT32_MAX));
}

static void
kind_names_are_short_and_stable(void** state)
{
  (void)state;
  assert_string_equal(pb_msg_kind_name(PB_MSG_PARAM_SET), "param_set");
  assert_string_equal(pb_msg_kind_name(PB_MSG_INFO | PB_MSG_REPLY),
                      "info reply");
  assert_string_equal(pb_msg_kind_name(PB_MSG_HELLO), "hello");
  assert_string_equal(pb_msg_kind_name(PB_MSG_EV_LATENCY), "ev_latency");
  assert_string_equal(pb_msg_kind_name(0), "unknown");
  assert_string_equal(pb_msg_kind_name(30), "unknown");
  assert_string_equal(pb_msg_kind_name(PB_MSG_EV_LATENCY | PB_MSG_REPLY),
                      "unknown");
  for (size_t k = 0; k < N_ALL_KINDS; ++k)
    assert_string_not_equal(pb_msg_kind_name(all_kinds[k]), "unknown");
}

/* ------------------------------------------------------ round trips */

static void
round_trip_sample(uint32_t kind)
{
  const uint32_t id = has_id(kind & 0x7fu) ? 0x7fffff00u + kind : 0;
  const uint32_t row_counts[] = { 0, 1, 3 };
  pb_wr_t w;

  pb_wr_init(&w);
  for (size_t i = 0; i < 3; ++i) {
    pb_msg_t m;
    assert_int_equal(write_sample(&w, kind, id, row_counts[i]), 0);
    assert_int_equal(decode_wr(&w, &m), 0);
    check_sample_msg(&m, kind, id, row_counts[i]);
    pb_msg_fini(&m);
  }
  pb_wr_fini(&w);
}

static void
every_kind_round_trips_in_request_and_reply_form(void** state)
{
  (void)state;
  for_each_form(round_trip_sample);
}

static void
put_pin(pb_wr_t* w,
        const char* label,
        const char* short_label,
        uint32_t flags,
        int32_t arrangement)
{
  pb_wr_row(w, 4);
  pb_wr_s(w, label);
  pb_wr_s(w, short_label);
  pb_wr_u(w, flags);
  pb_wr_i(w, arrangement);
}

static void
put_param(pb_wr_t* w, const char* name, const char* label, double value)
{
  pb_wr_row(w, PB_PCOL_COUNT);
  pb_wr_s(w, name);
  pb_wr_s(w, label);
  pb_wr_s(w, "-6.0");
  pb_wr_f(w, value);
  pb_wr_b(w, 1);
  pb_wr_b(w, 0);
  pb_wr_u(w, 0x41);
  pb_wr_f(w, 0.01);
  pb_wr_f(w, 0.001);
  pb_wr_f(w, 0.1);
  pb_wr_i(w, -96);
  pb_wr_i(w, 24);
  pb_wr_i(w, 1);
  pb_wr_i(w, 6);
  pb_wr_i(w, 0);
  pb_wr_i(w, -1);
  pb_wr_i(w, 0);
  pb_wr_s(w, "dB");
  pb_wr_s(w, "Gn");
  pb_wr_s(w, "");
}

static int
write_info_reply(pb_wr_t* w, uint32_t id)
{
  pb_wr_begin(w, PB_MSG_INFO | PB_MSG_REPLY, id);
  pb_wr_s(w, "Gain \xe2\x80\x93 stereo"); /* an en dash */
  pb_wr_s(w, "plugbox tests");
  pb_wr_s(w, "Gain");
  pb_wr_i(w, 1000);
  pb_wr_i(w, 0x5062476e); /* 'PbGn' */
  pb_wr_i(w, 1);
  pb_wr_i(w, 2400);
  pb_wr_i(w, 1);
  pb_wr_u(w, 0x31);
  pb_wr_i(w, 2);
  pb_wr_i(w, 2);
  pb_wr_i(w, 64);
  pb_wr_i(w, 0);
  pb_wr_i(w, 0);
  pb_wr_i(w, -1);
  pb_wr_i(w, 0);
  pb_wr_u(w, 2);
  pb_wr_u(w, 3);
  for (int io = 0; io < 2; ++io) {
    pb_wr_array(w, 2);
    put_pin(w, "Left", "L", 3, 1);
    put_pin(w, "Right", "R", 3, 1);
  }
  pb_wr_array(w, 2);
  put_param(w, "Gain", "dB", 0.5);
  put_param(w, "Pan \xc2\xb0", "", -0.0);
  pb_wr_array(w, 3);
  for (int p = 0; p < 3; ++p) {
    pb_wr_row(w, 1);
    pb_wr_s(w, p == 0 ? "Init" : p == 1 ? "Loud" : "Quiet");
  }
  pb_wr_array(w, 2);
  pb_wr_row(w, 2);
  pb_wr_s(w, "receiveVstMidiEvent");
  pb_wr_i(w, -1);
  pb_wr_row(w, 2);
  pb_wr_s(w, "bypass");
  pb_wr_i(w, 1);
  return pb_wr_end(w);
}

static void
info_reply_round_trips_a_realistic_plugin(void** state)
{
  const pb_val_t* params = NULL;
  pb_wr_t w;
  pb_msg_t m;

  (void)state;
  pb_wr_init(&w);
  assert_int_equal(write_info_reply(&w, 42), 0);
  assert_int_equal(decode_wr(&w, &m), 0);
  assert_int_equal(m.kind, PB_MSG_INFO | PB_MSG_REPLY);
  assert_int_equal(m.id, 42);
  assert_int_equal(m.n_args, PB_INFO_ARG_COUNT);
  assert_string_equal(m.args[PB_INFO_NAME].v.s.ptr, "Gain \xe2\x80\x93 stereo");
  assert_int_equal(m.args[PB_INFO_UNIQUE_ID].v.i, 0x5062476e);
  assert_int_equal(m.args[PB_INFO_FLAGS].v.u, 0x31);
  assert_int_equal(m.args[PB_INFO_TAIL_SIZE].v.i, -1);
  assert_int_equal(m.args[PB_INFO_N_PROGRAMS].v.u, 3);
  assert_int_equal(m.args[PB_INFO_OUTPUTS].v.a.n_rows, 2);
  assert_string_equal(pb_val_cell(&m.args[PB_INFO_OUTPUTS], 1, 0)->v.s.ptr,
                      "Right");
  params = &m.args[PB_INFO_PARAMS];
  assert_int_equal(params->v.a.n_cols, PB_PCOL_COUNT);
  assert_string_equal(pb_val_cell(params, 1, PB_PCOL_NAME)->v.s.ptr,
                      "Pan \xc2\xb0");
  assert_true(pb_val_cell(params, 0, PB_PCOL_VALUE)->v.f == 0.5);
  assert_int_equal(pb_val_cell(params, 0, PB_PCOL_AUTOMATABLE)->v.b, 1);
  assert_int_equal(pb_val_cell(params, 0, PB_PCOL_MIN_INT)->v.i, -96);
  assert_int_equal(pb_val_cell(params, 1, PB_PCOL_PROP_FLAGS)->v.u, 0x41);
  assert_string_equal(pb_val_cell(params, 1, PB_PCOL_CATEGORY_LABEL)->v.s.ptr,
                      "");
  assert_string_equal(pb_val_cell(&m.args[PB_INFO_PROGRAMS], 2, 0)->v.s.ptr,
                      "Quiet");
  assert_int_equal(pb_val_cell(&m.args[PB_INFO_CAN_DO], 0, 1)->v.i, -1);
  pb_msg_fini(&m);
  pb_wr_fini(&w);
}

static void
hello_and_error_round_trip(void** state)
{
  pb_wr_t w;
  pb_msg_t m;

  (void)state;
  pb_wr_init(&w);
  pb_wr_begin(&w, PB_MSG_HELLO, 0);
  pb_wr_u(&w, PB_PROTO_VERSION);
  pb_wr_s(&w, "x86_64");
  pb_wr_u(&w, 31337);
  assert_int_equal(pb_wr_end(&w), 0);
  assert_int_equal(decode_wr(&w, &m), 0);
  assert_int_equal(m.kind, PB_MSG_HELLO);
  assert_int_equal(m.id, 0);
  assert_int_equal(m.args[0].v.u, PB_PROTO_VERSION);
  assert_string_equal(m.args[1].v.s.ptr, "x86_64");
  assert_int_equal(m.args[2].v.u, 31337);
  pb_msg_fini(&m);

  assert_int_equal(pb_wr_error(&w, 9, -ENOENT, "no such plugin"), 0);
  assert_int_equal(decode_wr(&w, &m), 0);
  assert_int_equal(m.kind, PB_MSG_ERROR);
  assert_int_equal(m.id, 9);
  assert_int_equal(m.args[0].v.i, -ENOENT);
  assert_string_equal(m.args[1].v.s.ptr, "no such plugin");
  pb_msg_fini(&m);
  pb_wr_fini(&w);
}

static void
binary_points_into_the_body_and_strings_are_copies(void** state)
{
  static const uint8_t chunk[] = { 0, 1, 2, 0xff, 0, 'V', 'C' };
  const uint8_t* body = NULL;
  pb_wr_t w;
  pb_msg_t m;

  (void)state;
  pb_wr_init(&w);
  pb_wr_begin(&w, PB_MSG_CHUNK_SET, 3);
  pb_wr_b(&w, 0);
  pb_wr_x(&w, chunk, sizeof(chunk));
  assert_int_equal(pb_wr_end(&w), 0);
  body = pb_wr_data(&w) + PB_FRAME_HEADER_BYTES;
  assert_int_equal(decode_wr(&w, &m), 0);
  assert_int_equal(m.args[1].v.x.len, sizeof(chunk));
  assert_memory_equal(m.args[1].v.x.ptr, chunk, sizeof(chunk));
  assert_true(m.args[1].v.x.ptr > body);
  assert_true(m.args[1].v.x.ptr + sizeof(chunk) <=
              body + pb_wr_size(&w) - PB_FRAME_HEADER_BYTES);
  pb_msg_fini(&m);

  pb_wr_begin(&w, PB_MSG_CAN_DO, 4);
  pb_wr_s(&w, "sendVstEvents");
  assert_int_equal(pb_wr_end(&w), 0);
  body = pb_wr_data(&w) + PB_FRAME_HEADER_BYTES;
  assert_int_equal(decode_wr(&w, &m), 0);
  assert_true(m.args[0].v.s.ptr < (const char*)body ||
              m.args[0].v.s.ptr >= (const char*)body + pb_wr_size(&w));
  pb_msg_fini(&m);
  pb_wr_fini(&w);
}

/* The report crosses as one string of lines, newlines and all. */
static void
sandbox_reply_round_trips_a_report(void** state)
{
  static const char report[] = "profile: strict\nfds: applied\n"
                               "userns: unavailable: Operation not "
                               "permitted (probed in a child)\n";
  pb_wr_t w;
  pb_msg_t m;

  (void)state;
  pb_wr_init(&w);
  pb_wr_begin(&w, PB_MSG_SANDBOX, 7);
  assert_int_equal(pb_wr_end(&w), 0);
  assert_int_equal(decode_wr(&w, &m), 0);
  assert_int_equal(m.kind, PB_MSG_SANDBOX);
  assert_int_equal(m.n_args, 0);
  pb_msg_fini(&m);

  pb_wr_begin(&w, PB_MSG_SANDBOX | PB_MSG_REPLY, 7);
  pb_wr_s(&w, report);
  assert_int_equal(pb_wr_end(&w), 0);
  assert_int_equal(decode_wr(&w, &m), 0);
  assert_int_equal(m.id, 7);
  assert_int_equal(m.n_args, 1);
  assert_string_equal(m.args[0].v.s.ptr, report);
  assert_string_equal(pb_msg_kind_name(PB_MSG_SANDBOX | PB_MSG_REPLY),
                      "sandbox reply");
  pb_msg_fini(&m);
  pb_wr_fini(&w);
}

static void
float32_and_float64_both_decode_as_f(void** state)
{
  static const uint8_t f32[] = { 0x93, 15, 1, 0xca, 0x47, 0x2c, 0x44, 0x00 };
  static const uint8_t f64[] = { 0x93, 15, 1, 0xcb, 0x40, 0xe7,
                                 0x70, 0,  0, 0,    0,    0 };
  pb_msg_t m;

  (void)state;
  assert_int_equal(pb_msg_decode(f32, sizeof(f32), &m), 0);
  assert_true(m.args[0].v.f == 44100.0);
  pb_msg_fini(&m);
  assert_int_equal(pb_msg_decode(f64, sizeof(f64), &m), 0);
  assert_true(m.args[0].v.f == 48000.0);
  pb_msg_fini(&m);
}

static void
reencoding_a_decoded_message_gives_the_same_bytes(void** state)
{
  pb_wr_t w1;
  pb_wr_t w2;
  pb_msg_t m;

  (void)state;
  pb_wr_init(&w1);
  pb_wr_init(&w2);
  assert_int_equal(write_info_reply(&w1, 77), 0);
  assert_int_equal(decode_wr(&w1, &m), 0);
  assert_int_equal(pb_wr_msg(&w2, &m), 0);
  assert_int_equal(pb_wr_size(&w2), pb_wr_size(&w1));
  assert_memory_equal(pb_wr_data(&w2), pb_wr_data(&w1), pb_wr_size(&w1));
  pb_msg_fini(&m);
  pb_wr_fini(&w2);
  pb_wr_fini(&w1);
}

/* ---------------------------------------------------- type checks */

static int n_wrong_checked;
static unsigned letters_checked; /* bit per letter - 'a' */

static void
reject_wrong_types_in(uint32_t kind)
{
  const uint32_t id = has_id(kind & 0x7fu) ? 1 : 0;
  const char* s = pb_msg_schema(kind);

  assert_int_equal(decode_broken(kind, id, &intact), 0);
  for (int arg = 0; *s; s = skip_arg(s), ++arg) {
    for (int w = 0; w < W_COUNT; ++w) {
      const breakage_t b = { BREAK_ARG, arg, -1, (enum wrong)w, 0 };
      const int rc = decode_broken(kind, id, &b);
      if (letter_accepts(*s, (enum wrong)w)) {
        assert_int_equal(rc, 0);
        continue;
      }
      assert_int_equal(rc, -EBADMSG);
      ++n_wrong_checked;
      letters_checked |= 1u << (*s - 'a');
    }
  }
}

static void
decode_rejects_a_wrong_type_for_every_letter_and_argument(void** state)
{
  (void)state;
  n_wrong_checked = 0;
  letters_checked = 0;
  for_each_form(reject_wrong_types_in);
  assert_true(n_wrong_checked > 300);
  for (const char* l = "uifbsxa"; *l; ++l)
    assert_true(letters_checked & (1u << (*l - 'a')));
}

static void
decode_rejects_a_wrong_type_in_any_array_cell(void** state)
{
  const uint32_t kind = PB_MSG_INFO | PB_MSG_REPLY;
  const char* s = pb_msg_schema(kind);
  int n_checked = 0;

  (void)state;
  for (int arg = 0; *s; s = skip_arg(s), ++arg) {
    if (*s != 'a')
      continue;
    for (int col = 0; col < (int)count_cols(s); ++col) {
      for (int w = 0; w < W_COUNT; ++w) {
        const breakage_t b = { BREAK_CELL, arg, col, (enum wrong)w, 0 };
        const int rc = decode_broken(kind, 5, &b);
        assert_int_equal(
          rc, letter_accepts(s[2 + col], (enum wrong)w) ? 0 : -EBADMSG);
        ++n_checked;
      }
    }
  }
  assert_int_equal(n_checked, (4 + 4 + 20 + 1 + 2) * W_COUNT);
}

static void
decode_rejects_rows_with_a_wrong_column_count(void** state)
{
  const uint32_t kind = PB_MSG_INFO | PB_MSG_REPLY;

  (void)state;
  for (int arg = PB_INFO_INPUTS; arg <= PB_INFO_CAN_DO; ++arg) {
    const breakage_t more = { BREAK_COLS, arg, -1, W_NIL, +1 };
    const breakage_t fewer = { BREAK_COLS, arg, -1, W_NIL, -1 };
    assert_int_equal(decode_broken(kind, 1, &more), -EBADMSG);
    assert_int_equal(decode_broken(kind, 1, &fewer), -EBADMSG);
  }
}

static void
reject_wrong_count_in(uint32_t kind)
{
  const uint32_t id = has_id(kind & 0x7fu) ? 1 : 0;
  const breakage_t more = { BREAK_N_ARGS, -1, -1, W_NIL, +1 };
  const breakage_t fewer = { BREAK_N_ARGS, -1, -1, W_NIL, -1 };

  assert_int_equal(decode_broken(kind, id, &more), -EBADMSG);
  if (count_args(pb_msg_schema(kind)) > 0)
    assert_int_equal(decode_broken(kind, id, &fewer), -EBADMSG);
}

static void
decode_rejects_a_wrong_argument_count_for_every_kind(void** state)
{
  static const uint8_t bare[][3] = {
    { 0x90 },          /* [] */
    { 0x91, 22 },      /* [ping] */
    { 0x92, 22, 0x00 } /* [ping, 0]: requests need an id */
  };
  (void)state;
  for_each_form(reject_wrong_count_in);
  for (size_t i = 0; i < 3; ++i)
    assert_int_equal(decode_copy(bare[i], i + 1), -EBADMSG);
}

static void
decode_rejects_unknown_kinds(void** state)
{
  raw_t r;

  (void)state;
  for (uint32_t k = 0; k < 0x100; ++k) {
    if (pb_msg_schema(k))
      continue;
    const uint8_t body[] = { 0x92, 0xcc, (uint8_t)k, 1 };
    assert_int_equal(decode_copy(body, sizeof(body)), -EBADMSG);
  }
  raw_init(&r); /* kind 0x116 (ping | 0x100) */
  assert_int_equal(msgpack_pack_array(&r.pk, 2), 0);
  assert_int_equal(msgpack_pack_uint32(&r.pk, 0x116), 0);
  assert_int_equal(msgpack_pack_uint32(&r.pk, 1), 0);
  assert_int_equal(raw_decode(&r), -EBADMSG);
  raw_fini(&r);
  raw_init(&r); /* a negative kind */
  assert_int_equal(msgpack_pack_array(&r.pk, 2), 0);
  assert_int_equal(msgpack_pack_int32(&r.pk, -22), 0);
  assert_int_equal(msgpack_pack_uint32(&r.pk, 1), 0);
  assert_int_equal(raw_decode(&r), -EBADMSG);
  raw_fini(&r);
  raw_init(&r); /* a kind that is a string */
  assert_int_equal(msgpack_pack_array(&r.pk, 2), 0);
  assert_int_equal(msgpack_pack_str_with_body(&r.pk, "ping", 4), 0);
  assert_int_equal(msgpack_pack_uint32(&r.pk, 1), 0);
  assert_int_equal(raw_decode(&r), -EBADMSG);
  raw_fini(&r);
}

static void
decode_rejects_the_reply_flag_on_events_hello_and_error(void** state)
{
  static const uint32_t no_reply[] = {
    PB_MSG_HELLO,         PB_MSG_ERROR,       PB_MSG_EV_AUTOMATE,
    PB_MSG_EV_BEGIN_EDIT, PB_MSG_EV_END_EDIT, PB_MSG_EV_IO_CHANGED,
    PB_MSG_EV_LATENCY,
  };
  (void)state;
  for (size_t k = 0; k < sizeof(no_reply) / sizeof(no_reply[0]); ++k) {
    const uint32_t kind = no_reply[k] | PB_MSG_REPLY;
    /* Arguments of the request form, under both ids. */
    const char* s = pb_msg_schema(no_reply[k]);
    for (uint32_t id = 0; id < 2; ++id) {
      raw_t r;
      raw_init(&r);
      assert_int_equal(msgpack_pack_array(&r.pk, 2 + count_args(s)), 0);
      assert_int_equal(msgpack_pack_uint32(&r.pk, kind), 0);
      assert_int_equal(msgpack_pack_uint32(&r.pk, id), 0);
      for (; *s; ++s)
        pack_wrong(&r.pk, good_for(*s));
      s = pb_msg_schema(no_reply[k]);
      assert_int_equal(raw_decode(&r), -EBADMSG);
      raw_fini(&r);
    }
  }
}

static void
reject_bad_ids_in(uint32_t kind)
{
  const int with_id = has_id(kind & 0x7fu);
  raw_t r;

  assert_int_equal(decode_broken(kind, with_id ? 0 : 1, &intact), -EBADMSG);
  if (!with_id)
    assert_int_equal(decode_broken(kind, UINT32_MAX, &intact), -EBADMSG);
  else
    assert_int_equal(decode_broken(kind, UINT32_MAX, &intact), 0);
  raw_init(&r); /* an id over 32 bits */
  assert_int_equal(msgpack_pack_array(&r.pk, 2), 0);
  assert_int_equal(msgpack_pack_uint32(&r.pk, kind), 0);
  assert_int_equal(msgpack_pack_uint64(&r.pk, 1ull << 32), 0);
  assert_int_equal(raw_decode(&r), -EBADMSG);
  raw_fini(&r);
  raw_init(&r); /* a negative id */
  assert_int_equal(msgpack_pack_array(&r.pk, 2), 0);
  assert_int_equal(msgpack_pack_uint32(&r.pk, kind), 0);
  assert_int_equal(msgpack_pack_int32(&r.pk, -1), 0);
  assert_int_equal(raw_decode(&r), -EBADMSG);
  raw_fini(&r);
}

static void
decode_rejects_ids_against_the_id_rule(void** state)
{
  (void)state;
  for_each_form(reject_bad_ids_in);
}

static void
decode_checks_int32_and_uint32_ranges(void** state)
{
  /* [program_get reply, 1, i] and [param_get, 1, u] */
  static const struct
  {
    uint8_t bytes[16];
    size_t len;
    int rc;
  } cases[] = {
    { { 0x93, 0xcc, 0x89, 1, 0xce, 0x7f, 0xff, 0xff, 0xff }, 9, 0 },
    { { 0x93, 0xcc, 0x89, 1, 0xce, 0x80, 0, 0, 0 }, 9, -EBADMSG },
    { { 0x93, 0xcc, 0x89, 1, 0xd2, 0x80, 0, 0, 0 }, 9, 0 },
    { { 0x93,
        0xcc,
        0x89,
        1,
        0xd3,
        0xff,
        0xff,
        0xff,
        0xff,
        0x7f,
        0xff,
        0xff,
        0xff },
      13,
      -EBADMSG },
    { { 0x93, 0xcc, 0x89, 1, 0xd3, 0, 0, 0, 0, 0, 0, 0, 9 }, 13, 0 },
    { { 0x93, 6, 1, 0xce, 0xff, 0xff, 0xff, 0xff }, 8, 0 },
    { { 0x93, 6, 1, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0 }, 12, -EBADMSG },
    { { 0x93, 6, 1, 0xff }, 4, -EBADMSG },
    { { 0x93, 6, 1, 0xd0, 0x80 }, 5, -EBADMSG },
    { { 0x93, 6, 1, 0xd3, 0, 0, 0, 0, 0, 0, 0, 5 }, 12, 0 },
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i)
    assert_int_equal(decode_copy(cases[i].bytes, cases[i].len), cases[i].rc);
}

static void
decode_keeps_int32_and_uint32_extremes(void** state)
{
  static const uint8_t i_min[] = { 0x93, 0xcc, 0x89, 1, 0xd2, 0x80, 0, 0, 0 };
  static const uint8_t u_max[] = { 0x93, 6, 1, 0xce, 0xff, 0xff, 0xff, 0xff };
  pb_msg_t m;

  (void)state;
  assert_int_equal(pb_msg_decode(i_min, sizeof(i_min), &m), 0);
  assert_int_equal(m.args[0].v.i, INT32_MIN);
  pb_msg_fini(&m);
  assert_int_equal(pb_msg_decode(u_max, sizeof(u_max), &m), 0);
  assert_int_equal(m.args[0].v.u, UINT32_MAX);
  pb_msg_fini(&m);
}

static void
decode_rejects_an_embedded_nul_in_a_string(void** state)
{
  static const uint8_t arg[] = { 0x93, 21, 1, 0xa3, 'a', 0, 'b' };
  static const uint8_t ok[] = { 0x93, 21, 1, 0xa3, 'a', 'c', 'b' };
  const char* s = pb_msg_schema(PB_MSG_INFO | PB_MSG_REPLY);
  raw_t r;

  (void)state;
  assert_int_equal(decode_copy(arg, sizeof(arg)), -EBADMSG);
  assert_int_equal(decode_copy(ok, sizeof(ok)), 0);
  raw_init(&r); /* an info reply with a NUL in a program name */
  assert_int_equal(msgpack_pack_array(&r.pk, 2 + count_args(s)), 0);
  assert_int_equal(msgpack_pack_uint32(&r.pk, PB_MSG_INFO | PB_MSG_REPLY), 0);
  assert_int_equal(msgpack_pack_uint32(&r.pk, 1), 0);
  for (int i = 0; *s; s = skip_arg(s), ++i) {
    if (i == PB_INFO_PROGRAMS) {
      assert_int_equal(msgpack_pack_array(&r.pk, 1), 0);
      assert_int_equal(msgpack_pack_array(&r.pk, 1), 0);
      assert_int_equal(msgpack_pack_str_with_body(&r.pk, "x\0y", 3), 0);
    } else if (*s == 'a') {
      assert_int_equal(msgpack_pack_array(&r.pk, 0), 0);
    } else {
      pack_wrong(&r.pk, good_for(*s));
    }
  }
  assert_int_equal(raw_decode(&r), -EBADMSG);
  raw_fini(&r);
}

/* --------------------------------------------- structural limits */

static void
decode_rejects_every_truncation_of_a_valid_body(void** state)
{
  pb_wr_t w;

  (void)state;
  pb_wr_init(&w);
  assert_int_equal(write_info_reply(&w, 1), 0);
  for (int pass = 0; pass < 2; ++pass) {
    const uint8_t* body = pb_wr_data(&w) + PB_FRAME_HEADER_BYTES;
    const size_t len = pb_wr_size(&w) - PB_FRAME_HEADER_BYTES;
    assert_int_equal(decode_copy(body, len), 0);
    for (size_t n = 0; n < len; ++n)
      assert_int_equal(decode_copy(body, n), -EBADMSG);
    assert_int_equal(write_sample(&w, PB_MSG_CHUNK_SET, 8, 0), 0);
  }
  pb_wr_fini(&w);
}

static void
decode_rejects_trailing_bytes(void** state)
{
  pb_wr_t w;
  uint8_t* buf = NULL;
  size_t len = 0;

  (void)state;
  pb_wr_init(&w);
  assert_int_equal(write_sample(&w, PB_MSG_PARAM_SET, 2, 0), 0);
  len = pb_wr_size(&w) - PB_FRAME_HEADER_BYTES;
  buf = (uint8_t*)malloc(len + 2);
  assert_non_null(buf);
  memcpy(buf, pb_wr_data(&w) + PB_FRAME_HEADER_BYTES, len);
  buf[len] = 0xc0;
  buf[len + 1] = 0x90;
  assert_int_equal(decode_copy(buf, len), 0);
  assert_int_equal(decode_copy(buf, len + 1), -EBADMSG);
  assert_int_equal(decode_copy(buf, len + 2), -EBADMSG);
  free(buf);
  pb_wr_fini(&w);
}

static void
decode_rejects_an_empty_body_and_a_non_array_frame(void** state)
{
  static const uint8_t scalar[] = { 22 };
  static const uint8_t str[] = { 0xa2, 'h', 'i' };
  pb_msg_t m;

  (void)state;
  assert_int_equal(pb_msg_decode(NULL, 0, &m), -EBADMSG);
  pb_msg_fini(&m);
  assert_int_equal(decode_copy(scalar, sizeof(scalar)), -EBADMSG);
  assert_int_equal(decode_copy(str, sizeof(str)), -EBADMSG);
}

/* [can_do, 1, s] with a string of `len` bytes in a str32. */
static uint8_t*
can_do_with_string(uint32_t len, size_t* out_len)
{
  uint8_t* b = (uint8_t*)malloc(8 + (size_t)len);

  assert_non_null(b);
  b[0] = 0x93;
  b[1] = 21;
  b[2] = 1;
  b[3] = 0xdb;
  for (int i = 0; i < 4; ++i)
    b[4 + i] = (uint8_t)(len >> (24 - 8 * i));
  memset(b + 8, 'a', len);
  *out_len = 8 + (size_t)len;
  return b;
}

static void
decode_limits_strings_to_max_str(void** state)
{
  size_t len = 0;
  uint8_t* b = NULL;
  pb_msg_t m;

  (void)state;
  b = can_do_with_string(PB_PROTO_MAX_STR, &len);
  assert_int_equal(pb_msg_decode(b, len, &m), 0);
  assert_int_equal(m.args[0].v.s.len, PB_PROTO_MAX_STR);
  assert_int_equal(strlen(m.args[0].v.s.ptr), PB_PROTO_MAX_STR);
  pb_msg_fini(&m);
  free(b);
  b = can_do_with_string(PB_PROTO_MAX_STR + 1, &len);
  assert_int_equal(decode_copy(b, len), -EMSGSIZE);
  free(b);
}

static void
decode_refuses_oversized_lengths_from_the_header_alone(void** state)
{
  static const struct
  {
    uint8_t bytes[12];
    size_t len;
    int rc;
  } cases[] = {
    /* can_do with a str16 of 65537 bytes announced, none present */
    { { 0x93, 21, 1, 0xdb, 0, 1, 0, 1 }, 8, -EMSGSIZE },
    /* chunk_set with a bin32 of PB_PROTO_MAX_BIN + 1 bytes */
    { { 0x94, 14, 1, 0xc2, 0xc6, 0x04, 0, 0, 1 }, 9, -EMSGSIZE },
    /* same with a bin32 of 4 GiB - 1 */
    { { 0x94, 14, 1, 0xc2, 0xc6, 0xff, 0xff, 0xff, 0xff }, 9, -EMSGSIZE },
    /* a str32 of 4 GiB - 1 */
    { { 0x93, 21, 1, 0xdb, 0xff, 0xff, 0xff, 0xff }, 8, -EMSGSIZE },
    /* a bin of exactly the limit, announced but absent: truncated */
    { { 0x94, 14, 1, 0xc2, 0xc6, 0x04, 0, 0, 0 }, 9, -EBADMSG },
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i)
    assert_int_equal(decode_copy(cases[i].bytes, cases[i].len), cases[i].rc);
}

static void
decode_accepts_a_binary_of_max_bin_bytes(void** state)
{
  const size_t len = 9 + (size_t)PB_PROTO_MAX_BIN;
  uint8_t* b = (uint8_t*)calloc(1, len);
  pb_msg_t m;

  (void)state;
  assert_non_null(b);
  memcpy(b, (const uint8_t[]){ 0x94, 14, 1, 0xc3, 0xc6, 0x04, 0, 0, 0 }, 9);
  b[len - 1] = 0x5a;
  assert_int_equal(pb_msg_decode(b, len, &m), 0);
  assert_int_equal(m.args[1].v.x.len, PB_PROTO_MAX_BIN);
  assert_ptr_equal(m.args[1].v.x.ptr, b + 9);
  assert_int_equal(m.args[1].v.x.ptr[PB_PROTO_MAX_BIN - 1], 0x5a);
  pb_msg_fini(&m);
  free(b);
}

/* [info reply] with empty arrays except `programs`, which has `n_rows`
 * rows of one empty string each, and its array header in an array32. */
static uint8_t*
info_with_programs(uint32_t n_rows, size_t* out_len)
{
  raw_t r;
  const char* s = pb_msg_schema(PB_MSG_INFO | PB_MSG_REPLY);
  uint8_t* b = NULL;

  raw_init(&r);
  assert_int_equal(msgpack_pack_array(&r.pk, 2 + count_args(s)), 0);
  assert_int_equal(msgpack_pack_uint32(&r.pk, PB_MSG_INFO | PB_MSG_REPLY), 0);
  assert_int_equal(msgpack_pack_uint32(&r.pk, 1), 0);
  for (int arg = 0; *s; s = skip_arg(s), ++arg) {
    if (arg == PB_INFO_PROGRAMS) {
      const uint8_t hdr[] = { 0xdd,
                              (uint8_t)(n_rows >> 24),
                              (uint8_t)(n_rows >> 16),
                              (uint8_t)(n_rows >> 8),
                              (uint8_t)n_rows };
      assert_int_equal(msgpack_sbuffer_write(&r.sb, (const char*)hdr, 5), 0);
      for (uint32_t i = 0; i < n_rows; ++i)
        assert_int_equal(msgpack_sbuffer_write(&r.sb, "\x91\xa0", 2), 0);
    } else if (*s == 'a') {
      assert_int_equal(msgpack_pack_array(&r.pk, 0), 0);
    } else {
      pack_wrong(&r.pk, good_for(*s));
    }
  }
  b = (uint8_t*)r.sb.data; /* handed over */
  *out_len = r.sb.size;
  return b;
}

static void
decode_limits_arrays_to_max_rows(void** state)
{
  size_t len = 0;
  uint8_t* b = NULL;
  pb_msg_t m;

  (void)state;
  b = info_with_programs(PB_PROTO_MAX_ROWS, &len);
  assert_int_equal(pb_msg_decode(b, len, &m), 0);
  assert_int_equal(m.args[PB_INFO_PROGRAMS].v.a.n_rows, PB_PROTO_MAX_ROWS);
  assert_string_equal(
    pb_val_cell(&m.args[PB_INFO_PROGRAMS], PB_PROTO_MAX_ROWS - 1, 0)->v.s.ptr,
    "");
  pb_msg_fini(&m);
  free(b);
  b = info_with_programs(PB_PROTO_MAX_ROWS + 1, &len);
  assert_int_equal(decode_copy(b, len), -EMSGSIZE);
  free(b);
}

static void
decode_fails_fast_on_huge_counts_in_tiny_bodies(void** state)
{
  /* If msgpack-c saw any of these it would try to allocate up to ~100 GB
   * before noticing the body is five bytes long. */
  static const struct
  {
    uint8_t bytes[16];
    size_t len;
    int rc;
  } cases[] = {
    { { 0xdd, 0xff, 0xff, 0xff, 0xff }, 5, -EBADMSG },
    /* refused at the array header, before the oversized string in it */
    { { 0x93, 21, 1, 0xdd, 0, 0, 0xff, 0xff, 0xdb, 0xff, 0xff, 0xff, 0xff },
      13,
      -EBADMSG },
    { { 0xdd, 0x00, 0x00, 0x00, 0x22 }, 5, -EBADMSG }, /* 34: no bytes */
    { { 0xdc, 0xff, 0xff }, 3, -EBADMSG },
    { { 0x93, 21, 1, 0xdd, 0xff, 0xff, 0xff, 0xff }, 8, -EMSGSIZE },
    { { 0x93, 21, 1, 0xdd, 0, 0, 0xff, 0xff }, 8, -EBADMSG },
    { { 0x93, 21, 1, 0x91, 0xdd, 0xff, 0xff, 0xff, 0xff }, 9, -EBADMSG },
    { { 0x93, 21, 1, 0x91, 0xdc, 0, 3, 1, 2 }, 9, -EBADMSG },
    { { 0x9f, 1, 2, 3 }, 4, -EBADMSG },
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i)
    assert_int_equal(decode_copy(cases[i].bytes, cases[i].len), cases[i].rc);
}

static void
decode_rejects_nesting_deeper_than_four(void** state)
{
  static const uint8_t depth4[] = { 0x93, 21, 1, 0x91, 0x91, 0x91, 0x01 };
  static const uint8_t depth6[] = { 0x93, 21, 1, 0x91, 0x91, 0x91, 0x91, 0x90 };
  static const uint8_t empty4[] = { 0x93, 21, 1, 0x91, 0x91, 0x90 };
  /* refused at the fifth level, before the oversized string there */
  static const uint8_t deep_str[] = { 0x93, 21,   1,    0x91, 0x91, 0x91,
                                      0x91, 0xdb, 0xff, 0xff, 0xff, 0xff };

  (void)state;
  /* depth 4 is legal structure; the schema of can_do still refuses it */
  assert_int_equal(decode_copy(depth4, sizeof(depth4)), -EBADMSG);
  assert_int_equal(decode_copy(depth6, sizeof(depth6)), -EBADMSG);
  assert_int_equal(decode_copy(empty4, sizeof(empty4)), -EBADMSG);
  assert_int_equal(decode_copy(deep_str, sizeof(deep_str)), -EBADMSG);
  for (size_t n = 1; n <= 64; ++n) {
    uint8_t deep[64];
    memset(deep, 0x91, n);
    deep[n - 1] = 0x90;
    assert_int_equal(decode_copy(deep, n), -EBADMSG);
  }
}

static void
decode_rejects_maps_and_ext_types(void** state)
{
  static const struct
  {
    uint8_t bytes[12];
    size_t len;
  } cases[] = {
    { { 0x80 }, 1 },                          /* fixmap at top */
    { { 0x81, 22, 1 }, 3 },                   /* fixmap {ping: 1} */
    { { 0x93, 21, 1, 0x80 }, 4 },             /* fixmap argument */
    { { 0x93, 21, 1, 0xde, 0, 0 }, 6 },       /* map16 */
    { { 0x93, 21, 1, 0xdf, 0, 0, 0, 0 }, 8 }, /* map32 */
    { { 0x93, 21, 1, 0xd4, 1, 0 }, 6 },       /* fixext 1 */
    { { 0x93, 21, 1, 0xd5, 1, 0, 0 }, 7 },    /* fixext 2 */
    { { 0x93, 21, 1, 0xd6, 1, 0, 0, 0, 0 }, 9 },
    { { 0x93, 21, 1, 0xd7, 1, 0, 0, 0, 0, 0, 0, 0 }, 12 },
    { { 0x93, 21, 1, 0xc7, 1, 1, 0 }, 7 },           /* ext8 */
    { { 0x93, 21, 1, 0xc8, 0, 1, 1, 0 }, 8 },        /* ext16 */
    { { 0x93, 21, 1, 0xc9, 0, 0, 0, 1, 1, 0 }, 10 }, /* ext32 */
    { { 0x93, 21, 1, 0xc1 }, 4 },                    /* never used */
    /* refused at the map header, before the oversized string in it */
    { { 0x93, 21, 1, 0x81, 0xa0, 0xdb, 0xff, 0xff, 0xff, 0xff }, 10 },
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i)
    assert_int_equal(decode_copy(cases[i].bytes, cases[i].len), -EBADMSG);
}

static void
msg_fini_is_safe_on_zeroed_failed_and_finished_messages(void** state)
{
  static const uint8_t bad[] = { 0x93, 21, 1, 0xa3, 'a', 0, 'b' };
  static const uint8_t good[] = { 0x93, 21, 1, 0xa3, 'a', 'c', 'b' };
  pb_msg_t m;

  (void)state;
  memset(&m, 0, sizeof(m));
  pb_msg_fini(&m);
  assert_int_equal(pb_msg_decode(bad, sizeof(bad), &m), -EBADMSG);
  pb_msg_fini(&m);
  pb_msg_fini(&m);
  assert_int_equal(pb_msg_decode(bad, 2, &m), -EBADMSG); /* pre-scan */
  pb_msg_fini(&m);
  assert_int_equal(pb_msg_decode(good, sizeof(good), &m), 0);
  pb_msg_fini(&m);
  pb_msg_fini(&m);
  assert_int_equal(m.n_args, 0);
}

/* ------------------------------------------------------------ writer */

static void
writer_prefixes_the_little_endian_body_length(void** state)
{
  pb_wr_t w;
  size_t body = 0;
  const uint8_t* d = NULL;

  (void)state;
  pb_wr_init(&w);
  pb_wr_begin(&w, PB_MSG_CHUNK_GET | PB_MSG_REPLY, 6);
  {
    uint8_t* big = (uint8_t*)calloc(1, 70000);
    assert_non_null(big);
    pb_wr_x(&w, big, 70000);
    free(big);
  }
  assert_int_equal(pb_wr_end(&w), 0);
  d = pb_wr_data(&w);
  body = pb_wr_size(&w) - PB_FRAME_HEADER_BYTES;
  assert_int_equal((uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
                     (uint32_t)d[3] << 24,
                   body);
  assert_true(body > 70000);
  pb_wr_fini(&w);
}

static void
writer_reused_gives_identical_frames(void** state)
{
  pb_wr_t w;
  uint8_t first[256];
  size_t first_len = 0;

  (void)state;
  pb_wr_init(&w);
  assert_int_equal(write_sample(&w, PB_MSG_PARAM_GET | PB_MSG_REPLY, 3, 0), 0);
  first_len = pb_wr_size(&w);
  assert_true(first_len <= sizeof(first));
  memcpy(first, pb_wr_data(&w), first_len);
  assert_int_equal(write_info_reply(&w, 1), 0);
  assert_int_equal(write_sample(&w, PB_MSG_PARAM_GET | PB_MSG_REPLY, 3, 0), 0);
  assert_int_equal(pb_wr_size(&w), first_len);
  assert_memory_equal(pb_wr_data(&w), first, first_len);
  pb_wr_fini(&w);
  pb_wr_fini(&w);
}

static void
writer_cuts_strings_at_max_str_on_a_utf8_boundary(void** state)
{
  const size_t len = PB_PROTO_MAX_STR + 10;
  char* s = (char*)malloc(len + 1);
  pb_wr_t w;
  pb_msg_t m;

  (void)state;
  assert_non_null(s);
  pb_wr_init(&w);
  /* ASCII: cut exactly at the limit */
  memset(s, 'a', len);
  s[len] = '\0';
  pb_wr_begin(&w, PB_MSG_PROGRAM_RENAME, 1);
  pb_wr_s(&w, s);
  assert_int_equal(pb_wr_end(&w), 0);
  assert_int_equal(decode_wr(&w, &m), 0);
  assert_int_equal(m.args[0].v.s.len, PB_PROTO_MAX_STR);
  pb_msg_fini(&m);
  /* a 3-byte "€" straddling the limit is dropped whole */
  memcpy(s + PB_PROTO_MAX_STR - 1, "\xe2\x82\xac", 3);
  pb_wr_begin(&w, PB_MSG_PROGRAM_RENAME, 1);
  pb_wr_s(&w, s);
  assert_int_equal(pb_wr_end(&w), 0);
  assert_int_equal(decode_wr(&w, &m), 0);
  assert_int_equal(m.args[0].v.s.len, PB_PROTO_MAX_STR - 1);
  assert_int_equal(m.args[0].v.s.ptr[PB_PROTO_MAX_STR - 2], 'a');
  pb_msg_fini(&m);
  /* NULL is the empty string */
  pb_wr_begin(&w, PB_MSG_PROGRAM_RENAME, 1);
  pb_wr_s(&w, NULL);
  assert_int_equal(pb_wr_end(&w), 0);
  assert_int_equal(decode_wr(&w, &m), 0);
  assert_string_equal(m.args[0].v.s.ptr, "");
  pb_msg_fini(&m);
  pb_wr_fini(&w);
  free(s);
}

static void
writer_refuses_values_out_of_schema_order(void** state)
{
  pb_wr_t w;

  (void)state;
  pb_wr_init(&w);
  pb_wr_begin(&w, PB_MSG_PARAM_SET, 1); /* "uf" */
  pb_wr_f(&w, 0.5);
  pb_wr_u(&w, 1);
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  assert_int_equal(pb_wr_size(&w), 0);
  pb_wr_begin(&w, PB_MSG_PARAM_SET, 1); /* too few */
  pb_wr_u(&w, 1);
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  pb_wr_begin(&w, PB_MSG_PARAM_SET, 1); /* too many */
  pb_wr_u(&w, 1);
  pb_wr_f(&w, 0.5);
  pb_wr_f(&w, 0.5);
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  pb_wr_begin(&w, PB_MSG_PING, 1); /* an array where none is */
  pb_wr_array(&w, 0);
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  pb_wr_u(&w, 1); /* without begin */
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  pb_wr_fini(&w);
}

static void
writer_refuses_unknown_kinds_and_wrong_ids(void** state)
{
  pb_wr_t w;

  (void)state;
  pb_wr_init(&w);
  pb_wr_begin(&w, 30, 1);
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  pb_wr_begin(&w, PB_MSG_EV_LATENCY | PB_MSG_REPLY, 0);
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  pb_wr_begin(&w, PB_MSG_PING, 0);
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  pb_wr_begin(&w, PB_MSG_EV_LATENCY, 5);
  pb_wr_i(&w, 64);
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  assert_int_equal(pb_wr_error(&w, 0, -1, "no id"), -EINVAL);
  assert_int_equal(pb_wr_size(&w), 0);
  pb_wr_fini(&w);
}

static void
writer_refuses_oversized_binaries_and_row_counts(void** state)
{
  static const uint8_t byte = 0;
  pb_wr_t w;

  (void)state;
  pb_wr_init(&w);
  pb_wr_begin(&w, PB_MSG_CHUNK_GET | PB_MSG_REPLY, 1);
  /* only the length is looked at: nothing is read past `byte` */
  pb_wr_x(&w, &byte, (size_t)PB_PROTO_MAX_BIN + 1);
  assert_int_equal(pb_wr_end(&w), -EMSGSIZE);
  pb_wr_begin(&w, PB_MSG_INFO | PB_MSG_REPLY, 1);
  for (int i = 0; i < PB_INFO_INPUTS; ++i)
    put_sample(&w, INFO_REPLY_SCHEMA[i], 0);
  pb_wr_array(&w, PB_PROTO_MAX_ROWS + 1);
  assert_int_equal(pb_wr_end(&w), -EMSGSIZE);
  pb_wr_begin(&w, PB_MSG_CHUNK_GET | PB_MSG_REPLY, 1);
  pb_wr_x(&w, NULL, 1);
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  pb_wr_fini(&w);
}

static void
writer_checks_rows_against_the_schema(void** state)
{
  pb_wr_t w;

  (void)state;
  pb_wr_init(&w);
  for (int c = 0; c < 5; ++c) {
    pb_wr_begin(&w, PB_MSG_INFO | PB_MSG_REPLY, 1);
    for (int i = 0; i < PB_INFO_INPUTS; ++i)
      put_sample(&w, INFO_REPLY_SCHEMA[i], 0);
    pb_wr_array(&w, 2);
    pb_wr_row(&w, 4);
    pb_wr_s(&w, "L");
    pb_wr_s(&w, "L");
    pb_wr_u(&w, 1);
    pb_wr_i(&w, 1);
    if (c == 0) {
      pb_wr_row(&w, 3); /* wrong column count */
    } else if (c == 1) {
      pb_wr_u(&w, 1); /* a cell without a row */
    } else if (c == 2) {
      for (int a = PB_INFO_OUTPUTS; a < PB_INFO_ARG_COUNT; ++a)
        pb_wr_array(&w, 0); /* the next arrays while a row is missing */
    } else if (c == 3) {
      pb_wr_row(&w, 4); /* a row cut short */
      pb_wr_s(&w, "R");
      pb_wr_row(&w, 4);
    } else {
      pb_wr_row(&w, 4); /* one row too many */
      pb_wr_s(&w, "R");
      pb_wr_s(&w, "R");
      pb_wr_u(&w, 1);
      pb_wr_i(&w, 1);
      pb_wr_row(&w, 4);
    }
    assert_int_equal(pb_wr_end(&w), -EINVAL);
  }
  pb_wr_fini(&w);
}

static void
writer_keeps_the_first_error(void** state)
{
  static const uint8_t byte = 0;
  pb_wr_t w;

  (void)state;
  pb_wr_init(&w);
  pb_wr_begin(&w, PB_MSG_CHUNK_SET, 1); /* "bx" */
  pb_wr_b(&w, 1);
  pb_wr_x(&w, &byte, (size_t)PB_PROTO_MAX_BIN + 1);
  pb_wr_u(&w, 3);
  assert_int_equal(w.err, -EMSGSIZE);
  assert_int_equal(pb_wr_end(&w), -EMSGSIZE);
  pb_wr_begin(&w, PB_MSG_CHUNK_SET, 1);
  assert_int_equal(w.err, 0);
  pb_wr_u(&w, 3);
  pb_wr_x(&w, &byte, (size_t)PB_PROTO_MAX_BIN + 1);
  assert_int_equal(pb_wr_end(&w), -EINVAL);
  pb_wr_fini(&w);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(schema_table_is_the_documented_contract),
    cmocka_unit_test(schema_is_null_for_unknown_kinds),
    cmocka_unit_test(kind_names_are_short_and_stable),
    cmocka_unit_test(sandbox_reply_round_trips_a_report),
    cmocka_unit_test(every_kind_round_trips_in_request_and_reply_form),
    cmocka_unit_test(info_reply_round_trips_a_realistic_plugin),
    cmocka_unit_test(hello_and_error_round_trip),
    cmocka_unit_test(binary_points_into_the_body_and_strings_are_copies),
    cmocka_unit_test(float32_and_float64_both_decode_as_f),
    cmocka_unit_test(reencoding_a_decoded_message_gives_the_same_bytes),
    cmocka_unit_test(decode_rejects_a_wrong_type_for_every_letter_and_argument),
    cmocka_unit_test(decode_rejects_a_wrong_type_in_any_array_cell),
    cmocka_unit_test(decode_rejects_rows_with_a_wrong_column_count),
    cmocka_unit_test(decode_rejects_a_wrong_argument_count_for_every_kind),
    cmocka_unit_test(decode_rejects_unknown_kinds),
    cmocka_unit_test(decode_rejects_the_reply_flag_on_events_hello_and_error),
    cmocka_unit_test(decode_rejects_ids_against_the_id_rule),
    cmocka_unit_test(decode_checks_int32_and_uint32_ranges),
    cmocka_unit_test(decode_keeps_int32_and_uint32_extremes),
    cmocka_unit_test(decode_rejects_an_embedded_nul_in_a_string),
    cmocka_unit_test(decode_rejects_every_truncation_of_a_valid_body),
    cmocka_unit_test(decode_rejects_trailing_bytes),
    cmocka_unit_test(decode_rejects_an_empty_body_and_a_non_array_frame),
    cmocka_unit_test(decode_limits_strings_to_max_str),
    cmocka_unit_test(decode_refuses_oversized_lengths_from_the_header_alone),
    cmocka_unit_test(decode_accepts_a_binary_of_max_bin_bytes),
    cmocka_unit_test(decode_limits_arrays_to_max_rows),
    cmocka_unit_test(decode_fails_fast_on_huge_counts_in_tiny_bodies),
    cmocka_unit_test(decode_rejects_nesting_deeper_than_four),
    cmocka_unit_test(decode_rejects_maps_and_ext_types),
    cmocka_unit_test(msg_fini_is_safe_on_zeroed_failed_and_finished_messages),
    cmocka_unit_test(writer_prefixes_the_little_endian_body_length),
    cmocka_unit_test(writer_reused_gives_identical_frames),
    cmocka_unit_test(writer_cuts_strings_at_max_str_on_a_utf8_boundary),
    cmocka_unit_test(writer_refuses_values_out_of_schema_order),
    cmocka_unit_test(writer_refuses_unknown_kinds_and_wrong_ids),
    cmocka_unit_test(writer_refuses_oversized_binaries_and_row_counts),
    cmocka_unit_test(writer_checks_rows_against_the_schema),
    cmocka_unit_test(writer_keeps_the_first_error),
  };
  return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
