/* pb_test_faulty: the fault matrix in one plugin.  An ordinary stereo
 * effect (output = input * 2 * "Level", two parameters, four programs,
 * bank and program chunks) that misbehaves on demand:
 *
 *   canDo("faulty:arm:FAULT:ENTRY")  answers 1 and arms FAULT for the next
 *                                    time ENTRY is reached (once)
 *
 * ENTRY is one of param_get (getParameter), param_display
 * (effGetParamDisplay), param_set (setParameter), chunk_get, chunk_set,
 * process (processReplacing), close (effClose).  A fault at open cannot be
 * armed from outside, so the build also makes one copy per fault,
 * pb_test_faulty_open_FAULT.so, compiled with PB_FAULTY_OPEN set to the
 * fault's number, that fires it in effOpen.  Arming through canDo keeps
 * the fault out of the plugin's state: a host that restores the state
 * after a crash never re-arms it.
 *
 * FAULT (the numbers are the indexes of fault_names):
 *   segv abort fpe ill bus exit _exit stack memory loop sleep close_fd
 *   garbage_fd shm_garbage lie long_string nan killpg stop hide_hang
 *   fake_hang silent
 * The last three have no pb_test_faulty_open_* copy (faults.cmake): the
 * hangs act on the audio doorbells, which do not exist yet at open, and
 * silent acts in process only.
 *   hide_hang  make the shared doorbell words agree (request_seq =
 *              done_seq), as if no block were pending, and keep moving
 *              them (never onto the host's number), forever
 *   fake_hang  change done_seq, as if a block were pending, and return
 *   silent     leave the outputs as they are (the host zeroes them) */
#define _GNU_SOURCE /* memfd_create, MAP_ANONYMOUS */

#include "plugin_base.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum
{
  N_PARAMS = 2,
  N_PROGRAMS = 4,
  MEMORY_CAP_MB = 384,
};

enum fault
{
  F_NONE,
  F_SEGV,
  F_ABORT,
  F_FPE,
  F_ILL,
  F_BUS,
  F_EXIT,
  F__EXIT,
  F_STACK,
  F_MEMORY,
  F_LOOP,
  F_SLEEP,
  F_CLOSE_FD,
  F_GARBAGE_FD,
  F_SHM_GARBAGE,
  F_LIE,
  F_LONG_STRING,
  F_NAN,
  F_KILLPG,
  F_STOP,
  F_HIDE_HANG,
  F_FAKE_HANG,
  F_SILENT,
  N_FAULTS
};

/* An unmapped address.  Volatile, so the compiler cannot see the fault
 * coming and warn about (or drop) the store. */
static volatile uintptr_t low_address = 16;

static const char* const fault_names[N_FAULTS] = {
  "none",     "segv",       "abort",       "fpe",       "ill",         "bus",
  "exit",     "_exit",      "stack",       "memory",    "loop",        "sleep",
  "close_fd", "garbage_fd", "shm_garbage", "lie",       "long_string", "nan",
  "killpg",   "stop",       "hide_hang",   "fake_hang", "silent",
};

enum entry
{
  E_OPEN,
  E_PARAM_GET,
  E_PARAM_DISPLAY,
  E_PARAM_SET,
  E_CHUNK_GET,
  E_CHUNK_SET,
  E_PROCESS,
  E_CLOSE,
  N_ENTRIES
};

static const char* const entry_names[N_ENTRIES] = {
  "open",      "param_get", "param_display", "param_set",
  "chunk_get", "chunk_set", "process",       "close",
};

/* The chunk: magic, program, the two values of every program. */
#define CHUNK_MAGIC 0x50624674u /* 'PbFt' */

typedef struct
{
  uint32_t magic;
  int32_t program;
  float values[N_PROGRAMS][N_PARAMS];
} chunk_t;

typedef struct
{
  pb_tp_plugin_t base;
  float values[N_PROGRAMS][N_PARAMS];
  int32_t program;
  int armed_fault;
  int armed_entry;
  chunk_t chunk;
} faulty_t;

static const char* const param_names[N_PARAMS] = { "Level", "Colour" };
static const char* const program_names[N_PROGRAMS] = { "Zero",
                                                       "One",
                                                       "Two",
                                                       "Three" };
static const char* const yes[] = { "bypass", NULL };
static const char* const no[] = { NULL };

static const pb_tp_desc_t desc = {
  .name = "plugbox test faulty",
  .vendor = "plugbox tests",
  .product = "plugbox test faulty",
  .vendor_version = 1,
  .category = PB_VST_CAT_EFFECT,
  .vst_version = 2400,
  .can_do_yes = yes,
  .can_do_no = no,
};

static faulty_t*
self_of(pb_vst_effect_t* effect)
{
  return (faulty_t*)effect->object;
}

/* ---------------------------------------------------------------- faults */

static volatile int stack_limit = 1 << 30; /* never reached */

static int
overflow(int depth)
{
  volatile char pad[4096];
  pad[0] = (char)depth;
  if (depth >= stack_limit)
    return 0;
  return overflow(depth + 1) + pad[0];
}

/* An integer division the compiler cannot fold away: idiv traps on 0. */
static int
divide(int a, int b)
{
#if defined(__x86_64__) || defined(__i386__)
  __asm__ volatile("cltd\n\tidivl %1" : "+a"(a) : "r"(b) : "edx", "cc");
  return a;
#else
  return a / b;
#endif
}

static void
exhaust_memory(void)
{
  for (int mb = 0; mb < MEMORY_CAP_MB; mb += 16) {
    char* p = mmap(NULL,
                   16u << 20,
                   PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS,
                   -1,
                   0);
    if (p == MAP_FAILED)
      break;
    p[0] = 1; /* address space runs out long before the machine's RAM */
  }
  /* What a plugin that does not check malloc does next. */
  *(volatile int*)(low_address - 8) = 1;
}

static void
bus_error(void)
{
  const int fd = memfd_create("faulty", 0);
  if (fd >= 0) {
    volatile char* p =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED)
      p[0] = 1; /* past the end of an empty file */
  }
  raise(SIGBUS);
}

/* The shared block, found by its memfd name in our own maps; NULL if
 * there is none. */
static volatile uint32_t*
find_shm(void)
{
  FILE* maps = fopen("/proc/self/maps", "r");
  char line[512];
  volatile uint32_t* w = NULL;
  while (maps && !w && fgets(line, sizeof line, maps)) {
    unsigned long lo = 0;
    if (strstr(line, "memfd:plugbox-shm") && strstr(line, "rw") &&
        sscanf(line, "%lx-", &lo) == 1)
      w = (volatile uint32_t*)(uintptr_t)lo;
  }
  if (maps)
    fclose(maps);
  return w;
}

static void
scribble_shm(void)
{
  volatile uint32_t* w = find_shm();
  if (!w)
    return;
  w[8] ^= 0x5a5a5a5au;               /* request_seq */
  w[9] = 0xdeadbeefu;                /* done_seq */
  for (int i = 16; i < 4096; i += 7) /* counts in the request/reply */
    w[i] = 0xffffffffu;
}

/* The doorbell words (request_seq, done_seq) of the shared header. */
_Noreturn static void
hide_hang(void)
{
  volatile uint32_t* w = find_shm();
  for (;;) {
    /* The done word keeps moving, two at a time: past the host's number,
     * never onto it. */
    if (w) {
      w[9] += 2u;
      w[8] = w[9];
    }
    (void)usleep(20000);
  }
}

static void
fake_hang(void)
{
  volatile uint32_t* w = find_shm();
  if (w)
    w[9] += 7u;
}

static void
lie_io(faulty_t* self)
{
  self->base.effect.num_inputs = 4096;
  self->base.effect.num_outputs = -7;
  (void)self->base.host(
    &self->base.effect, PB_VST_HOST_IO_CHANGED, 0, 0, NULL, 0.0f);
}

static void
fire(faulty_t* self, int fault)
{
  volatile int zero = 0;
  static const char garbage[] = "\xff\xff\xff\x7fnot a frame at all";
  switch (fault) {
    case F_SEGV:
      *(volatile int*)low_address = 1;
      break;
    case F_ABORT:
      abort();
    case F_FPE:
      zero = divide(1, zero);
      raise(SIGFPE);
      break;
    case F_ILL:
      __asm__ volatile("ud2");
      break;
    case F_BUS:
      bus_error();
      break;
    case F_EXIT:
      exit(3);
    case F__EXIT:
      _exit(4);
    case F_STACK:
      zero = overflow(0);
      break;
    case F_MEMORY:
      exhaust_memory();
      break;
    case F_LOOP:
      for (;;)
        ++zero;
    case F_SLEEP:
      for (;;)
        sleep(1000);
    case F_CLOSE_FD:
      close(3);
      break;
    case F_GARBAGE_FD:
      (void)!write(3, garbage, sizeof garbage);
      break;
    case F_SHM_GARBAGE:
      scribble_shm();
      break;
    case F_LIE:
      lie_io(self);
      break;
    case F_KILLPG:
      kill(0, SIGKILL);
      break;
    case F_STOP:
      raise(SIGSTOP);
      break;
    case F_HIDE_HANG:
      hide_hang();
    case F_FAKE_HANG:
      fake_hang();
      break;
    default: /* long_string and nan act where they can (see below) */
      break;
  }
}

/* The armed fault if `entry` is its entry point (disarming it), else 0. */
static int
take(faulty_t* self, int entry)
{
  if (self->armed_entry != entry || self->armed_fault == F_NONE)
    return F_NONE;
  const int fault = self->armed_fault;
  self->armed_fault = F_NONE;
  fire(self, fault);
  return fault;
}

static int
arm(faulty_t* self, const char* what)
{
  static const char prefix[] = "faulty:arm:";
  if (strncmp(what, prefix, sizeof prefix - 1))
    return 0;
  const char* rest = what + sizeof prefix - 1;
  for (int f = 1; f < N_FAULTS; ++f) {
    const size_t n = strlen(fault_names[f]);
    if (strncmp(rest, fault_names[f], n) || rest[n] != ':')
      continue;
    for (int e = 1; e < N_ENTRIES; ++e)
      if (!strcmp(rest + n + 1, entry_names[e])) {
        self->armed_fault = f;
        self->armed_entry = e;
        return 1;
      }
  }
  return -1;
}

/* ------------------------------------------------------------- plugin */

static intptr_t
get_chunk(faulty_t* self, void* ptr)
{
  static char tiny[64];
  if (take(self, E_CHUNK_GET) == F_LIE) {
    *(void**)ptr = tiny; /* claims 48 MiB behind a 64-byte buffer */
    return 48 << 20;
  }
  self->chunk.magic = CHUNK_MAGIC;
  self->chunk.program = self->program;
  memcpy(self->chunk.values, self->values, sizeof self->values);
  *(void**)ptr = &self->chunk;
  return (intptr_t)sizeof self->chunk;
}

static intptr_t
set_chunk(faulty_t* self, const void* data, intptr_t size)
{
  (void)take(self, E_CHUNK_SET);
  chunk_t c;
  if (!data || size != (intptr_t)sizeof c)
    return 0;
  memcpy(&c, data, sizeof c);
  if (c.magic != CHUNK_MAGIC || c.program < 0 || c.program >= N_PROGRAMS)
    return 0;
  self->program = c.program;
  memcpy(self->values, c.values, sizeof self->values);
  return 1;
}

static intptr_t
param_display(faulty_t* self, int32_t index, char* text)
{
  if (take(self, E_PARAM_DISPLAY) == F_LONG_STRING) {
    memset(text, 'A', 2048); /* no terminator, four times the buffer */
    return 0;
  }
  if (index < 0 || index >= N_PARAMS)
    return 0;
  return snprintf(text, 24, "%.3f", (double)self->values[self->program][index]);
}

static intptr_t
dispatcher(pb_vst_effect_t* effect,
           int32_t opcode,
           int32_t index,
           intptr_t value,
           void* ptr,
           float opt)
{
  faulty_t* self = self_of(effect);
  switch (opcode) {
    case PB_VST_EFF_OPEN:
#ifdef PB_FAULTY_OPEN
      fire(self, PB_FAULTY_OPEN);
#endif
      return 0;
    case PB_VST_EFF_CLOSE:
      (void)take(self, E_CLOSE);
      break;
    case PB_VST_EFF_CAN_DO: {
      const int armed = ptr ? arm(self, (const char*)ptr) : 0;
      if (armed)
        return armed;
      break;
    }
    case PB_VST_EFF_SET_PROGRAM:
      if (value >= 0 && value < N_PROGRAMS)
        self->program = (int32_t)value;
      return 0;
    case PB_VST_EFF_GET_PROGRAM:
      return self->program;
    case PB_VST_EFF_GET_PROGRAM_NAME:
      return pb_tp_str_copy(ptr, program_names[self->program], 24);
    case PB_VST_EFF_GET_PROGRAM_NAME_INDEXED:
      if (index < 0 || index >= N_PROGRAMS)
        return 0;
      return pb_tp_str_copy(ptr, program_names[index], 24);
    case PB_VST_EFF_GET_PARAM_NAME:
      if (index < 0 || index >= N_PARAMS)
        return 0;
      return pb_tp_str_copy(ptr, param_names[index], 32);
    case PB_VST_EFF_GET_PARAM_DISPLAY:
      return param_display(self, index, (char*)ptr);
    case PB_VST_EFF_GET_CHUNK:
      return get_chunk(self, ptr);
    case PB_VST_EFF_SET_CHUNK:
      return set_chunk(self, ptr, value);
    default:
      break;
  }
  return pb_tp_dispatch_default(effect, opcode, index, value, ptr, opt);
}

static void
set_parameter(pb_vst_effect_t* effect, int32_t index, float value)
{
  faulty_t* self = self_of(effect);
  (void)take(self, E_PARAM_SET);
  if (index >= 0 && index < N_PARAMS)
    self->values[self->program][index] = pb_tp_clamp01(value);
}

static float
get_parameter(pb_vst_effect_t* effect, int32_t index)
{
  faulty_t* self = self_of(effect);
  if (take(self, E_PARAM_GET) == F_NAN)
    return NAN;
  if (index < 0 || index >= N_PARAMS)
    return 0.0f;
  return self->values[self->program][index];
}

static void
process(pb_vst_effect_t* effect,
        float** inputs,
        float** outputs,
        int32_t n_frames)
{
  faulty_t* self = self_of(effect);
  const int fault = take(self, E_PROCESS);
  if (fault == F_SILENT)
    return;
  const float gain = 2.0f * self->values[self->program][0];
  for (int c = 0; c < 2; ++c)
    for (int32_t i = 0; i < n_frames; ++i)
      outputs[c][i] = inputs[c][i] * gain;
  if (fault == F_NAN)
    for (int32_t i = 0; i < n_frames; ++i) {
      outputs[0][i] = NAN;
      outputs[1][i] = i % 2 ? INFINITY : -INFINITY;
    }
}

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  if (!host)
    return NULL;
  faulty_t* self =
    (faulty_t*)pb_tp_plugin_new(sizeof(faulty_t), host, &desc, dispatcher);
  if (!self)
    return NULL;
  for (int p = 0; p < N_PROGRAMS; ++p) {
    self->values[p][0] = 0.5f;
    self->values[p][1] = 0.25f * (float)p;
  }
  pb_vst_effect_t* effect = &self->base.effect;
  effect->set_parameter = set_parameter;
  effect->get_parameter = get_parameter;
  effect->process_replacing = process;
  effect->num_params = N_PARAMS;
  effect->num_programs = N_PROGRAMS;
  effect->num_inputs = 2;
  effect->num_outputs = 2;
  effect->flags = PB_VST_FLAG_CAN_REPLACING | PB_VST_FLAG_PROGRAM_CHUNKS;
  effect->unique_id = PB_TP_ID('P', 'b', 'F', 't');
  effect->version = 1;
  return effect;
}
