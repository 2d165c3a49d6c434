/* The plugin object behind pb_plugin_t, and the request/reply machinery its
 * calls share.  Private to libplugbox.
 *
 * Threads: every public pb_plugin_* call holds `call_mutex` for its whole
 * length, so one request at a time is in flight per plugin and the fields
 * below (but `conn`, which has its own lock) belong to that caller. */
#ifndef PB_HOST_PLUGIN_H
#define PB_HOST_PLUGIN_H

#include "bridge_args.h"
#include "conn.h"
#include "plugbox.h"

#include "common/shm.h"
#include "proto/message.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define PB_PLUGIN_ERROR_CAP 1024
#define PB_DEFAULT_MEMORY_LIMIT (4ull << 30) /* pb_open_opts_t default */
#define PB_RT_PRIORITY_MAX 99                /* SCHED_FIFO's highest on Linux */
#define PB_MAX_READ_PATHS 32      /* = PB_SANDBOX_MAX_PATHS in the bridge */
#define PB_BLOCK_EVENT_RING 1024u /* block events kept; a power of two */

/* An event of a block, and the pipe events received before it. */
typedef struct
{
  pb_plugin_event_t ev;
  uint64_t after;
} pb_block_event_t;

/* What a restart restores (host/restart.c); main thread, call_mutex. */
typedef struct
{
  double sample_rate;
  uint32_t block_frames;
  int32_t program;   /* -1: never set nor read */
  int program_dirty; /* set since the snapshot */
  float* params;     /* n_params values */
  uint8_t* replay;   /* 1: restore params[i] after the chunk */
  void* chunk;       /* the bank chunk of the snapshot, or NULL */
  size_t chunk_size;
  int bypass; /* -1: never set */
} pb_state_t;

/* A block sent to the bridge and not yet collected (host/audio.c). */
typedef struct
{
  pb_process_t* block; /* the caller's, until collected */
  int dbl;             /* pb_plugin_submit_double() */
  uint64_t start;      /* when it was rung */
  uint64_t woke_at;    /* ... and the audio thread woken (else 0) */
  int standby;         /* ... or the standby called */
  uint32_t epoch;      /* audio_epoch when it was rung */
} pb_queued_t;

struct pb_plugin
{
  pb_host_t* host;
  pthread_mutex_t call_mutex;
  pb_conn_t conn;

  char* path;       /* absolute; malloc'd */
  pb_info_t info;   /* strings and arrays in info_arena */
  void* info_arena; /* one malloc'd block */
  uint32_t call_timeout_ms;

  pb_wr_t wr;        /* the request being built */
  uint32_t next_id;  /* last id used; ids start at 1 */
  uint32_t req_kind; /* kind of the request in flight */
  uint32_t req_id;
  uint64_t req_timeout_ms; /* for the timeout message */
  pb_msg_t* reply;         /* of the request in flight, until done */
  uint8_t* reply_body;

  /* Restarts (host/restart.c). */
  char* bridge;           /* the executable; malloc'd */
  pb_bridge_args_t* args; /* its sandbox arguments */
  pb_open_opts_t opts;    /* as opened; pointer fields cleared */
  int arch;               /* pb_arch_t of the plugin */
  pb_state_t state;
  uint32_t n_restarts;      /* successful ones */
  uint32_t n_auto_restarts; /* automatic ones since the last explicit */
  uint64_t crashed_at_ms;
  int restarting;

  pb_crash_t crash;
  char last_error[PB_PLUGIN_ERROR_CAP];
  char* sandbox_report; /* the bridge's, from the SANDBOX reply; malloc'd */

  /* The audio path (host/audio.c).  Set at open, then read by the caller's
   * audio thread; the atomics are written by control calls. */
  pb_shm_t shm;  /* the shared block; fd -1 when there is none */
  int audio_ok;  /* a block exists and the plugin's pins fit in it */
  uint32_t n_in; /* the plugin's channels */
  uint32_t n_out;
  _Atomic uint32_t process_timeout_us;
  _Atomic uint32_t block_frames; /* frames allowed per process call */
  _Atomic int active;
  _Atomic int processing;
  _Atomic int hot_mode; /* mirrored into the block's header */
  /* How blocks went (pb_plugin_audio_stats): written by the audio
   * thread, readable from any. */
  _Atomic uint64_t stat_blocks;
  _Atomic uint64_t stat_bridge_woken;
  _Atomic uint64_t stat_plugin_ns;
  _Atomic uint64_t stat_host_slept;
  _Atomic uint64_t stat_standby;
  _Atomic uint64_t stat_host_yielded;
  _Atomic uint64_t stat_caller_paused;
  /* A new bridge behind the same block (host/restart.c): a block sent to
   * the old one is never answered by the new one. */
  _Atomic uint32_t audio_epoch;
  /* Audio thread only. */
  uint32_t audio_seq;                     /* last request number sent */
  uint32_t audio_collected;               /* last request number answered */
  pb_status_t audio_failed;               /* for the blocks still queued */
  pb_queued_t audio_queued[PB_SHM_SLOTS]; /* by request number % slots */
  uint64_t audio_last_ns;                 /* the last call's round trip */
  uint64_t audio_end_ns;                  /* when the last call returned */
  uint64_t audio_no_spin_until;           /* CPUs contended: sleep, not spin */
  pthread_t audio_policy_thread;          /* the caller last checked ... */
  uint64_t audio_policy_ns;               /* ... when (0: never) ... */
  int audio_may_yield;                    /* ... and if it is not real-time */
  int audio_late;                       /* the last block missed its deadline */
  uint8_t sysex_out[PB_SHM_SYSEX_AREA]; /* for midi_out[].sysex */

  /* Events of the blocks (host/plugin_events.c): a ring with one producer,
   * the process caller, and one consumer, pb_plugin_poll_event(). */
  pb_block_event_t block_events[PB_BLOCK_EVENT_RING];
  _Atomic uint32_t bev_head;       /* next to take; the consumer's */
  _Atomic uint32_t bev_tail;       /* next to fill; the producer's */
  _Atomic uint64_t events_dropped; /* block events lost */
};

/** End the bridge (politely if `polite` and alive) and reap it. */
void pb_plugin_end_bridge(pb_plugin_t* p, int polite);

/** Set the plugin's last error and return `status`. */
pb_status_t pb_plugin_fail(pb_plugin_t* p,
                           pb_status_t status,
                           const char* fmt,
                           ...) __attribute__((format(printf, 3, 4)));

#endif /* PB_HOST_PLUGIN_H */
