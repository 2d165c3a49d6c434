/* The VST 2.4 plugin ABI as plugbox uses it, written from the publicly
 * documented facts: the layout of the effect structure, the calling
 * convention of its entry points and the opcode numbers.  Nothing here is
 * copied from any SDK; the names are our own.
 *
 * Shared by the bridge (which calls plugins) and the test suite (test
 * plugins and the in-process reference loader).  Pure header, no code. */
#ifndef PB_COMMON_VST2_ABI_H
#define PB_COMMON_VST2_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Calls between host and plugin use the platform C convention. */
typedef struct pb_vst_effect pb_vst_effect_t;

typedef intptr_t (*pb_vst_host_cb_t)(pb_vst_effect_t* effect,
                                     int32_t opcode,
                                     int32_t index,
                                     intptr_t value,
                                     void* ptr,
                                     float opt);
typedef intptr_t (*pb_vst_dispatch_fn_t)(pb_vst_effect_t* effect,
                                         int32_t opcode,
                                         int32_t index,
                                         intptr_t value,
                                         void* ptr,
                                         float opt);
typedef void (*pb_vst_process_fn_t)(pb_vst_effect_t* effect,
                                    float** inputs,
                                    float** outputs,
                                    int32_t n_frames);
typedef void (*pb_vst_process_double_fn_t)(pb_vst_effect_t* effect,
                                           double** inputs,
                                           double** outputs,
                                           int32_t n_frames);
typedef void (*pb_vst_set_param_fn_t)(pb_vst_effect_t* effect,
                                      int32_t index,
                                      float value);
typedef float (*pb_vst_get_param_fn_t)(pb_vst_effect_t* effect, int32_t index);

/* The entry point a plugin exports as "VSTPluginMain" (or, in old
 * plugins, "main"). */
typedef pb_vst_effect_t* (*pb_vst_entry_fn_t)(pb_vst_host_cb_t host);

#define PB_VST_MAGIC 0x56737450 /* 'VstP' read as a big-endian int */

/* The effect structure the entry point returns.  Pointer-sized members make
 * its size differ between x86_64 (192 bytes) and i386 (144 bytes). */
struct pb_vst_effect
{
  int32_t magic;                       /* PB_VST_MAGIC */
  pb_vst_dispatch_fn_t dispatcher;     /* every opcode below */
  pb_vst_process_fn_t process_acc;     /* accumulating process, obsolete */
  pb_vst_set_param_fn_t set_parameter; /* normalized 0..1 */
  pb_vst_get_param_fn_t get_parameter; /* normalized 0..1 */
  int32_t num_programs;
  int32_t num_params;
  int32_t num_inputs;
  int32_t num_outputs;
  int32_t flags;          /* PB_VST_FLAG_* */
  intptr_t reserved1;     /* host-owned, zero */
  intptr_t reserved2;     /* host-owned, zero */
  int32_t initial_delay;  /* latency in frames */
  int32_t real_qualities; /* obsolete */
  int32_t off_qualities;  /* obsolete */
  float io_ratio;         /* obsolete */
  void* object;           /* the plugin's own object */
  void* user;             /* free for the host */
  int32_t unique_id;      /* four characters, big-endian */
  int32_t version;        /* the plugin's own version */
  pb_vst_process_fn_t process_replacing;
  pb_vst_process_double_fn_t process_double_replacing;
  char future[56];
};

#if defined(__x86_64__)
_Static_assert(sizeof(struct pb_vst_effect) == 192, "VST2 effect layout");
#elif defined(__i386__)
_Static_assert(sizeof(struct pb_vst_effect) == 144, "VST2 effect layout");
#endif

/* Effect flags. */
enum
{
  PB_VST_FLAG_HAS_EDITOR = 1 << 0,
  PB_VST_FLAG_CAN_REPLACING = 1 << 4,
  PB_VST_FLAG_PROGRAM_CHUNKS = 1 << 5,
  PB_VST_FLAG_IS_SYNTH = 1 << 8,
  PB_VST_FLAG_NO_SOUND_IN_STOP = 1 << 9,
  PB_VST_FLAG_CAN_DOUBLE_REPLACING = 1 << 12,
};

/* Opcodes the host sends through the dispatcher. */
enum
{
  PB_VST_EFF_OPEN = 0,
  PB_VST_EFF_CLOSE = 1,
  PB_VST_EFF_SET_PROGRAM = 2,
  PB_VST_EFF_GET_PROGRAM = 3,
  PB_VST_EFF_SET_PROGRAM_NAME = 4,
  PB_VST_EFF_GET_PROGRAM_NAME = 5,
  PB_VST_EFF_GET_PARAM_LABEL = 6,
  PB_VST_EFF_GET_PARAM_DISPLAY = 7,
  PB_VST_EFF_GET_PARAM_NAME = 8,
  PB_VST_EFF_SET_SAMPLE_RATE = 10,
  PB_VST_EFF_SET_BLOCK_SIZE = 11,
  PB_VST_EFF_MAINS_CHANGED = 12,
  PB_VST_EFF_EDIT_GET_RECT = 13,
  PB_VST_EFF_EDIT_OPEN = 14,
  PB_VST_EFF_EDIT_CLOSE = 15,
  PB_VST_EFF_EDIT_IDLE = 19,
  PB_VST_EFF_GET_CHUNK = 23,
  PB_VST_EFF_SET_CHUNK = 24,
  PB_VST_EFF_PROCESS_EVENTS = 25,
  PB_VST_EFF_CAN_BE_AUTOMATED = 26,
  PB_VST_EFF_STRING_TO_PARAMETER = 27,
  PB_VST_EFF_GET_PROGRAM_NAME_INDEXED = 29,
  PB_VST_EFF_GET_INPUT_PROPERTIES = 33,
  PB_VST_EFF_GET_OUTPUT_PROPERTIES = 34,
  PB_VST_EFF_GET_PLUG_CATEGORY = 35,
  PB_VST_EFF_SET_SPEAKER_ARRANGEMENT = 42,
  PB_VST_EFF_SET_BYPASS = 44,
  PB_VST_EFF_GET_EFFECT_NAME = 45,
  PB_VST_EFF_GET_VENDOR_STRING = 47,
  PB_VST_EFF_GET_PRODUCT_STRING = 48,
  PB_VST_EFF_GET_VENDOR_VERSION = 49,
  PB_VST_EFF_VENDOR_SPECIFIC = 50,
  PB_VST_EFF_CAN_DO = 51,
  PB_VST_EFF_GET_TAIL_SIZE = 52,
  PB_VST_EFF_GET_PARAMETER_PROPERTIES = 56,
  PB_VST_EFF_GET_VST_VERSION = 58,
  PB_VST_EFF_BEGIN_SET_PROGRAM = 67,
  PB_VST_EFF_END_SET_PROGRAM = 68,
  PB_VST_EFF_START_PROCESS = 71,
  PB_VST_EFF_STOP_PROCESS = 72,
  PB_VST_EFF_SET_PROCESS_PRECISION = 77,
  PB_VST_EFF_GET_NUM_MIDI_INPUT_CHANNELS = 78,
  PB_VST_EFF_GET_NUM_MIDI_OUTPUT_CHANNELS = 79,
};

/* Opcodes a plugin sends to the host callback. */
enum
{
  PB_VST_HOST_AUTOMATE = 0,
  PB_VST_HOST_VERSION = 1,
  PB_VST_HOST_CURRENT_ID = 2,
  PB_VST_HOST_IDLE = 3,
  PB_VST_HOST_PIN_CONNECTED = 4,
  PB_VST_HOST_WANT_MIDI = 6,
  PB_VST_HOST_GET_TIME = 7,
  PB_VST_HOST_PROCESS_EVENTS = 8,
  PB_VST_HOST_IO_CHANGED = 13,
  PB_VST_HOST_SIZE_WINDOW = 15,
  PB_VST_HOST_GET_SAMPLE_RATE = 16,
  PB_VST_HOST_GET_BLOCK_SIZE = 17,
  PB_VST_HOST_GET_INPUT_LATENCY = 18,
  PB_VST_HOST_GET_OUTPUT_LATENCY = 19,
  PB_VST_HOST_GET_CURRENT_PROCESS_LEVEL = 23,
  PB_VST_HOST_GET_AUTOMATION_STATE = 24,
  PB_VST_HOST_GET_VENDOR_STRING = 32,
  PB_VST_HOST_GET_PRODUCT_STRING = 33,
  PB_VST_HOST_GET_VENDOR_VERSION = 34,
  PB_VST_HOST_VENDOR_SPECIFIC = 35,
  PB_VST_HOST_CAN_DO = 37,
  PB_VST_HOST_GET_LANGUAGE = 38,
  PB_VST_HOST_GET_DIRECTORY = 41,
  PB_VST_HOST_UPDATE_DISPLAY = 42,
  PB_VST_HOST_BEGIN_EDIT = 43,
  PB_VST_HOST_END_EDIT = 44,
  PB_VST_HOST_OPEN_FILE_SELECTOR = 45,
  PB_VST_HOST_CLOSE_FILE_SELECTOR = 46,
};

/* Plugin categories (effGetPlugCategory). */
enum
{
  PB_VST_CAT_UNKNOWN = 0,
  PB_VST_CAT_EFFECT = 1,
  PB_VST_CAT_SYNTH = 2,
  PB_VST_CAT_ANALYSIS = 3,
  PB_VST_CAT_MASTERING = 4,
  PB_VST_CAT_SPATIALIZER = 5,
  PB_VST_CAT_ROOM_FX = 6,
  PB_VST_CAT_SURROUND_FX = 7,
  PB_VST_CAT_RESTORATION = 8,
  PB_VST_CAT_OFFLINE = 9,
  PB_VST_CAT_SHELL = 10,
  PB_VST_CAT_GENERATOR = 11,
};

/* Process levels (audioMasterGetCurrentProcessLevel). */
enum
{
  PB_VST_LEVEL_UNKNOWN = 0,
  PB_VST_LEVEL_USER = 1,
  PB_VST_LEVEL_REALTIME = 2,
  PB_VST_LEVEL_PREFETCH = 3,
  PB_VST_LEVEL_OFFLINE = 4,
};

/* Fixed string sizes the format promises.  Plugins often write more, so
 * every buffer we hand a plugin is PB_VST_STR_BUF bytes and re-terminated
 * afterwards. */
#define PB_VST_PROG_NAME_LEN 24
#define PB_VST_PARAM_STR_LEN 8
#define PB_VST_VENDOR_STR_LEN 64
#define PB_VST_PRODUCT_STR_LEN 64
#define PB_VST_EFFECT_NAME_LEN 32
#define PB_VST_STR_BUF 512

/* Pin (input or output channel) properties. */
enum
{
  PB_VST_PIN_IS_ACTIVE = 1 << 0,
  PB_VST_PIN_IS_STEREO = 1 << 1,
  PB_VST_PIN_USE_SPEAKER = 1 << 2,
};

struct pb_vst_pin_props
{
  char label[64];
  int32_t flags; /* PB_VST_PIN_* */
  int32_t arrangement;
  char short_label[8];
  char future[48];
};
_Static_assert(sizeof(struct pb_vst_pin_props) == 128, "VST2 pin layout");

/* Parameter properties. */
enum
{
  PB_VST_PARAM_IS_SWITCH = 1 << 0,
  PB_VST_PARAM_USES_INT_MIN_MAX = 1 << 1,
  PB_VST_PARAM_USES_FLOAT_STEP = 1 << 2,
  PB_VST_PARAM_USES_INT_STEP = 1 << 3,
  PB_VST_PARAM_SUPPORTS_DISPLAY_INDEX = 1 << 4,
  PB_VST_PARAM_SUPPORTS_CATEGORY = 1 << 5,
  PB_VST_PARAM_CAN_RAMP = 1 << 6,
};

struct pb_vst_param_props
{
  float step;
  float small_step;
  float large_step;
  char label[64];
  int32_t flags; /* PB_VST_PARAM_* */
  int32_t min_int;
  int32_t max_int;
  int32_t step_int;
  int32_t large_step_int;
  char short_label[8];
  int16_t display_index;
  int16_t category;
  int16_t n_params_in_category;
  int16_t reserved;
  char category_label[24];
  char future[16];
};
_Static_assert(sizeof(struct pb_vst_param_props) == 152,
               "VST2 parameter properties layout");

/* Transport and time (audioMasterGetTime). */
enum
{
  PB_VST_TIME_CHANGED = 1 << 0,
  PB_VST_TIME_PLAYING = 1 << 1,
  PB_VST_TIME_CYCLE_ACTIVE = 1 << 2,
  PB_VST_TIME_RECORDING = 1 << 3,
  PB_VST_TIME_AUTOMATION_WRITING = 1 << 6,
  PB_VST_TIME_AUTOMATION_READING = 1 << 7,
  PB_VST_TIME_NANOS_VALID = 1 << 8,
  PB_VST_TIME_PPQ_POS_VALID = 1 << 9,
  PB_VST_TIME_TEMPO_VALID = 1 << 10,
  PB_VST_TIME_BARS_VALID = 1 << 11,
  PB_VST_TIME_CYCLE_POS_VALID = 1 << 12,
  PB_VST_TIME_SIG_VALID = 1 << 13,
  PB_VST_TIME_SMPTE_VALID = 1 << 14,
  PB_VST_TIME_CLOCK_VALID = 1 << 15,
};

struct pb_vst_time_info
{
  double sample_pos;
  double sample_rate;
  double nano_seconds;
  double ppq_pos;
  double tempo;
  double bar_start_pos;
  double cycle_start_pos;
  double cycle_end_pos;
  int32_t time_sig_numerator;
  int32_t time_sig_denominator;
  int32_t smpte_offset;
  int32_t smpte_frame_rate;
  int32_t samples_to_next_clock;
  int32_t flags; /* PB_VST_TIME_* */
};
_Static_assert(sizeof(struct pb_vst_time_info) == 88, "VST2 time layout");

/* Events (effProcessEvents / audioMasterProcessEvents). */
enum
{
  PB_VST_EVENT_MIDI = 1,
  PB_VST_EVENT_SYSEX = 6,
};

struct pb_vst_event
{
  int32_t type;
  int32_t byte_size; /* of the event, minus the first two members */
  int32_t delta_frames;
  int32_t flags;
  char data[16];
};

struct pb_vst_midi_event
{
  int32_t type; /* PB_VST_EVENT_MIDI */
  int32_t byte_size;
  int32_t delta_frames;
  int32_t flags;
  int32_t note_length;
  int32_t note_offset;
  unsigned char midi_data[4];
  char detune;
  unsigned char note_off_velocity;
  char reserved1;
  char reserved2;
};
_Static_assert(sizeof(struct pb_vst_midi_event) == 32, "VST2 MIDI layout");

struct pb_vst_sysex_event
{
  int32_t type; /* PB_VST_EVENT_SYSEX */
  int32_t byte_size;
  int32_t delta_frames;
  int32_t flags;
  int32_t dump_bytes;
  intptr_t reserved1;
  char* dump;
  intptr_t reserved2;
};

/* A list of events; the array really holds n_events pointers. */
struct pb_vst_events
{
  int32_t n_events;
  intptr_t reserved;
  struct pb_vst_event* events[2];
};

#endif /* PB_COMMON_VST2_ABI_H */
