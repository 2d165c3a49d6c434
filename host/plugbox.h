/* plugbox: run audio plugins in a separate, sandboxed bridge process.
 *
 * The client library.  A host context owns an I/O thread that talks to the
 * bridges it starts; each opened plugin is one bridge process.  No call
 * aborts or exits the host: failures are a pb_status_t plus a message kept
 * on the object (pb_plugin_last_error(), pb_host_last_error()).
 *
 * Threads: calls tagged [main-thread] may come from any one thread at a
 * time per object (the library serializes them per plugin); the library
 * calls back into the host on its own threads only through the
 * pb_open_opts_t.on_event callback, when set. */
#ifndef PB_HOST_PLUGBOX_H
#define PB_HOST_PLUGBOX_H

#include <stddef.h>
#include <stdint.h>

#if defined(PB_BUILDING_LIBRARY)
#define PB_API __attribute__((visibility("default")))
#else
#define PB_API
#endif

#ifdef __cplusplus
#define PB_BEGIN_DECLS                                                         \
  extern "C"                                                                   \
  {
#define PB_END_DECLS }
#else
#define PB_BEGIN_DECLS
#define PB_END_DECLS
#endif

PB_BEGIN_DECLS

#define PB_VERSION_STRING "0.1.0"

/** Status of every call.  Numbers are stable (they also cross the wire). */
typedef enum
{
  PB_OK = 0,
  PB_ERR_INVALID = 1,      /**< bad argument from the caller */
  PB_ERR_NOMEM = 2,        /**< out of memory */
  PB_ERR_NOT_FOUND = 3,    /**< the plugin file does not exist */
  PB_ERR_NOT_ELF = 4,      /**< the file is not an ELF shared object */
  PB_ERR_ARCH = 5,         /**< no bridge runs this architecture */
  PB_ERR_LOAD = 6,         /**< the loader failed (missing library, ...) */
  PB_ERR_NOT_PLUGIN = 7,   /**< no entry point, NULL effect or bad magic */
  PB_ERR_BRIDGE = 8,       /**< the bridge executable is missing or failed */
  PB_ERR_TIMEOUT = 9,      /**< the bridge missed its deadline */
  PB_ERR_CRASHED = 10,     /**< the bridge died; see pb_plugin_crash() */
  PB_ERR_PROTOCOL = 11,    /**< malformed or unexpected message */
  PB_ERR_RANGE = 12,       /**< index out of range (parameter, program) */
  PB_ERR_UNSUPPORTED = 13, /**< the plugin lacks this capability */
  PB_ERR_TOO_BIG = 14,     /**< data over a size limit (chunk, string) */
  PB_ERR_REFUSED = 15,     /**< the plugin refused the request */
  PB_ERR_IO = 16,          /**< a system call failed */
  PB_ERR_ACCESS = 17,      /**< permission denied reading the plugin */
} pb_status_t;

#define PB_STATUS_COUNT 18

/** One sentence describing `status`.  Static storage. [any-thread] */
PB_API const char* pb_strerror(pb_status_t status);

/** Stable short name of `status` ("ok", "not_found", ...). [any-thread] */
PB_API const char* pb_status_name(pb_status_t status);

/* ---------------------------------------------------------------- host */

typedef struct pb_host pb_host_t;

/** Create a host context and start its I/O thread.  [main-thread]
 *  On success `*out` is owned by the caller until pb_host_free().
 *  Returns PB_OK, PB_ERR_NOMEM or PB_ERR_IO. */
PB_API pb_status_t pb_host_new(pb_host_t** out);

/** Stop the I/O thread and free the context.  Every plugin opened with it
 *  must have been closed.  Accepts NULL.  [main-thread] */
PB_API void pb_host_free(pb_host_t* host);

/** Detail of the last failed pb_plugin_open() on this host ("" if none).
 *  Borrowed; valid until the next call on `host`.  [main-thread] */
PB_API const char* pb_host_last_error(const pb_host_t* host);

/* -------------------------------------------------------------- plugin */

typedef struct pb_plugin pb_plugin_t;

/** How tightly the bridge is confined (docs/sandbox.md).  Every layer that
 *  the machine lacks is skipped and reported, never a failure to open. */
typedef enum
{
  PB_SANDBOX_OFF = 0,    /**< nothing beyond closing stray fds */
  PB_SANDBOX_BASIC = 1,  /**< clean env, rlimits, no_new_privs, parent death */
  PB_SANDBOX_STRICT = 2, /**< + namespaces, Landlock, seccomp, no root */
} pb_sandbox_profile_t;

/** Events the plugin raised (automation, edits, I/O or latency change). */
typedef enum
{
  PB_EVENT_AUTOMATE = 1,
  PB_EVENT_BEGIN_EDIT = 2,
  PB_EVENT_END_EDIT = 3,
  PB_EVENT_IO_CHANGED = 4,
  PB_EVENT_LATENCY = 5,
} pb_plugin_event_kind_t;

/** One event; which fields count depends on `kind`. */
typedef struct
{
  pb_plugin_event_kind_t kind;
  int32_t index; /**< parameter (AUTOMATE, BEGIN/END_EDIT) */
  float value;   /**< AUTOMATE */
  int32_t n_inputs, n_outputs, latency; /**< IO_CHANGED, LATENCY */
  /* Appended. */
  uint32_t frame; /**< AUTOMATE, BEGIN/END_EDIT raised in a block: the
                       first frame of the part of the block the plugin was
                       processing (blocks split at timed parameter
                       changes), else 0 */
} pb_plugin_event_t;

/** Options for pb_plugin_open().  Initialize with pb_open_opts_init(). */
typedef struct
{
  uint32_t struct_size;        /**< sizeof(pb_open_opts_t) */
  double sample_rate;          /**< Hz; default 48000 */
  uint32_t max_block_frames;   /**< default 512 */
  uint32_t load_timeout_ms;    /**< spawn + load + open; default 10000 */
  uint32_t call_timeout_ms;    /**< each later control call; default 5000 */
  const char* bridge_path;     /**< NULL: $PLUGBOX_BRIDGE, then the search */
  uint32_t log_capacity_bytes; /**< kept plugin output; default 65536 */
  /* Sandbox (appended: older callers' struct_size leaves the defaults).
   * extra_read_paths: NULL-terminated absolute paths the plugin may also
   * read (an impulse response, a sample folder), or NULL.  writable_path:
   * the one folder the plugin may write, also its HOME; NULL: none. */
  int sandbox;                 /**< pb_sandbox_profile_t; default BASIC */
  uint64_t memory_limit_bytes; /**< address space; default 4 GiB */
  const char* const* extra_read_paths; /**< see above; default NULL */
  const char* writable_path;           /**< see above; default NULL */
  /* Audio (appended).  hot_mode: the bridge's audio thread keeps spinning
   * between blocks (up to ~50 ms idle), on another CPU than the caller
   * when there is one, so a block costs no wake-up: lowest latency, at
   * the price of a busy CPU while blocks flow.  See
   * pb_plugin_set_hot_mode(). */
  int hot_mode; /**< 0 or 1; default 0 */
  /* Crashes and restarts (appended).  With auto_restart, the first
   * control call after a crash restarts the bridge (pb_plugin_restart())
   * before it runs, at most restart_max times in a row and not before
   * restart_backoff_ms << (restarts so far) after the crash; past that the
   * plugin stays crashed until pb_plugin_restart().  The call that met the
   * crash still returns PB_ERR_CRASHED. */
  int auto_restart;            /**< default 0 */
  uint32_t restart_max;        /**< default 3 */
  uint32_t restart_backoff_ms; /**< default 10 */
  int snapshot_before_risky;   /**< pb_plugin_snapshot() before each
                                    chunk_set and program_set; default 0 */
  uint32_t audio_hang_ms;      /**< a process block unanswered this long
                                    gets the bridge killed (keep it above
                                    the process timeout); 0: never;
                                    default 3000 */
  /* Events (appended).  on_event, when set, receives every event the
   * plugin raises, with on_event_user, instead of pb_plugin_poll_event()
   * (which then finds none); `ev` is borrowed for the call.  It is called
   *  - for events that cross the pipe (I/O and latency changes,
   *    automation from the plugin's other threads), on the host's I/O
   *    thread, before the reply of the call during which they were raised
   *    is handed over.  The I/O thread serves every plugin of the host:
   *    return quickly, and call nothing of the library that takes the
   *    plugin or waits for a bridge (any call that sends a request, and
   *    pb_plugin_crash(), pb_plugin_close(), pb_host_free()); it would
   *    wait on this very thread.  pb_plugin_latency(),
   *    pb_plugin_events_dropped() and pb_plugin_info() are fine.
   *  - for automation and edits of a block, on the thread in
   *    pb_plugin_process(), before it returns PB_OK, in the order raised:
   *    there it is on the audio path, and must be real-time safe and
   *    not process the same plugin.
   * The two may run at the same time. */
  void (*on_event)(void* user, const pb_plugin_event_t* ev); /**< or NULL */
  void* on_event_user; /**< passed to on_event */
  /* Real-time audio (appended).  audio_rt_priority 1..99: the bridge's
   * audio thread runs SCHED_FIFO at that priority, as a host's own audio
   * thread does, so that other programs cannot preempt a block; 0: it
   * keeps the policy the bridge inherited.  It takes the right a host
   * needs for itself: CAP_SYS_NICE, or an RLIMIT_RTPRIO at least that
   * high (the limits an audio group gets); a bridge started by root raises
   * its own limit to it before dropping to nobody.  Under the basic and
   * strict profiles RLIMIT_RTPRIO is set to this value, so the plugin's
   * own threads cannot rise above it (0: not real-time at all, except
   * for a root bridge under basic, which keeps its capabilities).  In hot
   * mode a real-time bridge spins at most ~10 ms idle, not ~50 (a spin at
   * FIFO shuts out every normal thread of its CPU).  pb_plugin_audio_priority()
   * says what was granted. */
  int audio_rt_priority; /**< 0..99; default 0 */
  /* Appended.  The bridge runs a standby thread beside its audio thread,
   * asleep on the caller's CPU, for the blocks the audio thread would be
   * late for (see pb_audio_stats_t.standby): the plugin then gets its
   * process calls from two threads, one at a time.  1 keeps them on the
   * audio thread alone, for a plugin that minds (none of the real ones
   * tested here does). */
  int one_audio_thread; /**< 0 or 1; default 0 */
} pb_open_opts_t;

/** Fill `opts` with the defaults.  [any-thread] */
PB_API void pb_open_opts_init(pb_open_opts_t* opts);

/** Open the plugin at `path` in a new bridge process.  [main-thread]
 *  `opts` may be NULL for the defaults.  On success `*out` is owned by the
 *  caller until pb_plugin_close(); on failure `*out` is NULL and
 *  pb_host_last_error() says why.  Returns PB_OK, PB_ERR_NOT_FOUND,
 *  PB_ERR_ACCESS, PB_ERR_NOT_ELF, PB_ERR_ARCH, PB_ERR_LOAD,
 *  PB_ERR_NOT_PLUGIN, PB_ERR_BRIDGE, PB_ERR_TIMEOUT, PB_ERR_CRASHED,
 *  PB_ERR_PROTOCOL, PB_ERR_NOMEM, PB_ERR_IO. */
PB_API pb_status_t pb_plugin_open(pb_host_t* host,
                                  const char* path,
                                  const pb_open_opts_t* opts,
                                  pb_plugin_t** out);

/** Close the plugin, end its bridge and reap it, whatever state it is in.
 *  Accepts NULL.  [main-thread] */
PB_API void pb_plugin_close(pb_plugin_t* plugin);

/** Detail of the last failure on `plugin` ("" if none).
 *  Borrowed; valid until the next call on `plugin`.  [main-thread] */
PB_API const char* pb_plugin_last_error(const pb_plugin_t* plugin);

/** What ended a crashed bridge. */
typedef struct
{
  int crashed;          /**< 0 while the bridge lives */
  int signal;           /**< terminating signal, or 0 */
  int exit_code;        /**< exit status if it exited, else -1 */
  char signal_name[16]; /**< "SIGSEGV", or "" */
  char call[64];        /**< the call in progress ("open", "param_set") */
  char reason[256];     /**< one line for people */
  /* Appended (crash notes and restarts).  The bridge writes a note when
   * the plugin dies of a fault signal or calls exit(); without one
   * (SIGKILL, _exit, a hang) has_note is 0 and the addresses are 0. */
  int has_note;           /**< the bridge wrote a crash note */
  uint64_t fault_address; /**< the faulting address (si_addr) */
  uint64_t pc;            /**< the instruction that faulted */
  uint64_t module_offset; /**< pc minus the plugin's load base, if in it */
  char module[256];       /**< the plugin file the pc is in, or "" */
  char last_log[512];     /**< the last lines the plugin printed before */
  uint32_t n_restarts;    /**< successful restarts of this handle so far */
} pb_crash_t;

/** Copy the crash record of `plugin` into `*out`.  [main-thread] */
PB_API void pb_plugin_crash(const pb_plugin_t* plugin, pb_crash_t* out);

/** Respawn the bridge of `plugin` (crashed or not), reload the plugin and
 *  restore what the library knows of its state: sample rate, block size,
 *  the last snapshot's bank chunk, then the program and the parameter
 *  values set since, then bypass, on/off and processing.  The handle,
 *  its pb_info_t and its audio block stay the same; the next process
 *  call produces audio again.  Up to restart_max attempts, waiting
 *  restart_backoff_ms (doubling) between them.  [main-thread]  No process
 *  call may run meanwhile (those that do return PB_ERR_INVALID or
 *  PB_ERR_CRASHED).  Returns PB_OK, PB_ERR_INVALID, or the status of the
 *  last failed attempt (the plugin is crashed then). */
PB_API pb_status_t pb_plugin_restart(pb_plugin_t* plugin);

/** Record the plugin's state for a later restart: its bank chunk when it
 *  has chunks, else every parameter value; and its program.  Parameter
 *  and program changes made later are replayed on top.  [main-thread]
 *  Returns PB_OK, PB_ERR_TIMEOUT, PB_ERR_CRASHED, PB_ERR_NOMEM. */
PB_API pb_status_t pb_plugin_snapshot(pb_plugin_t* plugin);

/** Copy up to `cap - 1` bytes of what the plugin printed (stdout and stderr,
 *  the newest `log_capacity_bytes`) into `buf`, NUL-terminated.  Returns the
 *  number of bytes copied.  [main-thread] */
PB_API size_t pb_plugin_log(pb_plugin_t* plugin, char* buf, size_t cap);

/** One line per sandbox layer of the bridge ("seccomp: applied",
 *  "userns: unavailable: Operation not permitted ..."), as the bridge
 *  applied them before loading the plugin, copied NUL-terminated (cut to
 *  `cap - 1` bytes) into `buf` ("" on failure).  The first call asks the
 *  bridge, later ones answer from a copy.  [main-thread]  Returns PB_OK,
 *  PB_ERR_INVALID (NULL argument, `cap` 0), PB_ERR_TIMEOUT, PB_ERR_CRASHED,
 *  PB_ERR_NOMEM. */
PB_API pb_status_t pb_plugin_sandbox_report(const pb_plugin_t* plugin,
                                            char* buf,
                                            size_t cap);

/** Process id of the bridge, or 0 once it has ended.  Under the strict
 *  sandbox with a pid namespace, the supervisor the library spawned: the
 *  plugin runs in its grandchild, and the supervisor ends the way that
 *  process ends (docs/sandbox.md).  [main-thread] */
PB_API int pb_plugin_pid(const pb_plugin_t* plugin);

/* ----------------------------------------------------------- plugin info */

/** Plugin categories, numbered as in the VST 2.4 format. */
typedef enum
{
  PB_CATEGORY_UNKNOWN = 0,
  PB_CATEGORY_EFFECT = 1,
  PB_CATEGORY_SYNTH = 2,
  PB_CATEGORY_ANALYSIS = 3,
  PB_CATEGORY_MASTERING = 4,
  PB_CATEGORY_SPATIALIZER = 5,
  PB_CATEGORY_ROOM_FX = 6,
  PB_CATEGORY_SURROUND_FX = 7,
  PB_CATEGORY_RESTORATION = 8,
  PB_CATEGORY_OFFLINE = 9,
  PB_CATEGORY_SHELL = 10,
  PB_CATEGORY_GENERATOR = 11,
} pb_category_t;

/** Name of a category ("effect", "synth", ...; "unknown" past the end). */
PB_API const char* pb_category_name(int32_t category);

/** Plugin flags, numbered as in the VST 2.4 format. */
enum
{
  PB_FLAG_EDITOR = 1 << 0,
  PB_FLAG_REPLACING = 1 << 4,
  PB_FLAG_PROGRAM_CHUNKS = 1 << 5,
  PB_FLAG_SYNTH = 1 << 8,
  PB_FLAG_NO_SOUND_IN_STOP = 1 << 9,
  PB_FLAG_DOUBLE_REPLACING = 1 << 12,
};

/** One input or output pin. */
typedef struct
{
  const char* label;
  const char* short_label;
  uint32_t flags; /**< 1 active, 2 stereo, 4 uses speaker arrangement */
  int32_t arrangement;
} pb_pin_info_t;

/** One parameter as read when the plugin was opened. */
typedef struct
{
  const char* name;    /**< full length, never cut to 8 characters */
  const char* label;   /**< unit ("dB") */
  const char* display; /**< value as text */
  float value;         /**< normalized 0..1 */
  int automatable;     /**< effCanBeAutomated answer */
  int has_properties;  /**< 1 if the plugin answered properties */
  /* Parameter properties; meaningful when has_properties. */
  uint32_t prop_flags;
  float step, small_step, large_step;
  int32_t min_int, max_int, step_int, large_step_int;
  int32_t display_index, category, n_in_category;
  const char* prop_label;
  const char* short_label;
  const char* category_label;
} pb_param_info_t;

/** One canDo question and the plugin's answer (1 yes, -1 no, 0 unknown). */
typedef struct
{
  const char* name;
  int32_t answer;
} pb_can_do_t;

/** Everything read from the plugin when it was opened.  Borrowed from the
 *  plugin; valid until pb_plugin_close(). */
typedef struct
{
  const char* path;
  const char* arch; /**< "x86_64" or "i386" */
  const char* name;
  const char* vendor;
  const char* product;
  int32_t vendor_version;
  int32_t unique_id;
  char unique_id_text[5]; /**< four characters, '.' for unprintable ones */
  int32_t plugin_version; /**< the effect's own version field */
  int32_t vst_version;
  int32_t category;
  uint32_t flags; /**< PB_FLAG_* */
  int32_t n_inputs, n_outputs;
  int32_t initial_delay;
  int32_t n_midi_in_channels, n_midi_out_channels;
  int32_t tail_size;
  int32_t n_params;
  const pb_param_info_t* params;
  int32_t n_programs;
  const char* const* program_names;
  int32_t current_program;
  const pb_pin_info_t* inputs;  /**< n_inputs entries */
  const pb_pin_info_t* outputs; /**< n_outputs entries */
  int32_t n_can_do;
  const pb_can_do_t* can_do;
} pb_info_t;

/** The plugin's description.  Borrowed; valid until pb_plugin_close().
 *  [main-thread] */
PB_API const pb_info_t* pb_plugin_info(const pb_plugin_t* plugin);

/* ----------------------------------------------------------- parameters */

/** Read parameter `index`: normalized value and, if `display` is not NULL,
 *  its text (NUL-terminated, cut to `display_cap`).  [main-thread]
 *  Returns PB_OK, PB_ERR_RANGE, PB_ERR_TIMEOUT, PB_ERR_CRASHED. */
PB_API pb_status_t pb_plugin_param_get(pb_plugin_t* plugin,
                                       int32_t index,
                                       float* value,
                                       char* display,
                                       size_t display_cap);

/** Set parameter `index` to normalized `value` (clamped to 0..1).
 *  [main-thread]  Returns PB_OK, PB_ERR_RANGE, PB_ERR_INVALID (NaN),
 *  PB_ERR_TIMEOUT, PB_ERR_CRASHED. */
PB_API pb_status_t pb_plugin_param_set(pb_plugin_t* plugin,
                                       int32_t index,
                                       float value);

/** Set parameter `index` from text through the plugin's string-to-parameter
 *  call; `*value` (may be NULL) receives the resulting normalized value.
 *  [main-thread]  Returns PB_OK, PB_ERR_RANGE, PB_ERR_REFUSED (the plugin
 *  did not accept the text), PB_ERR_TIMEOUT, PB_ERR_CRASHED. */
PB_API pb_status_t pb_plugin_param_from_string(pb_plugin_t* plugin,
                                               int32_t index,
                                               const char* text,
                                               float* value);

/* ------------------------------------------------------------- programs */

/** Current program index.  [main-thread] */
PB_API pb_status_t pb_plugin_program_get(pb_plugin_t* plugin, int32_t* index);

/** Select program `index`.  [main-thread]  PB_ERR_RANGE past the count. */
PB_API pb_status_t pb_plugin_program_set(pb_plugin_t* plugin, int32_t index);

/** Name of program `index` (indexed call, falling back to select-and-read
 *  for plugins without it).  [main-thread] */
PB_API pb_status_t pb_plugin_program_name(pb_plugin_t* plugin,
                                          int32_t index,
                                          char* name,
                                          size_t cap);

/** Rename the current program.  [main-thread] */
PB_API pb_status_t pb_plugin_program_rename(pb_plugin_t* plugin,
                                            const char* name);

/* --------------------------------------------------------------- state */

#define PB_CHUNK_MAX_BYTES (64u * 1024u * 1024u)

/** Get the plugin's state chunk (`program` != 0: current program only,
 *  else the bank).  On PB_OK `*data` is malloc'd, owned by the caller (free
 *  with pb_free()), `*size` bytes.  [main-thread]  Returns PB_OK,
 *  PB_ERR_UNSUPPORTED (no chunk support), PB_ERR_TOO_BIG, PB_ERR_TIMEOUT,
 *  PB_ERR_CRASHED. */
PB_API pb_status_t pb_plugin_chunk_get(pb_plugin_t* plugin,
                                       int program,
                                       void** data,
                                       size_t* size);

/** Restore a state chunk.  [main-thread]  The plugin's own return value is
 *  not reported: the format leaves it undefined and many plugins return 0
 *  on success, so a chunk the plugin silently rejects still gives PB_OK.
 *  Returns PB_OK, PB_ERR_INVALID, PB_ERR_UNSUPPORTED, PB_ERR_TOO_BIG (over
 *  PB_CHUNK_MAX_BYTES), PB_ERR_TIMEOUT, PB_ERR_CRASHED. */
PB_API pb_status_t pb_plugin_chunk_set(pb_plugin_t* plugin,
                                       int program,
                                       const void* data,
                                       size_t size);

/** Free memory the library handed to the caller.  Accepts NULL. */
PB_API void pb_free(void* ptr);

/* ----------------------------------------------------- processing setup */

/** Change the sample rate (the plugin must be off).  [main-thread] */
PB_API pb_status_t pb_plugin_set_sample_rate(pb_plugin_t* plugin, double rate);

/** Change the maximum block size (the plugin must be off).  [main-thread] */
PB_API pb_status_t pb_plugin_set_block_size(pb_plugin_t* plugin,
                                            uint32_t max_frames);

/** Switch the plugin on (resume) or off (suspend).  [main-thread] */
PB_API pb_status_t pb_plugin_set_active(pb_plugin_t* plugin, int on);

/** Start or stop processing (effStartProcess / effStopProcess).
 *  [main-thread] */
PB_API pb_status_t pb_plugin_set_processing(pb_plugin_t* plugin, int on);

/** Ask the plugin to bypass itself.  PB_ERR_UNSUPPORTED if it declines.
 *  [main-thread] */
PB_API pb_status_t pb_plugin_set_bypass(pb_plugin_t* plugin, int on);

/** The plugin's tail in frames (0: none or unknown).  [main-thread] */
PB_API pb_status_t pb_plugin_tail_size(pb_plugin_t* plugin, int32_t* frames);

/** Ask the plugin a canDo question; `*answer` is 1, -1 or 0.
 *  [main-thread] */
PB_API pb_status_t pb_plugin_can_do(pb_plugin_t* plugin,
                                    const char* what,
                                    int32_t* answer);

/* ---------------------------------------------------------------- audio */

/** Transport flags for one block. */
enum
{
  PB_TRANSPORT_PLAYING = 1 << 0,
  PB_TRANSPORT_RECORDING = 1 << 1,
  PB_TRANSPORT_LOOPING = 1 << 2,
  PB_TRANSPORT_CHANGED = 1 << 3,
};

/** Transport state for one block (answered to the plugin's time request). */
typedef struct
{
  uint32_t flags;        /**< PB_TRANSPORT_* */
  double tempo_bpm;      /**< e.g. 120 */
  int32_t time_sig_num;  /**< e.g. 4 */
  int32_t time_sig_den;  /**< e.g. 4 */
  double sample_pos;     /**< frames since the song start */
  double ppq_pos;        /**< quarter notes since the song start */
  double bar_start_ppq;  /**< quarter-note position of the current bar */
  double loop_start_ppq; /**< meaningful when LOOPING */
  double loop_end_ppq;
} pb_transport_t;

/** Largest system-exclusive message carried per event. */
#define PB_SYSEX_MAX_BYTES 512u
/** Most MIDI events per block in either direction. */
#define PB_MIDI_MAX_EVENTS 512u
/** Most timed parameter changes per block. */
#define PB_PARAM_CHANGES_MAX 512u

/** One MIDI event at a frame offset within the block.  `size` 1..3 is a
 *  short message in `data`; larger sizes are sysex (at most
 *  PB_SYSEX_MAX_BYTES) pointed to by `sysex`. */
typedef struct
{
  uint32_t frame;
  uint32_t size;
  uint8_t data[4];
  const uint8_t* sysex; /**< borrowed; for events out: valid until the next
                             process call on the same plugin */
} pb_midi_event_t;

/** A parameter change applied at a frame offset within the block. */
typedef struct
{
  uint32_t frame;
  int32_t index;
  float value; /**< normalized 0..1 */
} pb_param_change_t;

/** One block.  The caller owns every buffer.  Channel counts beyond the
 *  plugin's are ignored; missing input channels are silence.  Exactly
 *  `n_frames` frames are processed (never re-blocked). */
typedef struct
{
  uint32_t n_frames; /**< 1 .. max_block_frames */
  uint32_t n_inputs;
  uint32_t n_outputs;
  const float* const* inputs; /**< pb_plugin_process() */
  float* const* outputs;
  const double* const* inputs64; /**< pb_plugin_process_double() */
  double* const* outputs64;
  const pb_param_change_t* param_changes;
  uint32_t n_param_changes;
  const pb_midi_event_t* midi_in;
  uint32_t n_midi_in;
  pb_midi_event_t* midi_out; /**< may be NULL */
  uint32_t midi_out_capacity;
  uint32_t n_midi_out;             /**< out: events written to midi_out */
  const pb_transport_t* transport; /**< NULL: stopped at 0, 120 BPM 4/4 */
} pb_process_t;

/** Process one block of 32-bit float audio through the bridge.
 *  [audio-thread, rt] No allocation, no lock, no syscall but the futex;
 *  waits at most the process deadline.  The plugin must be active and
 *  processing (pb_plugin_set_active(), pb_plugin_set_processing()).
 *  Returns PB_OK, PB_ERR_INVALID (frames over the block size, bad change or
 *  event, blocks still queued with pb_plugin_submit()), PB_ERR_TIMEOUT
 *  (outputs silenced, the instance marked late), PB_ERR_CRASHED (outputs
 *  silenced). */
PB_API pb_status_t pb_plugin_process(pb_plugin_t* plugin, pb_process_t* block);

/** The same in 64-bit samples (processDoubleReplacing).
 *  PB_ERR_UNSUPPORTED if the plugin lacks it.  [audio-thread, rt] */
PB_API pb_status_t pb_plugin_process_double(pb_plugin_t* plugin,
                                            pb_process_t* block);

/** Most blocks queued with pb_plugin_submit() and not yet collected. */
#define PB_QUEUE_MAX 2u

/** Queue one block for the bridge and return at once: for rendering
 *  offline, where the caller prepares the next block (reads its file,
 *  writes the last output) while the bridge runs this one, and the bridge
 *  goes on with a queued block without waiting for the caller.  The
 *  block's inputs, changes, MIDI and transport are copied now; its
 *  outputs, midi_out and n_midi_out are written by pb_plugin_collect(),
 *  so `block` and the buffers it points to must stay until then.  Blocks
 *  run in the order queued, at most PB_QUEUE_MAX at a time.
 *  pb_plugin_process() refuses while blocks are queued.  Collect every
 *  queued block before other calls that change the plugin's state.
 *  [audio-thread] The same rules as pb_plugin_process(), and does not
 *  wait.  Returns PB_OK, PB_ERR_INVALID (a bad block, or PB_QUEUE_MAX
 *  queued), PB_ERR_TIMEOUT (the bridge is still late with an older
 *  block), PB_ERR_CRASHED, or the status an earlier queued block failed
 *  with while others were queued behind it, until those are collected. */
PB_API pb_status_t pb_plugin_submit(pb_plugin_t* plugin, pb_process_t* block);

/** pb_plugin_submit() in 64-bit samples.  [audio-thread] */
PB_API pb_status_t pb_plugin_submit_double(pb_plugin_t* plugin,
                                           pb_process_t* block);

/** Wait for the oldest queued block, write its outputs and events into
 *  it, and set `*block` to it.  Waits at most the process deadline from
 *  this call.  Returns what pb_plugin_process() would have returned for
 *  that block (outputs silenced on failure); once one block failed with
 *  PB_ERR_TIMEOUT, PB_ERR_CRASHED or PB_ERR_PROTOCOL, the blocks queued
 *  after it are collected at once with the same status.  PB_ERR_INVALID
 *  (and `*block` NULL) when nothing is queued.  [audio-thread] */
PB_API pb_status_t pb_plugin_collect(pb_plugin_t* plugin, pb_process_t** block);

/** Blocks queued and not yet collected; 0 for NULL.  [audio-thread] */
PB_API uint32_t pb_plugin_queued(const pb_plugin_t* plugin);

/** Deadline of each process call, in microseconds (default 1000000).
 *  [main-thread] */
PB_API pb_status_t pb_plugin_set_process_timeout_us(pb_plugin_t* plugin,
                                                    uint32_t timeout_us);

/** Turn hot mode (pb_open_opts_t.hot_mode) on (1) or off (0); takes
 *  effect from the next block.  Returns PB_OK or PB_ERR_INVALID.
 *  [any-thread] */
PB_API pb_status_t pb_plugin_set_hot_mode(pb_plugin_t* plugin, int on);

/** How process calls went so far, for finding where time goes: a block
 *  whose bridge slept paid a wake-up (a few µs where the bridge's thread
 *  slept on the caller's CPU, as it does when it expects no block soon;
 *  tens to hundreds of µs on another, halted vCPU); one whose caller
 *  slept paid its own.  Counts every block sent, whatever its status. */
typedef struct
{
  uint64_t blocks;       /**< blocks sent to the bridge */
  uint64_t bridge_woken; /**< of those, the bridge's audio thread slept and
                              the caller had to wake it */
  uint64_t host_slept;   /**< the caller slept in FUTEX_WAIT for the answer
                              (else it spun, or yielded: host_yielded) */
  uint64_t plugin_ns;    /**< ns the plugin itself spent on the answered
                              blocks, by the bridge's clock (at most each
                              call's own time): the rest of the calls' time
                              is the transport's */
  uint64_t standby;      /**< blocks handed to the bridge's standby thread,
                              which waits on the caller's CPU: the audio
                              thread slept, or had not taken the block
                              within 5 µs, 30 µs back to back (its vCPU
                              was paused) */
  /* Appended. */
  uint64_t host_yielded;  /**< the caller waited by sched_yield() for the
                               bridge's thread on its own CPU (host and
                               bridge confined to one CPU, or the standby
                               called), instead of sleeping at once; it
                               sleeps if the wait is long (counted in
                               host_slept too).  Never for a caller at a
                               real-time policy. */
  uint64_t caller_paused; /**< of the blocks the caller spun or yielded
                               for (not host_slept), those whose answer it
                               saw more than 10 µs after the bridge wrote
                               it: the caller's thread did not run
                               meanwhile (preempted, or its vCPU paused by
                               the hypervisor), which no bridge can help.
                               By the bridge's stamp in the reply: a
                               plugin that scribbles on it can skew this
                               count, nothing else. */
} pb_audio_stats_t;

/** Copy the counters of `plugin` to `*out`.  Returns PB_OK or
 *  PB_ERR_INVALID.  [any-thread] */
PB_API pb_status_t pb_plugin_audio_stats(const pb_plugin_t* plugin,
                                         pb_audio_stats_t* out);

/** The scheduling of the bridge's audio thread, which starts when the
 *  plugin is first resumed: its SCHED_FIFO or SCHED_RR priority, 0 for the
 *  normal policy (or before it started), or minus the errno that refused
 *  pb_open_opts_t.audio_rt_priority (-EPERM: no right to it).
 *  [any-thread] */
PB_API int pb_plugin_audio_priority(const pb_plugin_t* plugin);

/** Most automation and edit events kept per block from the plugin's
 *  audio thread; more are dropped and counted (pb_plugin_events_dropped()).
 */
#define PB_BLOCK_PARAM_EVENTS_MAX 256u

/** Take the oldest pending event: PB_OK and `*out` filled, or
 *  PB_ERR_RANGE when none is pending (always, with an on_event callback).
 *  Automation and edits the plugin raises from its audio thread during a
 *  block come back through shared memory (at most
 *  PB_BLOCK_PARAM_EVENTS_MAX per block) and are queued when
 *  pb_plugin_process() returns PB_OK, without a lock; events from the
 *  plugin's other threads (setParameter, its GUI) and I/O and latency
 *  changes come through the bridge's pipe.  Each block's events come after
 *  the pipe events received before that block returned.
 *  [main-thread] May run on another thread than pb_plugin_process(), but
 *  on one thread at a time. */
PB_API pb_status_t pb_plugin_poll_event(pb_plugin_t* plugin,
                                        pb_plugin_event_t* out);

/** Events lost since open: over PB_BLOCK_PARAM_EVENTS_MAX in a block (as
 *  the bridge counted them), or while a queue was full (1024 block
 *  events, 256 pipe events not yet polled).  0 for NULL.  [any-thread] */
PB_API uint64_t pb_plugin_events_dropped(const pb_plugin_t* plugin);

/** The plugin's current latency in frames (re-read after processing starts
 *  and on every I/O change).  [main-thread] */
PB_API int32_t pb_plugin_latency(const pb_plugin_t* plugin);

PB_END_DECLS

#endif /* PB_HOST_PLUGBOX_H */
