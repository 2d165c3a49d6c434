/* The in-process audio reference; see ref_process.h.  Independent of the
 * bridge's code on purpose. */
#define _XOPEN_SOURCE 700 /* realpath */

#include "ref_process.h"

#include "common/vst2_abi.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TWO_PI 6.283185307179586

/* ------------------------------------------------------------ signal */

static uint32_t
mix(uint32_t x)
{
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

/* The signal as another process computed it (pb_ref_signal_load). */
static struct
{
  double* samples; /* PB_REF_MAX_CHANNELS rows of n_frames */
  uint32_t n_frames;
} table;

double
pb_ref_signal(uint32_t channel, uint32_t frame, float sample_rate)
{
  if (table.samples && channel < PB_REF_MAX_CHANNELS && frame < table.n_frames)
    return table.samples[(size_t)channel * table.n_frames + frame];
  const double t = (double)frame / (double)sample_rate;
  const double k = log(1000.0);
  const double phase = TWO_PI * 20.0 / k * (exp(k * t) - 1.0);
  double s = 0.5 * sin(phase + 0.1 * channel);
  if (t >= 0.5 && t < 0.6) {
    const uint32_t r = mix(frame * 2654435761u ^ (channel + 1u) * 40503u);
    s += 0.3 * ((double)r / 2147483648.0 - 1.0);
  }
  return s;
}

uint64_t
pb_ref_hash(const void* data, size_t len, uint64_t hash)
{
  const unsigned char* p = (const unsigned char*)data;
  for (size_t i = 0; i < len; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

/* ------------------------------------------------------------ host */

static struct
{
  float sample_rate;
  int32_t block;
  int processing;
  char directory[PATH_MAX];
  struct pb_vst_time_info time;
} host;

static const char* const can_do_yes[] = {
  "sendVstEvents",    "sendVstMidiEvent",    "sendVstTimeInfo",
  "receiveVstEvents", "receiveVstMidiEvent",
};

static intptr_t
can_do(const char* q)
{
  if (!q)
    return 0;
  for (size_t i = 0; i < sizeof(can_do_yes) / sizeof(can_do_yes[0]); ++i)
    if (!strcmp(q, can_do_yes[i]))
      return 1;
  return 0;
}

static intptr_t
time_info(void)
{
  memset(&host.time, 0, sizeof(host.time));
  host.time.sample_rate = host.sample_rate;
  host.time.tempo = 120.0;
  host.time.time_sig_numerator = 4;
  host.time.time_sig_denominator = 4;
  host.time.flags = PB_VST_TIME_NANOS_VALID | PB_VST_TIME_PPQ_POS_VALID |
                    PB_VST_TIME_TEMPO_VALID | PB_VST_TIME_BARS_VALID |
                    PB_VST_TIME_SIG_VALID;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  host.time.nano_seconds = (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
  return (intptr_t)&host.time;
}

static intptr_t
host_string(void* ptr, const char* text)
{
  if (!ptr)
    return 0;
  snprintf((char*)ptr, 64, "%s", text);
  return 1;
}

static intptr_t
host_cb(pb_vst_effect_t* effect,
        int32_t opcode,
        int32_t index,
        intptr_t value,
        void* ptr,
        float opt)
{
  (void)value;
  (void)opt;
  switch (opcode) {
    case PB_VST_HOST_VERSION:
      return 2400;
    case PB_VST_HOST_CURRENT_ID:
      return effect ? effect->unique_id : 0;
    case PB_VST_HOST_GET_TIME:
      return time_info();
    case PB_VST_HOST_PROCESS_EVENTS:
    case PB_VST_HOST_IO_CHANGED:
    case PB_VST_HOST_UPDATE_DISPLAY:
      return 1;
    case PB_VST_HOST_BEGIN_EDIT:
    case PB_VST_HOST_END_EDIT:
      return effect && index >= 0 && index < effect->num_params;
    case PB_VST_HOST_PIN_CONNECTED:
      return 0;
    case PB_VST_HOST_GET_SAMPLE_RATE:
      return (intptr_t)host.sample_rate;
    case PB_VST_HOST_GET_BLOCK_SIZE:
      return host.block;
    case PB_VST_HOST_GET_CURRENT_PROCESS_LEVEL:
      return host.processing ? PB_VST_LEVEL_REALTIME : PB_VST_LEVEL_USER;
    case PB_VST_HOST_GET_AUTOMATION_STATE:
      return 1;
    case PB_VST_HOST_GET_VENDOR_STRING:
      return host_string(ptr, "plugbox");
    case PB_VST_HOST_GET_PRODUCT_STRING:
      return host_string(ptr, "plugbox-bridge");
    case PB_VST_HOST_GET_VENDOR_VERSION:
      return 100;
    case PB_VST_HOST_CAN_DO:
      return can_do((const char*)ptr);
    case PB_VST_HOST_GET_LANGUAGE:
      return 1;
    case PB_VST_HOST_GET_DIRECTORY:
      return (intptr_t)host.directory;
    default:
      return 0;
  }
}

static void
set_directory(const char* path)
{
  char resolved[PATH_MAX];
  const char* p = realpath(path, resolved) ? resolved : path;
  const char* slash = strrchr(p, '/');
  if (!slash)
    snprintf(host.directory, sizeof(host.directory), ".");
  else if (slash == p)
    snprintf(host.directory, sizeof(host.directory), "/");
  else
    snprintf(
      host.directory, sizeof(host.directory), "%.*s", (int)(slash - p), p);
}

/* ------------------------------------------------------------ running */

static int
fail(pb_ref_result_t* r, const char* fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof(r->message), fmt, ap);
  va_end(ap);
  r->ok = 0;
  return 0;
}

static pb_vst_effect_t*
load(const char* path, pb_ref_result_t* r)
{
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fail(r, "dlopen: %s", dlerror());
    return NULL;
  }
  void* sym = dlsym(lib, "VSTPluginMain");
  if (!sym)
    sym = dlsym(lib, "main");
  if (!sym) {
    fail(r, "no entry point");
    return NULL;
  }
  pb_vst_host_cb_t cb = host_cb;
  pb_vst_effect_t* (*entry)(pb_vst_host_cb_t) = NULL;
  memcpy(&entry, &sym, sizeof(entry));
  pb_vst_effect_t* fx = entry(cb);
  if (!fx || fx->magic != PB_VST_MAGIC) {
    fail(r, "no effect");
    return NULL;
  }
  return fx;
}

static intptr_t
call(pb_vst_effect_t* fx, int32_t op, intptr_t value, float opt)
{
  return fx->dispatcher(fx, op, 0, value, NULL, opt);
}

static void
start(pb_vst_effect_t* fx, const pb_ref_job_t* job)
{
  call(fx, PB_VST_EFF_OPEN, 0, 0.0f);
  call(fx, PB_VST_EFF_SET_SAMPLE_RATE, 0, job->sample_rate);
  call(fx, PB_VST_EFF_SET_BLOCK_SIZE, job->max_block, 0.0f);
  call(fx, PB_VST_EFF_MAINS_CHANGED, 1, 0.0f);
  call(fx, PB_VST_EFF_START_PROCESS, 0, 0.0f);
}

typedef struct
{
  size_t sample;
  void* in[PB_REF_MAX_CHANNELS];
  void* out[PB_REF_MAX_CHANNELS];
} bufs_t;

static void
fill_input(const pb_ref_job_t* job,
           bufs_t* b,
           uint32_t n_in,
           uint32_t at,
           uint32_t n)
{
  for (uint32_t c = 0; c < n_in; ++c)
    for (uint32_t i = 0; i < n; ++i) {
      const double s = pb_ref_signal(c, at + i, job->sample_rate);
      if (job->dbl)
        ((double*)b->in[c])[i] = s;
      else
        ((float*)b->in[c])[i] = (float)s;
    }
}

static void
run_blocks(pb_vst_effect_t* fx,
           const pb_ref_job_t* job,
           bufs_t* b,
           uint32_t n_out,
           uint8_t* out,
           pb_ref_result_t* r)
{
  const uint32_t n_in = (uint32_t)fx->num_inputs;
  for (uint32_t at = 0; at < job->n_frames; at += job->block) {
    const uint32_t n =
      job->n_frames - at < job->block ? job->n_frames - at : job->block;
    fill_input(job, b, n_in, at, n);
    for (uint32_t c = 0; c < n_out; ++c)
      memset(b->out[c], 0, n * b->sample);
    host.processing = 1;
    if (job->dbl)
      fx->process_double_replacing(
        fx, (double**)b->in, (double**)b->out, (int32_t)n);
    else
      fx->process_replacing(fx, (float**)b->in, (float**)b->out, (int32_t)n);
    host.processing = 0;
    for (uint32_t c = 0; c < n_out; ++c)
      memcpy(out + ((size_t)c * job->n_frames + at) * b->sample,
             b->out[c],
             n * b->sample);
  }
  r->hash = pb_ref_hash(
    out, (size_t)n_out * job->n_frames * b->sample, PB_REF_HASH_SEED);
}

static int
alloc_bufs(bufs_t* b, const pb_ref_job_t* job, uint32_t n_in, uint32_t n_out)
{
  memset(b, 0, sizeof(*b));
  b->sample = job->dbl ? sizeof(double) : sizeof(float);
  const size_t bytes = ((job->block * b->sample + 63u) / 64u) * 64u;
  for (uint32_t c = 0; c < n_in; ++c)
    if (!(b->in[c] = aligned_alloc(64, bytes)))
      return -1;
  for (uint32_t c = 0; c < n_out; ++c)
    if (!(b->out[c] = aligned_alloc(64, bytes)))
      return -1;
  return 0;
}

static void
free_bufs(bufs_t* b)
{
  for (uint32_t c = 0; c < PB_REF_MAX_CHANNELS; ++c) {
    free(b->in[c]);
    free(b->out[c]);
  }
}

static int
check_effect(const pb_vst_effect_t* fx,
             const pb_ref_job_t* job,
             pb_ref_result_t* r)
{
  r->n_in = fx->num_inputs;
  r->n_out = fx->num_outputs;
  if (fx->num_inputs < 0 || fx->num_inputs > PB_REF_MAX_CHANNELS ||
      fx->num_outputs < 0 || fx->num_outputs > PB_REF_MAX_CHANNELS)
    return fail(r, "%d in, %d out", fx->num_inputs, fx->num_outputs);
  if (job->dbl ? !fx->process_double_replacing : !fx->process_replacing)
    return fail(r, "no process function");
  return 1;
}

int
pb_ref_process(const pb_ref_job_t* job,
               void* out,
               size_t out_samples,
               pb_ref_result_t* r)
{
  memset(r, 0, sizeof(*r));
  host.sample_rate = job->sample_rate;
  host.block = job->max_block;
  set_directory(job->path);
  pb_vst_effect_t* fx = load(job->path, r);
  if (!fx || !check_effect(fx, job, r))
    return 0;
  start(fx, job);
  const uint32_t n_out = (uint32_t)fx->num_outputs;
  const size_t sample = job->dbl ? sizeof(double) : sizeof(float);
  const size_t need = (size_t)n_out * job->n_frames;
  uint8_t* all = (uint8_t*)malloc(need ? need * sample : 1u);
  bufs_t b;
  if (!all || alloc_bufs(&b, job, (uint32_t)fx->num_inputs, n_out)) {
    free(all);
    return fail(r, "out of memory");
  }
  run_blocks(fx, job, &b, n_out, all, r);
  if (out && out_samples >= need)
    memcpy(out, all, need * sample);
  call(fx, PB_VST_EFF_STOP_PROCESS, 0, 0.0f);
  call(fx, PB_VST_EFF_MAINS_CHANGED, 0, 0.0f);
  call(fx, PB_VST_EFF_CLOSE, 0, 0.0f);
  free_bufs(&b);
  free(all);
  r->ok = 1;
  return 1;
}

/* ------------------------------------------------------------ child */

static int64_t
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
child_main(const pb_ref_job_t* job, int fd)
{
  static const int crash_signals[] = { SIGSEGV, SIGBUS,  SIGILL,
                                       SIGFPE,  SIGABRT, SIGSYS };
  for (size_t i = 0; i < sizeof(crash_signals) / sizeof(int); ++i)
    signal(crash_signals[i], SIG_DFL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int null_fd = open("/dev/null", O_WRONLY);
  if (null_fd >= 0) {
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
  }
  pb_ref_result_t r;
  pb_ref_process(job, NULL, 0, &r);
  const ssize_t n = write(fd, &r, sizeof(r));
  _exit(n == (ssize_t)sizeof(r) ? 0 : 3);
}

static int
read_result(int fd, pb_ref_result_t* r, int64_t deadline_ms)
{
  size_t got = 0;
  while (got < sizeof(*r)) {
    const int64_t left = deadline_ms - now_ms();
    struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
    if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
      return fail(r, "no answer in time");
    const ssize_t n = read(fd, (char*)r + got, sizeof(*r) - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail(r, "the child died");
    got += (size_t)n;
  }
  return 1;
}

int
pb_ref_process_in_child(const pb_ref_job_t* job,
                        uint32_t timeout_ms,
                        pb_ref_result_t* r)
{
  memset(r, 0, sizeof(*r));
  int fds[2];
  if (pipe(fds) != 0)
    return fail(r, "pipe: %s", strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return fail(r, "fork failed");
  }
  if (pid == 0) {
    close(fds[0]);
    child_main(job, fds[1]);
  }
  close(fds[1]);
  const int ok = read_result(fds[0], r, now_ms() + timeout_ms);
  close(fds[0]);
  if (!ok)
    kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  return ok && r->ok;
}

/* ------------------------------------------------ the 32-bit helper */

/* pb_ref32 and a 64-bit test do not share pb_ref_result_t's layout (the
 * uint64_t is 4-aligned on i386), so the result crosses as one text line:
 * "ok n_in n_out hash message". */
int
pb_ref_process_write(const pb_ref_job_t* job, int fd)
{
  pb_ref_result_t r;
  pb_ref_process(job, NULL, 0, &r);
  char line[512];
  const int n = snprintf(line,
                         sizeof(line),
                         "%d %d %d %016llx %s\n",
                         r.ok,
                         (int)r.n_in,
                         (int)r.n_out,
                         (unsigned long long)r.hash,
                         r.ok ? "-" : r.message);
  if (n <= 0 || (size_t)n >= sizeof(line))
    return -1;
  return write(fd, line, (size_t)n) == n ? 0 : -1;
}

static void
exec_helper(const char* helper, const pb_ref_job_t* job, int fd)
{
  char args[6][32];
  snprintf(args[0], sizeof(args[0]), "%.9g", (double)job->sample_rate);
  snprintf(args[1], sizeof(args[1]), "%d", (int)job->max_block);
  snprintf(args[2], sizeof(args[2]), "%u", (unsigned)job->block);
  snprintf(args[3], sizeof(args[3]), "%u", (unsigned)job->n_frames);
  snprintf(args[4], sizeof(args[4]), "%d", job->dbl);
  snprintf(args[5], sizeof(args[5]), "%d", fd);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  execl(helper,
        helper,
        "process",
        job->path,
        args[0],
        args[1],
        args[2],
        args[3],
        args[4],
        args[5],
        (char*)NULL);
  _exit(127);
}

static int
read_line(int fd, char* line, size_t cap, int64_t deadline_ms)
{
  size_t got = 0;
  while (got + 1 < cap) {
    const int64_t left = deadline_ms - now_ms();
    struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
    if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
      return -1;
    const ssize_t n = read(fd, line + got, cap - 1 - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  line[got] = '\0';
  return got > 0 ? 0 : -1;
}

static int
parse_line(const char* line, pb_ref_result_t* r)
{
  int ok = 0;
  int n_in = 0;
  int n_out = 0;
  unsigned long long hash = 0;
  int used = 0;
  if (sscanf(line, "%d %d %d %llx %n", &ok, &n_in, &n_out, &hash, &used) < 4)
    return fail(r, "malformed answer from the helper: %s", line);
  r->ok = ok;
  r->n_in = n_in;
  r->n_out = n_out;
  r->hash = hash;
  snprintf(r->message, sizeof(r->message), "%s", line + used);
  r->message[strcspn(r->message, "\n")] = '\0';
  return r->ok;
}

int
pb_ref_process_exec(const char* helper,
                    const pb_ref_job_t* job,
                    uint32_t timeout_ms,
                    pb_ref_result_t* r)
{
  memset(r, 0, sizeof(*r));
  int fds[2];
  if (pipe(fds) != 0)
    return fail(r, "pipe: %s", strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return fail(r, "fork failed");
  }
  if (pid == 0) {
    close(fds[0]);
    exec_helper(helper, job, fds[1]);
  }
  close(fds[1]);
  char line[512];
  const int got = read_line(fds[0], line, sizeof(line), now_ms() + timeout_ms);
  close(fds[0]);
  if (got != 0)
    kill(pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (got != 0)
    return fail(r, "no answer from %s (wait status %d)", helper, wstatus);
  return parse_line(line, r);
}

int
pb_ref_signal_save(const char* path, uint32_t n_frames, float sample_rate)
{
  FILE* file = fopen(path, "wb");
  if (!file)
    return -1;
  int err = 0;
  for (uint32_t c = 0; c < PB_REF_MAX_CHANNELS && !err; ++c)
    for (uint32_t i = 0; i < n_frames && !err; ++i) {
      const double s = pb_ref_signal(c, i, sample_rate);
      err = fwrite(&s, sizeof(s), 1, file) != 1;
    }
  return fclose(file) != 0 || err ? -1 : 0;
}

int
pb_ref_signal_load(const char* path)
{
  FILE* file = fopen(path, "rb");
  if (!file)
    return -1;
  int err = fseek(file, 0, SEEK_END);
  const long size = err ? -1 : ftell(file);
  const size_t row = PB_REF_MAX_CHANNELS * sizeof(double);
  if (size <= 0 || (size_t)size % row != 0 || fseek(file, 0, SEEK_SET) != 0) {
    fclose(file);
    return -1;
  }
  double* samples = malloc((size_t)size);
  if (!samples || fread(samples, 1, (size_t)size, file) != (size_t)size) {
    free(samples);
    fclose(file);
    return -1;
  }
  fclose(file);
  free(table.samples);
  table.samples = samples;
  table.n_frames = (uint32_t)((size_t)size / row);
  return 0;
}
