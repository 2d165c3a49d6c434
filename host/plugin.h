/* The plugin object behind pb_plugin_t, and the request/reply machinery its
 * calls share.  Private to libplugbox.
 *
 * Threads: every public pb_plugin_* call holds `call_mutex` for its whole
 * length, so one request at a time is in flight per plugin and the fields
 * below (but `conn`, which has its own lock) belong to that caller. */
#ifndef PB_HOST_PLUGIN_H
#define PB_HOST_PLUGIN_H

#include "conn.h"
#include "plugbox.h"

#include "common/shm.h"
#include "proto/message.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define PB_PLUGIN_ERROR_CAP 1024
#define PB_DEFAULT_MEMORY_LIMIT (4ull << 30) /* pb_open_opts_t default */
#define PB_MAX_READ_PATHS 32 /* = PB_SANDBOX_MAX_PATHS in the bridge */

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
  /* Audio thread only. */
  uint32_t audio_seq;                   /* last request number sent */
  int audio_late;                       /* the last block missed its deadline */
  uint8_t sysex_out[PB_SHM_SYSEX_AREA]; /* for midi_out[].sysex */
};

/** Set the plugin's last error and return `status`. */
pb_status_t pb_plugin_fail(pb_plugin_t* p,
                           pb_status_t status,
                           const char* fmt,
                           ...) __attribute__((format(printf, 3, 4)));

#endif /* PB_HOST_PLUGIN_H */
