/* The control protocol between libplugbox and plugbox-bridge.
 *
 * Wire format: a frame is a 4-byte little-endian body length followed by a
 * msgpack body.  The body is an array [kind, id, arg...] whose arguments are
 * fixed per kind by the schema table in message.c:
 *
 *   u  unsigned 32-bit integer        i  signed 32-bit integer
 *   f  float (float32 or float64)     b  boolean
 *   s  string (UTF-8 bytes, no NUL, at most PB_PROTO_MAX_STR bytes)
 *   x  binary (at most PB_PROTO_MAX_BIN bytes)
 *   a(...)  array (at most PB_PROTO_MAX_ROWS rows); each row is itself an
 *           array of the fields in parentheses (scalars, s or x only)
 *
 * A request from the host carries an id > 0; the bridge answers with the
 * reply kind (request kind | PB_MSG_REPLY) or PB_MSG_ERROR, with the same
 * id.  Events and the hello carry id 0.  The decoder trusts nothing: a
 * wrong type, count, size, an unknown kind, a truncated body or trailing
 * bytes is an error, never a crash or an unbounded allocation.
 *
 * Pure code: no I/O, no libuv. */
#ifndef PB_PROTO_MESSAGE_H
#define PB_PROTO_MESSAGE_H

#include <msgpack.h>

#include <stddef.h>
#include <stdint.h>

#define PB_PROTO_VERSION 2 /* bump on any change to kinds or schemas */

#define PB_PROTO_MAX_STR (64u * 1024u)
#define PB_PROTO_MAX_BIN (64u * 1024u * 1024u) /* == PB_CHUNK_MAX_BYTES */
#define PB_PROTO_MAX_ROWS 65536u
#define PB_PROTO_MAX_ARGS 32u
#define PB_FRAME_HEADER_BYTES 4u
#define PB_PROTO_MAX_FRAME (PB_PROTO_MAX_BIN + 64u * 1024u)

/* Message kinds.  Numbers never change; the schema of each is in
 * message.c (request schema, reply schema). */
enum pb_msg_kind
{
  PB_MSG_HELLO = 1,     /* bridge->host, id 0: "usu" version, arch, pid */
  PB_MSG_ERROR = 2,     /* reply to any request: "is" status, message */
  PB_MSG_OPEN = 3,      /* "sfu" path, sample rate, max block -> "" */
  PB_MSG_CLOSE = 4,     /* "" -> ""; the bridge exits after replying */
  PB_MSG_INFO = 5,      /* "" -> the plugin description, see message.c */
  PB_MSG_PARAM_GET = 6, /* "u" index -> "fss" value, display, label */
  PB_MSG_PARAM_SET = 7, /* "uf" index, value -> "" */
  PB_MSG_PARAM_FROM_STRING = 8, /* "us" index, text -> "bf" ok, value */
  PB_MSG_PROGRAM_GET = 9,       /* "" -> "i" current program */
  PB_MSG_PROGRAM_SET = 10,      /* "u" index -> "" */
  PB_MSG_PROGRAM_NAME = 11,     /* "u" index -> "s" name */
  PB_MSG_PROGRAM_RENAME = 12,   /* "s" name -> "" */
  PB_MSG_CHUNK_GET = 13,        /* "b" program-only -> "x" data */
  PB_MSG_CHUNK_SET = 14,        /* "bx" program-only, data -> "i" result */
  PB_MSG_SET_SAMPLE_RATE = 15,  /* "f" Hz -> "" */
  PB_MSG_SET_BLOCK_SIZE = 16,   /* "u" frames -> "" */
  PB_MSG_SET_ACTIVE = 17,       /* "b" on -> "" */
  PB_MSG_SET_PROCESSING = 18,   /* "b" on -> "" */
  PB_MSG_SET_BYPASS = 19,       /* "b" on -> "b" accepted */
  PB_MSG_TAIL_SIZE = 20,        /* "" -> "i" frames */
  PB_MSG_CAN_DO = 21,           /* "s" question -> "i" answer */
  PB_MSG_PING = 22,             /* "" -> "" */
  PB_MSG_SANDBOX = 32, /* "" -> "s" the sandbox report, a line per layer */

  PB_MSG_EV_AUTOMATE = 64,   /* event: "uf" index, value */
  PB_MSG_EV_BEGIN_EDIT = 65, /* event: "u" index */
  PB_MSG_EV_END_EDIT = 66,   /* event: "u" index */
  PB_MSG_EV_IO_CHANGED = 67, /* event: "iii" inputs, outputs, delay */
  PB_MSG_EV_LATENCY = 68,    /* event: "i" initial delay */

  PB_MSG_REPLY = 0x80 /* flag: reply kind = request kind | PB_MSG_REPLY */
};

/* Columns of the INFO reply's arrays, in order.  The INFO reply is
 *   s name, s vendor, s product, i vendor_version, i unique_id,
 *   i plugin_version, i vst_version, i category, u flags, i n_inputs,
 *   i n_outputs, i initial_delay, i midi_in, i midi_out, i tail_size,
 *   i current_program, u n_params, u n_programs,
 *   a(ssui) inputs, a(ssui) outputs,
 *   a(sssfbbufffiiiiiiisss) params, a(s) programs, a(si) can_do
 * where a pin row is label, short_label, flags, arrangement and a parameter
 * row is name, label, display, value, automatable, has_properties,
 * prop_flags, step, small_step, large_step, min_int, max_int, step_int,
 * large_step_int, display_index, category, n_in_category, prop_label,
 * short_label, category_label. */
enum pb_info_arg
{
  PB_INFO_NAME = 0,
  PB_INFO_VENDOR,
  PB_INFO_PRODUCT,
  PB_INFO_VENDOR_VERSION,
  PB_INFO_UNIQUE_ID,
  PB_INFO_PLUGIN_VERSION,
  PB_INFO_VST_VERSION,
  PB_INFO_CATEGORY,
  PB_INFO_FLAGS,
  PB_INFO_N_INPUTS,
  PB_INFO_N_OUTPUTS,
  PB_INFO_INITIAL_DELAY,
  PB_INFO_MIDI_IN,
  PB_INFO_MIDI_OUT,
  PB_INFO_TAIL_SIZE,
  PB_INFO_CURRENT_PROGRAM,
  PB_INFO_N_PARAMS,
  PB_INFO_N_PROGRAMS,
  PB_INFO_INPUTS,
  PB_INFO_OUTPUTS,
  PB_INFO_PARAMS,
  PB_INFO_PROGRAMS,
  PB_INFO_CAN_DO,
  PB_INFO_ARG_COUNT
};

enum pb_info_param_col
{
  PB_PCOL_NAME = 0,
  PB_PCOL_LABEL,
  PB_PCOL_DISPLAY,
  PB_PCOL_VALUE,
  PB_PCOL_AUTOMATABLE,
  PB_PCOL_HAS_PROPS,
  PB_PCOL_PROP_FLAGS,
  PB_PCOL_STEP,
  PB_PCOL_SMALL_STEP,
  PB_PCOL_LARGE_STEP,
  PB_PCOL_MIN_INT,
  PB_PCOL_MAX_INT,
  PB_PCOL_STEP_INT,
  PB_PCOL_LARGE_STEP_INT,
  PB_PCOL_DISPLAY_INDEX,
  PB_PCOL_CATEGORY,
  PB_PCOL_N_IN_CATEGORY,
  PB_PCOL_PROP_LABEL,
  PB_PCOL_SHORT_LABEL,
  PB_PCOL_CATEGORY_LABEL,
  PB_PCOL_COUNT
};

/* A decoded value.  Strings are NUL-terminated copies owned by the message;
 * binaries point into the frame the message was decoded from. */
typedef enum
{
  PB_VAL_U = 'u',
  PB_VAL_I = 'i',
  PB_VAL_F = 'f',
  PB_VAL_B = 'b',
  PB_VAL_S = 's',
  PB_VAL_X = 'x',
  PB_VAL_A = 'a',
} pb_val_type_t;

typedef struct pb_val
{
  pb_val_type_t type;
  union
  {
    uint32_t u;
    int32_t i;
    double f;
    int b;
    struct
    {
      const char* ptr; /* NUL-terminated */
      uint32_t len;
    } s;
    struct
    {
      const uint8_t* ptr; /* into the frame */
      uint32_t len;
    } x;
    struct
    {
      const struct pb_val* cells; /* n_rows * n_cols, row-major */
      uint32_t n_rows;
      uint32_t n_cols;
    } a;
  } v;
} pb_val_t;

/* A decoded message.  Valid until pb_msg_fini() and while the frame it was
 * decoded from is alive. */
typedef struct pb_msg
{
  uint32_t kind; /* enum pb_msg_kind, possibly | PB_MSG_REPLY */
  uint32_t id;
  uint32_t n_args;
  pb_val_t args[PB_PROTO_MAX_ARGS];
  msgpack_zone zone; /* owns the strings and array cells */
} pb_msg_t;

/** Schema of `kind` (with or without PB_MSG_REPLY), or NULL if the kind is
 *  unknown. */
const char* pb_msg_schema(uint32_t kind);

/** Short stable name of `kind` for logs ("param_set", "info reply"). */
const char* pb_msg_kind_name(uint32_t kind);

/** Decode the frame body `body` (`len` bytes, without the length prefix)
 *  into `msg`, which the caller then releases with pb_msg_fini() whatever
 *  the result.  Returns 0 or -EBADMSG (malformed, wrong type or count,
 *  unknown kind, trailing bytes), -EMSGSIZE (a size limit), -ENOMEM. */
int pb_msg_decode(const uint8_t* body, size_t len, pb_msg_t* msg);

/** Release what pb_msg_decode() allocated.  Safe after a failed decode and
 *  on a zeroed message. */
void pb_msg_fini(pb_msg_t* msg);

/** Cell (`row`, `col`) of array argument `a` (no bounds check beyond
 *  assert: the decoder has fixed the shape from the schema). */
const pb_val_t* pb_val_cell(const pb_val_t* a, uint32_t row, uint32_t col);

/* ------------------------------------------------------------- writing */

/* Builds one frame.  Usage: pb_wr_init, pb_wr_begin(kind, id), one put per
 * schema argument in order (for an array: pb_wr_array(n_rows), then for
 * each row pb_wr_row() and its cells), pb_wr_end; then send pb_wr_data /
 * pb_wr_size bytes.  A writer can be reused after pb_wr_begin again. */
typedef struct pb_wr
{
  msgpack_sbuffer buf;
  msgpack_packer pk;
  int err;              /* first error: -ENOMEM, -EMSGSIZE, -EINVAL */
  const char* schema;   /* of the message being written */
  uint32_t n_rows_left; /* rows still to write in the current array */
} pb_wr_t;

void pb_wr_init(pb_wr_t* w);

void pb_wr_fini(pb_wr_t* w);

/** Start a frame of `kind` with `id`.  Unknown kinds set -EINVAL. */
void pb_wr_begin(pb_wr_t* w, uint32_t kind, uint32_t id);

void pb_wr_u(pb_wr_t* w, uint32_t v);
void pb_wr_i(pb_wr_t* w, int32_t v);
void pb_wr_f(pb_wr_t* w, double v);
void pb_wr_b(pb_wr_t* w, int v);
/** A string; bytes past PB_PROTO_MAX_STR (or a NUL) are cut, never sent. */
void pb_wr_s(pb_wr_t* w, const char* s);
/** A binary; over PB_PROTO_MAX_BIN sets -EMSGSIZE. */
void pb_wr_x(pb_wr_t* w, const void* data, size_t len);
/** An array argument of `n_rows` rows (over PB_PROTO_MAX_ROWS: -EMSGSIZE). */
void pb_wr_array(pb_wr_t* w, uint32_t n_rows);
/** The next row of the current array; `n_cols` cells follow. */
void pb_wr_row(pb_wr_t* w, uint32_t n_cols);

/** Finish the frame (fills the length prefix).  Returns w->err (0 on
 *  success). */
int pb_wr_end(pb_wr_t* w);

static inline const uint8_t*
pb_wr_data(const pb_wr_t* w)
{
  return (const uint8_t*)w->buf.data;
}

static inline size_t
pb_wr_size(const pb_wr_t* w)
{
  return w->buf.size;
}

/* Convenience: a whole frame for an error reply, hello or empty message. */
int pb_wr_error(pb_wr_t* w, uint32_t id, int32_t status, const char* message);

/** Convenience: the whole frame of a decoded or hand-built message (to
 *  forward or re-encode one).  Each argument must match the schema of
 *  msg->kind.  Returns w->err (0 on success). */
int pb_wr_msg(pb_wr_t* w, const pb_msg_t* msg);

#endif /* PB_PROTO_MESSAGE_H */
