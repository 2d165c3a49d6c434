/* The control protocol: schema table, decoder and frame writer.
 *
 * Decoding runs in three passes over an untrusted body.  A structural
 * pre-scan walks the raw msgpack bytes without allocating and refuses
 * anything our protocol never sends (maps, ext types, deep nesting) and any
 * count or size that the body cannot hold or that exceeds a protocol
 * limit.  This matters because msgpack-c allocates `count` objects as soon
 * as it reads an array header: five bytes claiming four billion elements
 * would otherwise ask for about 100 GB.  After the scan every element of
 * every array needs at least one body byte, so msgpack-c and the cells
 * below allocate at most a few dozen bytes per body byte.  msgpack-c then
 * builds its object tree in a temporary zone, and the last pass checks it
 * against the schema of the kind and copies the values into the message.
 *
 * Ids: requests, replies and errors carry an id > 0; the hello and events
 * carry id 0.  The decoder refuses the other combinations and the writer
 * refuses to produce them. */
#include "proto/message.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Values nest at most this deep: frame array, argument array, row, cell. */
#define MAX_DEPTH 4u

/* The largest body pb_wr_end() produces, so that any receiver that sizes
 * its frame reassembly with PB_PROTO_MAX_FRAME accepts what we send. */
#define MAX_BODY_BYTES PB_PROTO_MAX_FRAME

#define INFO_REPLY                                                             \
  "sssiiiiiuiiiiiiiuu"                                                         \
  "a(ssui)a(ssui)a(sssfbbufffiiiiiiisss)a(s)a(si)"

struct kind_desc
{
  const char* name;       /* of the request, hello, error or event */
  const char* reply_name; /* NULL: no reply form */
  const char* request;    /* schema of the request form */
  const char* reply;      /* schema of the reply form; NULL: none */
};

/* A request kind with its reply, and a kind that has no reply form. */
#define REQUEST(name, request, reply)                                          \
  {                                                                            \
    name, name " reply", request, reply                                        \
  }
#define ONE_WAY(name, schema)                                                  \
  {                                                                            \
    name, NULL, schema, NULL                                                   \
  }

static const struct kind_desc kinds[] = {
  [PB_MSG_HELLO] = ONE_WAY("hello", "usu"),
  [PB_MSG_ERROR] = ONE_WAY("error", "is"),
  [PB_MSG_OPEN] = REQUEST("open", "sfu", ""),
  [PB_MSG_CLOSE] = REQUEST("close", "", ""),
  [PB_MSG_INFO] = REQUEST("info", "", INFO_REPLY),
  [PB_MSG_PARAM_GET] = REQUEST("param_get", "u", "fss"),
  [PB_MSG_PARAM_SET] = REQUEST("param_set", "uf", ""),
  [PB_MSG_PARAM_FROM_STRING] = REQUEST("param_from_string", "us", "bf"),
  [PB_MSG_PROGRAM_GET] = REQUEST("program_get", "", "i"),
  [PB_MSG_PROGRAM_SET] = REQUEST("program_set", "u", ""),
  [PB_MSG_PROGRAM_NAME] = REQUEST("program_name", "u", "s"),
  [PB_MSG_PROGRAM_RENAME] = REQUEST("program_rename", "s", ""),
  [PB_MSG_CHUNK_GET] = REQUEST("chunk_get", "b", "x"),
  [PB_MSG_CHUNK_SET] = REQUEST("chunk_set", "bx", "i"),
  [PB_MSG_SET_SAMPLE_RATE] = REQUEST("set_sample_rate", "f", ""),
  [PB_MSG_SET_BLOCK_SIZE] = REQUEST("set_block_size", "u", ""),
  [PB_MSG_SET_ACTIVE] = REQUEST("set_active", "b", ""),
  [PB_MSG_SET_PROCESSING] = REQUEST("set_processing", "b", ""),
  [PB_MSG_SET_BYPASS] = REQUEST("set_bypass", "b", "b"),
  [PB_MSG_TAIL_SIZE] = REQUEST("tail_size", "", "i"),
  [PB_MSG_CAN_DO] = REQUEST("can_do", "s", "i"),
  [PB_MSG_PING] = REQUEST("ping", "", ""),
  [PB_MSG_SANDBOX] = REQUEST("sandbox", "", "s"),
  [PB_MSG_EV_AUTOMATE] = ONE_WAY("ev_automate", "uf"),
  [PB_MSG_EV_BEGIN_EDIT] = ONE_WAY("ev_begin_edit", "u"),
  [PB_MSG_EV_END_EDIT] = ONE_WAY("ev_end_edit", "u"),
  [PB_MSG_EV_IO_CHANGED] = ONE_WAY("ev_io_changed", "iii"),
  [PB_MSG_EV_LATENCY] = ONE_WAY("ev_latency", "i"),
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

/* ------------------------------------------------------------- schema */

static const struct kind_desc*
kind_desc(uint32_t kind)
{
  const uint32_t base = kind & ~(uint32_t)PB_MSG_REPLY;

  if (base >= N_KINDS || !kinds[base].name)
    return NULL;
  return &kinds[base];
}

const char*
pb_msg_schema(uint32_t kind)
{
  const struct kind_desc* d = kind_desc(kind);

  if (!d)
    return NULL;
  return (kind & PB_MSG_REPLY) ? d->reply : d->request;
}

const char*
pb_msg_kind_name(uint32_t kind)
{
  const struct kind_desc* d = kind_desc(kind);
  const char* name = NULL;

  if (d)
    name = (kind & PB_MSG_REPLY) ? d->reply_name : d->name;
  return name ? name : "unknown";
}

/* The hello and the events are not answers to anything: they carry id 0. */
static bool
kind_has_id(uint32_t kind)
{
  return kind != PB_MSG_HELLO && kind < PB_MSG_EV_AUTOMATE;
}

/* The argument after the one `s` points at ("a(...)" counts as one). */
static const char*
schema_next(const char* s)
{
  if (*s == 'a') {
    s = strchr(s, ')');
    assert(s);
  }
  return s + 1;
}

static uint32_t
schema_n_args(const char* s)
{
  uint32_t n = 0;

  for (; *s; s = schema_next(s))
    ++n;
  return n;
}

/* Number of columns of the array whose '(' is at `open`. */
static uint32_t
schema_n_cols(const char* open)
{
  const char* close = strchr(open, ')');

  assert(*open == '(' && close);
  return (uint32_t)(close - open - 1);
}

/* ----------------------------------------------------------- pre-scan */

struct scan
{
  const uint8_t* p;
  const uint8_t* end;
};

static size_t
scan_left(const struct scan* c)
{
  return (size_t)(c->end - c->p);
}

/* Reads an `n_bytes` big-endian unsigned integer (n_bytes <= 4). */
static int
scan_be(struct scan* c, unsigned n_bytes, uint32_t* out)
{
  uint32_t v = 0;

  if (scan_left(c) < n_bytes)
    return -EBADMSG;
  for (unsigned i = 0; i < n_bytes; ++i)
    v = (v << 8) | *c->p++;
  *out = v;
  return 0;
}

static int
scan_skip(struct scan* c, size_t n_bytes)
{
  if (scan_left(c) < n_bytes)
    return -EBADMSG;
  c->p += n_bytes;
  return 0;
}

/* A str or bin whose length takes `n_bytes` bytes (0: `len` is known). */
static int
scan_blob(struct scan* c, unsigned n_bytes, uint32_t len, uint32_t max)
{
  if (n_bytes > 0) {
    const int err = scan_be(c, n_bytes, &len);
    if (err)
      return err;
  }
  if (len > max)
    return -EMSGSIZE;
  return scan_skip(c, len);
}

static int scan_value(struct scan* c, unsigned depth);

/* Largest element count of an array at each depth: the frame holds kind,
 * id and the arguments, an argument array holds rows, a row holds cells. */
static int
scan_count_ok(unsigned depth, uint32_t n)
{
  if (depth == 1)
    return n <= 2u + PB_PROTO_MAX_ARGS ? 0 : -EBADMSG;
  if (depth == 2)
    return n <= PB_PROTO_MAX_ROWS ? 0 : -EMSGSIZE;
  return n <= PB_PROTO_MAX_ARGS ? 0 : -EBADMSG;
}

static int
scan_array(struct scan* c, unsigned n_bytes, uint32_t n, unsigned depth)
{
  int err = n_bytes > 0 ? scan_be(c, n_bytes, &n) : 0;

  if (!err && depth >= MAX_DEPTH)
    err = -EBADMSG;
  if (!err)
    err = scan_count_ok(depth, n);
  if (!err && n > scan_left(c))
    err = -EBADMSG; /* each element needs at least one byte */
  for (uint32_t i = 0; !err && i < n; ++i)
    err = scan_value(c, depth + 1);
  return err;
}

/* Skips one value whose type byte `t` has been read and is not one of the
 * fix types (scan_value handles those). */
static int
scan_typed(struct scan* c, uint8_t t, unsigned depth)
{
  if (t == 0xc0u || t == 0xc2u || t == 0xc3u) /* nil, false, true */
    return 0;
  if (t >= 0xc4u && t <= 0xc6u) /* bin 8, 16, 32 */
    return scan_blob(c, 1u << (t - 0xc4u), 0, PB_PROTO_MAX_BIN);
  if (t == 0xcau || t == 0xcbu) /* float 32, 64 */
    return scan_skip(c, 4u << (t - 0xcau));
  if (t >= 0xccu && t <= 0xd3u) /* uint 8..64, int 8..64 */
    return scan_skip(c, 1u << ((t - 0xccu) & 3u));
  if (t >= 0xd9u && t <= 0xdbu) /* str 8, 16, 32 */
    return scan_blob(c, 1u << (t - 0xd9u), 0, PB_PROTO_MAX_STR);
  if (t == 0xdcu || t == 0xddu) /* array 16, 32 */
    return scan_array(c, 2u << (t - 0xdcu), 0, depth);
  return -EBADMSG; /* maps, ext types and the never-used 0xc1 */
}

static int
scan_value(struct scan* c, unsigned depth)
{
  uint8_t t = 0;

  if (c->p == c->end)
    return -EBADMSG;
  t = *c->p++;
  if (t <= 0x7fu || t >= 0xe0u) /* positive and negative fixint */
    return 0;
  if (t >= 0x90u && t <= 0x9fu)
    return scan_array(c, 0, t & 0x0fu, depth);
  if (t >= 0xa0u && t <= 0xbfu)
    return scan_blob(c, 0, t & 0x1fu, PB_PROTO_MAX_STR);
  if (t <= 0x8fu) /* fixmap */
    return -EBADMSG;
  return scan_typed(c, t, depth);
}

static int
prescan(const uint8_t* body, size_t len)
{
  struct scan c = { body, body + len };
  const int err = len ? scan_value(&c, 1) : -EBADMSG;

  if (err)
    return err;
  return c.p == c.end ? 0 : -EBADMSG; /* trailing bytes */
}

/* ------------------------------------------------------------- decode */

static int
get_u32(const msgpack_object* o, uint32_t* out)
{
  if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > UINT32_MAX)
    return -EBADMSG;
  *out = (uint32_t)o->via.u64;
  return 0;
}

static int
get_i32(const msgpack_object* o, int32_t* out)
{
  if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT32_MAX) {
    *out = (int32_t)o->via.u64;
    return 0;
  }
  if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 >= INT32_MIN) {
    *out = (int32_t)o->via.i64;
    return 0;
  }
  return -EBADMSG;
}

static int
get_str(const msgpack_object* o, msgpack_zone* zone, pb_val_t* out)
{
  uint32_t len = 0;
  char* copy = NULL;

  if (o->type != MSGPACK_OBJECT_STR)
    return -EBADMSG;
  len = o->via.str.size;
  if (len > 0 && memchr(o->via.str.ptr, '\0', len))
    return -EBADMSG;
  copy = (char*)msgpack_zone_malloc_no_align(zone, (size_t)len + 1);
  if (!copy)
    return -ENOMEM;
  if (len > 0)
    memcpy(copy, o->via.str.ptr, len);
  copy[len] = '\0';
  out->v.s.ptr = copy;
  out->v.s.len = len;
  return 0;
}

/* A scalar, string or binary value of type `letter`. */
static int
get_value(const msgpack_object* o,
          char letter,
          msgpack_zone* zone,
          pb_val_t* out)
{
  out->type = (pb_val_type_t)letter;
  switch (letter) {
    case 'u':
      return get_u32(o, &out->v.u);
    case 'i':
      return get_i32(o, &out->v.i);
    case 'f':
      if (o->type != MSGPACK_OBJECT_FLOAT32 &&
          o->type != MSGPACK_OBJECT_FLOAT64)
        return -EBADMSG;
      out->v.f = o->via.f64;
      return 0;
    case 'b':
      if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return -EBADMSG;
      out->v.b = o->via.boolean ? 1 : 0;
      return 0;
    case 's':
      return get_str(o, zone, out);
    default:
      assert(letter == 'x');
      if (o->type != MSGPACK_OBJECT_BIN)
        return -EBADMSG;
      out->v.x.ptr = (const uint8_t*)o->via.bin.ptr;
      out->v.x.len = o->via.bin.size;
      return 0;
  }
}

static int
get_row(const msgpack_object* row,
        const char* cols,
        uint32_t n_cols,
        msgpack_zone* zone,
        pb_val_t* cells)
{
  int err = 0;

  if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != n_cols)
    return -EBADMSG;
  for (uint32_t c = 0; !err && c < n_cols; ++c)
    err = get_value(&row->via.array.ptr[c], cols[c], zone, &cells[c]);
  return err;
}

/* An array argument; `spec` points at its "a(...)". */
static int
get_array(const msgpack_object* o,
          const char* spec,
          msgpack_zone* zone,
          pb_val_t* out)
{
  const uint32_t n_cols = schema_n_cols(spec + 1);
  pb_val_t* cells = NULL;
  int err = 0;

  if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > PB_PROTO_MAX_ROWS)
    return -EBADMSG;
  const uint32_t n_rows = o->via.array.size;
  if (n_rows > 0) {
    cells = (pb_val_t*)msgpack_zone_malloc(
      zone, (size_t)n_rows * n_cols * sizeof(pb_val_t));
    if (!cells)
      return -ENOMEM;
  }
  for (uint32_t r = 0; !err && r < n_rows; ++r)
    err = get_row(
      &o->via.array.ptr[r], spec + 2, n_cols, zone, &cells[(size_t)r * n_cols]);
  out->type = PB_VAL_A;
  out->v.a.cells = cells;
  out->v.a.n_rows = n_rows;
  out->v.a.n_cols = n_cols;
  return err;
}

static int
get_args(const msgpack_object* items, const char* schema, pb_msg_t* msg)
{
  int err = 0;

  for (uint32_t i = 0; !err && i < msg->n_args; ++i) {
    if (*schema == 'a')
      err = get_array(&items[i], schema, &msg->zone, &msg->args[i]);
    else
      err = get_value(&items[i], *schema, &msg->zone, &msg->args[i]);
    schema = schema_next(schema);
  }
  return err;
}

static int
get_frame(const msgpack_object* o, pb_msg_t* msg)
{
  const msgpack_object* items = NULL;
  const char* schema = NULL;
  uint32_t kind = 0;
  uint32_t id = 0;

  if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 2)
    return -EBADMSG;
  items = o->via.array.ptr;
  if (get_u32(&items[0], &kind) || get_u32(&items[1], &id))
    return -EBADMSG;
  schema = pb_msg_schema(kind);
  if (!schema || (id != 0) != kind_has_id(kind & ~(uint32_t)PB_MSG_REPLY))
    return -EBADMSG;
  msg->n_args = schema_n_args(schema);
  if (o->via.array.size != 2 + msg->n_args)
    return -EBADMSG;
  msg->kind = kind;
  msg->id = id;
  return get_args(items + 2, schema, msg);
}

int
pb_msg_decode(const uint8_t* body, size_t len, pb_msg_t* msg)
{
  msgpack_unpacked up;
  size_t off = 0;
  int err = 0;

  assert(body || len == 0);
  memset(msg, 0, sizeof(*msg));
  err = prescan(body, len);
  if (err)
    return err;
  if (!msgpack_zone_init(&msg->zone, MSGPACK_ZONE_CHUNK_SIZE)) {
    memset(&msg->zone, 0, sizeof(msg->zone));
    return -ENOMEM;
  }
  msgpack_unpacked_init(&up);
  switch (msgpack_unpack_next(&up, (const char*)body, len, &off)) {
    case MSGPACK_UNPACK_SUCCESS:
      err = off == len ? get_frame(&up.data, msg) : -EBADMSG;
      break;
    case MSGPACK_UNPACK_NOMEM_ERROR:
      err = -ENOMEM;
      break;
    default:
      err = -EBADMSG;
      break;
  }
  msgpack_unpacked_destroy(&up);
  return err;
}

void
pb_msg_fini(pb_msg_t* msg)
{
  /* A zeroed zone has no chunk list; msgpack_zone_destroy() would follow
   * its NULL head. */
  if (msg->zone.chunk_list.head)
    msgpack_zone_destroy(&msg->zone);
  memset(msg, 0, sizeof(*msg));
}

const pb_val_t*
pb_val_cell(const pb_val_t* a, uint32_t row, uint32_t col)
{
  assert(a->type == PB_VAL_A);
  assert(row < a->v.a.n_rows && col < a->v.a.n_cols);
  return &a->v.a.cells[(size_t)row * a->v.a.n_cols + col];
}

/* ------------------------------------------------------------- writer */

/* While a frame is being written, w->schema is the part of the schema not
 * yet written: it points at the next argument letter, or inside an array
 * at the next cell letter, or at the array's '(' before its first row, or
 * at its ')' after each row. */

static void
wr_fail(pb_wr_t* w, int err)
{
  if (!w->err)
    w->err = err;
}

static void
wr_check(pb_wr_t* w, int rc)
{
  if (rc != 0)
    wr_fail(w, -ENOMEM);
}

/* Steps past an array whose rows have all been written. */
static void
wr_settle(pb_wr_t* w)
{
  if (w->n_rows_left > 0)
    return;
  if (*w->schema == '(')
    w->schema = strchr(w->schema, ')');
  if (*w->schema == ')')
    ++w->schema;
}

/* True if the next value may be of type `letter`; consumes it. */
static bool
wr_expect(pb_wr_t* w, char letter)
{
  if (w->err)
    return false;
  if (!w->schema) {
    wr_fail(w, -EINVAL);
    return false;
  }
  wr_settle(w);
  if (*w->schema != letter) {
    wr_fail(w, -EINVAL);
    return false;
  }
  ++w->schema;
  return true;
}

void
pb_wr_init(pb_wr_t* w)
{
  memset(w, 0, sizeof(*w));
  msgpack_sbuffer_init(&w->buf);
  msgpack_packer_init(&w->pk, &w->buf, msgpack_sbuffer_write);
}

void
pb_wr_fini(pb_wr_t* w)
{
  msgpack_sbuffer_destroy(&w->buf);
  memset(w, 0, sizeof(*w));
}

void
pb_wr_begin(pb_wr_t* w, uint32_t kind, uint32_t id)
{
  static const char placeholder[PB_FRAME_HEADER_BYTES] = { 0 };
  const char* schema = pb_msg_schema(kind);

  w->buf.size = 0;
  w->err = 0;
  w->schema = NULL;
  w->n_rows_left = 0;
  /* Re-pointed on every frame so that a writer may be moved between uses. */
  msgpack_packer_init(&w->pk, &w->buf, msgpack_sbuffer_write);
  if (!schema || (id != 0) != kind_has_id(kind & ~(uint32_t)PB_MSG_REPLY)) {
    wr_fail(w, -EINVAL);
    return;
  }
  w->schema = schema;
  wr_check(w, msgpack_sbuffer_write(&w->buf, placeholder, sizeof(placeholder)));
  wr_check(w, msgpack_pack_array(&w->pk, 2 + (size_t)schema_n_args(schema)));
  wr_check(w, msgpack_pack_uint32(&w->pk, kind));
  wr_check(w, msgpack_pack_uint32(&w->pk, id));
}

void
pb_wr_u(pb_wr_t* w, uint32_t v)
{
  if (wr_expect(w, 'u'))
    wr_check(w, msgpack_pack_uint32(&w->pk, v));
}

void
pb_wr_i(pb_wr_t* w, int32_t v)
{
  if (wr_expect(w, 'i'))
    wr_check(w, msgpack_pack_int32(&w->pk, v));
}

void
pb_wr_f(pb_wr_t* w, double v)
{
  if (wr_expect(w, 'f'))
    wr_check(w, msgpack_pack_double(&w->pk, v));
}

void
pb_wr_b(pb_wr_t* w, int v)
{
  if (wr_expect(w, 'b'))
    wr_check(w, v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
}

/* Length of `s` cut at PB_PROTO_MAX_STR bytes, backed off to the start of
 * a UTF-8 sequence so that a cut never splits a character. */
static size_t
str_cut_len(const char* s)
{
  size_t n = 0;

  while (n <= PB_PROTO_MAX_STR && s[n])
    ++n;
  if (n <= PB_PROTO_MAX_STR)
    return n;
  n = PB_PROTO_MAX_STR;
  for (unsigned back = 0; back < 3 && n > 0; ++back) {
    if (((unsigned char)s[n] & 0xc0u) != 0x80u)
      break;
    --n;
  }
  return n;
}

/* A NULL string is written as the empty string. */
void
pb_wr_s(pb_wr_t* w, const char* s)
{
  const size_t len = s ? str_cut_len(s) : 0;

  if (!wr_expect(w, 's'))
    return;
  wr_check(w, msgpack_pack_str(&w->pk, len));
  if (len > 0)
    wr_check(w, msgpack_pack_str_body(&w->pk, s, len));
}

void
pb_wr_x(pb_wr_t* w, const void* data, size_t len)
{
  if (!w->err && len > PB_PROTO_MAX_BIN)
    wr_fail(w, -EMSGSIZE);
  if (!w->err && !data && len > 0)
    wr_fail(w, -EINVAL);
  if (!wr_expect(w, 'x'))
    return;
  wr_check(w, msgpack_pack_bin(&w->pk, len));
  if (len > 0)
    wr_check(w, msgpack_pack_bin_body(&w->pk, data, len));
}

void
pb_wr_array(pb_wr_t* w, uint32_t n_rows)
{
  if (!w->err && n_rows > PB_PROTO_MAX_ROWS)
    wr_fail(w, -EMSGSIZE);
  if (!wr_expect(w, 'a'))
    return;
  wr_check(w, msgpack_pack_array(&w->pk, n_rows));
  w->n_rows_left = n_rows;
}

void
pb_wr_row(pb_wr_t* w, uint32_t n_cols)
{
  const char* open = w->schema;

  if (w->err)
    return;
  if (!open || w->n_rows_left == 0 || (*open != '(' && *open != ')')) {
    wr_fail(w, -EINVAL);
    return;
  }
  while (*open != '(') /* back to the start of this array's columns */
    --open;
  if (n_cols != schema_n_cols(open)) {
    wr_fail(w, -EINVAL);
    return;
  }
  wr_check(w, msgpack_pack_array(&w->pk, n_cols));
  --w->n_rows_left;
  w->schema = open + 1;
}

/* On failure the buffer is emptied so that no partial frame can be sent. */
int
pb_wr_end(pb_wr_t* w)
{
  if (!w->err && !w->schema)
    wr_fail(w, -EINVAL);
  if (!w->err) {
    wr_settle(w);
    if (*w->schema != '\0' || w->n_rows_left > 0)
      wr_fail(w, -EINVAL);
  }
  if (!w->err && w->buf.size - PB_FRAME_HEADER_BYTES > MAX_BODY_BYTES)
    wr_fail(w, -EMSGSIZE);
  if (!w->err) {
    const size_t body = w->buf.size - PB_FRAME_HEADER_BYTES;
    for (unsigned i = 0; i < PB_FRAME_HEADER_BYTES; ++i)
      w->buf.data[i] = (char)(uint8_t)(body >> (8 * i));
  }
  if (w->err)
    w->buf.size = 0;
  w->schema = NULL;
  return w->err;
}

int
pb_wr_error(pb_wr_t* w, uint32_t id, int32_t status, const char* message)
{
  pb_wr_begin(w, PB_MSG_ERROR, id);
  pb_wr_i(w, status);
  pb_wr_s(w, message);
  return pb_wr_end(w);
}

static void
wr_value(pb_wr_t* w, const pb_val_t* v)
{
  switch (v->type) {
    case PB_VAL_U:
      pb_wr_u(w, v->v.u);
      break;
    case PB_VAL_I:
      pb_wr_i(w, v->v.i);
      break;
    case PB_VAL_F:
      pb_wr_f(w, v->v.f);
      break;
    case PB_VAL_B:
      pb_wr_b(w, v->v.b);
      break;
    case PB_VAL_S:
      pb_wr_s(w, v->v.s.ptr);
      break;
    case PB_VAL_X:
      pb_wr_x(w, v->v.x.ptr, v->v.x.len);
      break;
    case PB_VAL_A:
    default:
      wr_fail(w, -EINVAL); /* arrays do not nest */
      break;
  }
}

static void
wr_array(pb_wr_t* w, const pb_val_t* a)
{
  pb_wr_array(w, a->v.a.n_rows);
  for (uint32_t r = 0; r < a->v.a.n_rows; ++r) {
    pb_wr_row(w, a->v.a.n_cols);
    for (uint32_t c = 0; c < a->v.a.n_cols; ++c)
      wr_value(w, pb_val_cell(a, r, c));
  }
}

int
pb_wr_msg(pb_wr_t* w, const pb_msg_t* msg)
{
  pb_wr_begin(w, msg->kind, msg->id);
  for (uint32_t i = 0; i < msg->n_args && i < PB_PROTO_MAX_ARGS; ++i) {
    if (msg->args[i].type == PB_VAL_A)
      wr_array(w, &msg->args[i]);
    else
      wr_value(w, &msg->args[i]);
  }
  return pb_wr_end(w);
}
