/* The shared-memory block of one plugin instance: the audio path between
 * pb_plugin_process() in the host and the bridge's audio thread.
 *
 * The block lives in a sealed memfd the host creates before it spawns the
 * bridge (which inherits it as fd 4).  Its layout uses fixed-width types
 * only, so a 64-bit host and a 32-bit bridge agree byte for byte; every
 * offset and size is pinned below.  Both sides map the block once and keep
 * their own copy of its geometry: what is read back from the shared header
 * is never used to compute an address.
 *
 * The doorbells are two futex words.  The host writes a request, stores a
 * new `request_seq` and wakes the bridge; the bridge processes, writes the
 * reply, stores the same number into `done_seq` and wakes the host.
 *
 * Request number n uses slot n % PB_SHM_SLOTS: its request, its reply and
 * its audio buffers.  A host rendering offline may ring the next number
 * before the last one is done (pb_plugin_submit()); the bridge runs them
 * in order, one at a time, and the host never has more numbers
 * outstanding than there are slots. */
#ifndef PB_COMMON_SHM_H
#define PB_COMMON_SHM_H

#include <stddef.h>
#include <stdint.h>

#define PB_SHM_MAGIC 0x4d534250u /* "PBSM" little-endian */
#define PB_SHM_LAYOUT_VERSION 9u
#define PB_SHM_FD 4             /* the fd the bridge inherits the block on */
#define PB_SHM_MAX_CHANNELS 32u /* per direction, fixed at spawn */
#define PB_SHM_SAMPLE_BYTES 8u  /* room for 64-bit samples */
#define PB_SHM_PARAM_MAX 512u   /* = PB_PARAM_CHANGES_MAX */
#define PB_SHM_MIDI_MAX 512u    /* = PB_MIDI_MAX_EVENTS */
#define PB_SHM_SYSEX_MAX 512u   /* = PB_SYSEX_MAX_BYTES, per event */
#define PB_SHM_SYSEX_AREA 8192u /* sysex bytes per block and direction */
#define PB_SHM_PARAM_EVENT_MAX 256u /* = PB_BLOCK_PARAM_EVENTS_MAX */
#define PB_SHM_MAX_BYTES (1u << 30) /* refuse larger blocks */
#define PB_SHM_SLOTS 2u             /* requests outstanding at most */

enum
{
  PB_SHM_PRECISION_FLOAT = 0,  /* processReplacing */
  PB_SHM_PRECISION_DOUBLE = 1, /* processDoubleReplacing */
};

struct pb_shm_header /* shared with i386 bridges: fixed widths only */
{
  uint32_t magic;          /* PB_SHM_MAGIC */
  uint16_t layout_version; /* PB_SHM_LAYOUT_VERSION; bump on any change */
  uint16_t header_size;    /* sizeof(struct pb_shm_header) */
  uint64_t total_size;     /* bytes of the whole block */
  uint32_t max_frames;     /* frames per channel buffer */
  uint32_t n_in_channels;  /* input channel buffers */
  uint32_t n_out_channels; /* output channel buffers */
  uint32_t sample_bytes;   /* PB_SHM_SAMPLE_BYTES */
  uint32_t request_seq;    /* futex word, host -> bridge */
  uint32_t done_seq;       /* futex word, bridge -> host */
  uint32_t audio_offset;   /* where the input buffers start */
  /* Where each side runs, so that each spins only while the other is
   * awake on another CPU (see host/audio.c).  Hints: a wrong value costs
   * time, never correctness. */
  uint32_t host_cpu;     /* CPU of the last process call, PB_SHM_NO_CPU */
  uint32_t host_state;   /* PB_SHM_HOST_*, written by the host */
  uint32_t bridge_cpu;   /* CPU of the bridge's audio thread */
  uint32_t bridge_state; /* PB_SHM_BRIDGE_*, written by the bridge */
  uint32_t hot_mode;     /* 1: the bridge spins between blocks */
  /* The bridge's standby thread sleeps on the caller's CPU while its
   * audio thread spins elsewhere or sleeps with a timer.  The host calls
   * it when the audio thread sleeps, or when a spinning one has not taken
   * the request within a few µs (its vCPU was paused): a wake-up on the
   * caller's own, awake CPU (host/audio.c, bridge/audio.c).  Whichever thread
   * moves `claim_seq` from the request's number less one, once that block is
   * done, to the request's runs the block. */
  uint32_t claim_seq;   /* the last request a bridge thread took */
  uint32_t standby_seq; /* futex word, host -> standby thread */
  uint32_t standby_cpu; /* CPU the standby waits on, or PB_SHM_NO_CPU */
  uint32_t one_thread;  /* 1, written before the spawn: no standby */
  /* Written once by the audio thread when it starts: its SCHED_FIFO or
   * SCHED_RR priority, 0 for the normal policy, or minus the errno that
   * refused the priority asked for (--rt-priority). */
  int32_t audio_priority;
  /* The last request whose reply the host has read: the bridge may then
   * clear that slot's outputs for the next request there ahead of time
   * (bridge/audio.c, preclear()).  Written by the host. */
  uint32_t collected_seq;
  uint32_t reserved[10];
};
_Static_assert(sizeof(struct pb_shm_header) == 128, "shared layout is ABI");
_Static_assert(offsetof(struct pb_shm_header, total_size) == 8, "ABI");
_Static_assert(offsetof(struct pb_shm_header, request_seq) == 32, "ABI");
_Static_assert(offsetof(struct pb_shm_header, done_seq) == 36, "ABI");
_Static_assert(offsetof(struct pb_shm_header, host_cpu) == 44, "ABI");
_Static_assert(offsetof(struct pb_shm_header, bridge_state) == 56, "ABI");
_Static_assert(offsetof(struct pb_shm_header, hot_mode) == 60, "ABI");
_Static_assert(offsetof(struct pb_shm_header, claim_seq) == 64, "ABI");
_Static_assert(offsetof(struct pb_shm_header, standby_cpu) == 72, "ABI");
_Static_assert(offsetof(struct pb_shm_header, one_thread) == 76, "ABI");
_Static_assert(offsetof(struct pb_shm_header, audio_priority) == 80, "ABI");
_Static_assert(offsetof(struct pb_shm_header, collected_seq) == 84, "ABI");

#define PB_SHM_NO_CPU 0xffffffffu /* the side's CPU is not known */

enum
{
  PB_SHM_HOST_IDLE = 0,     /* not in a process call */
  PB_SHM_HOST_WAITING = 1,  /* in a process call, awake (spinning) */
  PB_SHM_HOST_SLEEPING = 2, /* in FUTEX_WAIT on done_seq: wake it */
};

enum
{
  PB_SHM_BRIDGE_SLEEPING = 0, /* in FUTEX_WAIT on request_seq: wake it */
  PB_SHM_BRIDGE_RUNNING = 1,  /* processing, or spinning for a request */
};

struct pb_shm_transport
{
  uint32_t flags; /* PB_TRANSPORT_* */
  int32_t time_sig_num;
  int32_t time_sig_den;
  uint32_t reserved;
  double tempo_bpm;
  double sample_pos;
  double ppq_pos;
  double bar_start_ppq;
  double loop_start_ppq;
  double loop_end_ppq;
};
_Static_assert(sizeof(struct pb_shm_transport) == 64, "shared layout is ABI");
_Static_assert(offsetof(struct pb_shm_transport, tempo_bpm) == 16, "ABI");

struct pb_shm_param_change
{
  uint32_t frame; /* offset in the block */
  int32_t index;
  float value; /* normalized */
};
_Static_assert(sizeof(struct pb_shm_param_change) == 12, "ABI");

struct pb_shm_midi_event
{
  uint32_t frame;        /* offset in the block */
  uint32_t size;         /* 1..3: short message; more: sysex */
  uint8_t data[4];       /* the short message */
  uint32_t sysex_offset; /* into the direction's sysex area */
};
_Static_assert(sizeof(struct pb_shm_midi_event) == 16, "ABI");
_Static_assert(offsetof(struct pb_shm_midi_event, sysex_offset) == 12, "ABI");

struct pb_shm_request
{
  uint32_t n_frames;  /* 1..max_frames */
  uint32_t precision; /* PB_SHM_PRECISION_* */
  uint32_t n_param_changes;
  uint32_t n_midi;
  uint32_t sysex_bytes; /* used of `sysex` */
  uint32_t sent_ns_lo;  /* CLOCK_MONOTONIC when the host rang, low word */
  uint32_t sent_ns_hi;  /* ... and high word (a hint for the bridge) */
  uint32_t reserved;
  struct pb_shm_transport transport;
  struct pb_shm_param_change params[PB_SHM_PARAM_MAX]; /* by frame */
  struct pb_shm_midi_event midi[PB_SHM_MIDI_MAX];      /* by frame */
  uint8_t sysex[PB_SHM_SYSEX_AREA];
};
_Static_assert(offsetof(struct pb_shm_request, sent_ns_lo) == 20, "ABI");
_Static_assert(offsetof(struct pb_shm_request, transport) == 32, "ABI");
_Static_assert(offsetof(struct pb_shm_request, params) == 96, "ABI");
_Static_assert(offsetof(struct pb_shm_request, midi) == 6240, "ABI");
_Static_assert(offsetof(struct pb_shm_request, sysex) == 14432, "ABI");
_Static_assert(sizeof(struct pb_shm_request) == 22624, "ABI");

enum
{
  PB_SHM_PARAM_AUTOMATE = 1,   /* audioMasterAutomate */
  PB_SHM_PARAM_BEGIN_EDIT = 2, /* audioMasterBeginEdit */
  PB_SHM_PARAM_END_EDIT = 3,   /* audioMasterEndEdit */
};

/* A parameter event the plugin raised from its audio thread during the
 * block.  VST 2 gives these no frame: `frame` is the start of the segment
 * the plugin was processing (the block is split at timed parameter
 * changes), 0 without changes. */
struct pb_shm_param_event
{
  uint32_t frame; /* offset in the block */
  int32_t index;  /* parameter */
  float value;    /* AUTOMATE: normalized 0..1; else 0 */
  uint32_t kind;  /* PB_SHM_PARAM_* */
};
_Static_assert(sizeof(struct pb_shm_param_event) == 16, "ABI");
_Static_assert(offsetof(struct pb_shm_param_event, kind) == 12, "ABI");

struct pb_shm_reply
{
  int32_t status; /* pb_status_t of the block */
  uint32_t n_midi;
  uint32_t sysex_bytes;
  uint32_t n_automation; /* automation events the plugin raised */
  struct pb_shm_midi_event midi[PB_SHM_MIDI_MAX];
  uint8_t sysex[PB_SHM_SYSEX_AREA];
  /* The automation and edits of the audio thread, in the order raised:
   * written there without a lock or a system call (the pipe's queue is for
   * the plugin's other threads).  Past PB_SHM_PARAM_EVENT_MAX they are
   * counted in `n_param_dropped`, not kept. */
  uint32_t n_param_events; /* used of `param_events` */
  uint32_t n_param_dropped;
  struct pb_shm_param_event param_events[PB_SHM_PARAM_EVENT_MAX];
  /* When the bridge wrote this reply, by CLOCK_MONOTONIC (the host's
   * clock too), in ns, the low 32 bits: for the host's count of answers
   * it saw late (pb_audio_stats_t.caller_paused), nothing else. */
  uint32_t replied_ns;
  /* How long the plugin itself took for the block (its process and event
   * calls, by the bridge's clock), in ns, saturated.  A claim: the host
   * counts at most the time the whole call took. */
  uint32_t plugin_ns;
};
_Static_assert(offsetof(struct pb_shm_reply, midi) == 16, "ABI");
_Static_assert(offsetof(struct pb_shm_reply, sysex) == 8208, "ABI");
_Static_assert(offsetof(struct pb_shm_reply, n_param_events) == 16400, "ABI");
_Static_assert(offsetof(struct pb_shm_reply, n_param_dropped) == 16404, "ABI");
_Static_assert(offsetof(struct pb_shm_reply, param_events) == 16408, "ABI");
_Static_assert(offsetof(struct pb_shm_reply, replied_ns) == 20504, "ABI");
_Static_assert(offsetof(struct pb_shm_reply, plugin_ns) == 20508, "ABI");
_Static_assert(sizeof(struct pb_shm_reply) == 20512, "ABI");

/* One request number's request and reply. */
struct pb_shm_slot
{
  struct pb_shm_request request;
  struct pb_shm_reply reply;
};
_Static_assert(offsetof(struct pb_shm_slot, reply) == 22624, "ABI");
_Static_assert(sizeof(struct pb_shm_slot) == 43136, "ABI");

/* Everything before the audio buffers. */
struct pb_shm_block
{
  struct pb_shm_header header;
  struct pb_shm_slot slot[PB_SHM_SLOTS];
};
_Static_assert(offsetof(struct pb_shm_block, slot) == 128, "ABI");
_Static_assert(sizeof(struct pb_shm_block) == 86400, "ABI");

/** Where the audio buffers start: the block rounded up to 64 bytes.  Slot
 *  k's inputs then outputs, channel by channel, follow slot k - 1's. */
#define PB_SHM_AUDIO_OFFSET 86400u
_Static_assert(PB_SHM_AUDIO_OFFSET % 64 == 0 &&
                 PB_SHM_AUDIO_OFFSET >= sizeof(struct pb_shm_block),
               "ABI");

/** One side's mapping, with its own copy of the geometry.  Caller storage. */
typedef struct pb_shm
{
  int fd;
  struct pb_shm_block* block; /* the mapping, or NULL */
  uint8_t* base;
  size_t size_bytes;
  uint32_t max_frames;
  uint32_t n_in_channels;
  uint32_t n_out_channels;
  int dead; /* host side: the bridge died (atomic) */
} pb_shm_t;

/** Bytes of a block for this geometry, or 0 if over PB_SHM_MAX_BYTES. */
size_t pb_shm_size(uint32_t max_frames, uint32_t n_in, uint32_t n_out);

/** Host side: create, size, seal (shrink, grow, seal) and map a block.
 *  The fd is close-on-exec.  Returns 0 or -errno (-E2BIG: too large). */
int pb_shm_create(pb_shm_t* shm,
                  uint32_t max_frames,
                  uint32_t n_in,
                  uint32_t n_out);

/** Bridge side: map the block on `fd` after checking its size, seals and
 *  header.  Takes `fd` (closed on failure too).  Returns 0 or -errno. */
int pb_shm_map(pb_shm_t* shm, int fd);

/** Unmap and close; accepts a zeroed or closed shm (fd -1). */
void pb_shm_close(pb_shm_t* shm);

/** Zero `shm` with no fd. */
void pb_shm_init(pb_shm_t* shm);

/** The slot of request number `seq`. */
struct pb_shm_slot* pb_shm_slot(const pb_shm_t* shm, uint32_t seq);

/** Channel `ch` of the inputs (`out` 0) or outputs (`out` 1) of the slot
 *  of request number `seq`, from the own geometry; NULL if out of range. */
void* pb_shm_channel(const pb_shm_t* shm, uint32_t seq, int out, uint32_t ch);

/** Atomic access to a futex word of the block (acquire / release). */
uint32_t pb_shm_load(const uint32_t* word);
void pb_shm_store(uint32_t* word, uint32_t value);

/** Sequentially consistent store and load: a side that publishes "I am
 *  going to sleep" and then re-reads the other's word, against a side
 *  that publishes its word and then reads the state, never both miss. */
uint32_t pb_shm_load_sc(const uint32_t* word);
void pb_shm_store_sc(uint32_t* word, uint32_t value);

/** The CPU the calling thread runs on (the vDSO answers, no system call),
 *  or PB_SHM_NO_CPU. */
uint32_t pb_shm_cpu(void);

/** One pause of a spin loop. */
void pb_shm_relax(void);

/** Wait while `*word == expected`, at most `timeout_ns` (0: no limit).
 *  Returns 0 (woken, or the value differs), -ETIMEDOUT, or -EINTR. */
int pb_shm_futex_wait(uint32_t* word, uint32_t expected, uint64_t timeout_ns);

/** Wake every waiter on `word`. */
void pb_shm_futex_wake(uint32_t* word);

/** Host side, any thread: record that the bridge died and wake a waiter
 *  on `done_seq`. */
void pb_shm_mark_dead(pb_shm_t* shm);

/** Whether pb_shm_mark_dead() ran. */
int pb_shm_is_dead(const pb_shm_t* shm);

#endif /* PB_COMMON_SHM_H */
