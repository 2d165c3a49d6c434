/* The reference loader in a forked child: the description crosses a pipe
 * back to the parent; see ref_vst2.h.  The same wire (fixed widths, little
 * endian) crosses from the 32-bit helper pb_ref32 to a 64-bit test. */
#define _POSIX_C_SOURCE 200809L

#include "ref_vst2.h"

#include <errno.h>
#include <fcntl.h>
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

#define REF_CHILD_TIMEOUT_MS 10000u
#define REF_WIRE_MAGIC 0x50625266u /* 'PbRf' */

static pb_ref_status_t
fail(pb_ref_info_t* out, pb_ref_status_t status, const char* format, ...)
{
  va_list args;
  va_start(args, format);
  vsnprintf(out->message, sizeof(out->message), format, args);
  va_end(args);
  out->status = status;
  return status;
}

/* ------------------------------------------- the description on the wire */

/* One walk over a description both writes it (encode) and reads it back
 * (decode), so the two can't disagree.  Native byte order: both ends are
 * this process and its child, or pb_ref32 on the same machine. */
typedef struct
{
  int decode;
  int failed; /* out of memory, or a malformed reply */
  unsigned char* data;
  size_t len, cap, pos;
} codec_t;

static void
c_bytes(codec_t* c, void* bytes, size_t n)
{
  if (c->failed || n == 0)
    return;
  if (c->decode) {
    if (n > c->len - c->pos) {
      c->failed = 1;
      return;
    }
    memcpy(bytes, c->data + c->pos, n);
    c->pos += n;
    return;
  }
  if (n > c->cap - c->len) {
    size_t cap = c->cap ? c->cap : 4096;
    while (n > cap - c->len)
      cap *= 2;
    unsigned char* data = realloc(c->data, cap);
    if (!data) {
      c->failed = 1;
      return;
    }
    c->data = data;
    c->cap = cap;
  }
  memcpy(c->data + c->len, bytes, n);
  c->len += n;
}

static void
c_i32(codec_t* c, int32_t* value)
{
  c_bytes(c, value, sizeof(*value));
}

static void
c_u32(codec_t* c, uint32_t* value)
{
  c_bytes(c, value, sizeof(*value));
}

static void
c_f32(codec_t* c, float* value)
{
  c_bytes(c, value, sizeof(*value));
}

static void
c_str(codec_t* c, char** text)
{
  uint32_t len = 0;
  if (!c->decode)
    len = *text ? (uint32_t)strlen(*text) : 0u;
  c_u32(c, &len);
  if (c->failed)
    return;
  if (c->decode) {
    if (len > c->len - c->pos || !(*text = malloc((size_t)len + 1))) {
      c->failed = 1;
      return;
    }
    (*text)[len] = '\0';
  }
  c_bytes(c, len ? *text : NULL, len);
}

/* A count then room for that many zeroed elements when decoding. */
static void
c_array(codec_t* c, void** array, int32_t* n, size_t size)
{
  c_i32(c, n);
  if (c->failed || !c->decode)
    return;
  if (*n < 0 || *n > PB_REF_MAX_COUNT) {
    *n = 0;
    c->failed = 1;
    return;
  }
  *array = calloc(*n > 0 ? (size_t)*n : 1u, size);
  if (!*array)
    c->failed = 1;
}

static void
walk_param(codec_t* c, pb_ref_param_t* p)
{
  c_str(c, &p->name);
  c_str(c, &p->label);
  c_str(c, &p->display);
  c_f32(c, &p->value);
  c_i32(c, &p->automatable);
  c_i32(c, &p->has_properties);
  c_u32(c, &p->prop_flags);
  c_f32(c, &p->step);
  c_f32(c, &p->small_step);
  c_f32(c, &p->large_step);
  int32_t* ints[] = { &p->min_int,        &p->max_int,       &p->step_int,
                      &p->large_step_int, &p->display_index, &p->category,
                      &p->n_in_category };
  for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); ++i)
    c_i32(c, ints[i]);
  c_str(c, &p->prop_label);
  c_str(c, &p->short_label);
  c_str(c, &p->category_label);
}

static void
walk_pins(codec_t* c, pb_ref_pin_t** pins, int32_t* n)
{
  c_array(c, (void**)pins, n, sizeof(pb_ref_pin_t));
  for (int32_t i = 0; !c->failed && i < *n; ++i) {
    c_str(c, &(*pins)[i].label);
    c_str(c, &(*pins)[i].short_label);
    c_u32(c, &(*pins)[i].flags);
    c_i32(c, &(*pins)[i].arrangement);
  }
}

static void
walk_info(codec_t* c, pb_ref_info_t* info)
{
  uint32_t magic = REF_WIRE_MAGIC;
  c_u32(c, &magic);
  if (magic != REF_WIRE_MAGIC)
    c->failed = 1;
  int32_t status = (int32_t)info->status;
  c_i32(c, &status);
  info->status = (pb_ref_status_t)status;
  c_bytes(c, info->message, sizeof(info->message));
  info->message[sizeof(info->message) - 1] = '\0';
  char** strings[] = {
    &info->path, &info->arch, &info->name, &info->vendor, &info->product
  };
  for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); ++i)
    c_str(c, strings[i]);
  int32_t* ints[] = {
    &info->vendor_version,     &info->unique_id,
    &info->plugin_version,     &info->vst_version,
    &info->category,           &info->initial_delay,
    &info->n_midi_in_channels, &info->n_midi_out_channels,
    &info->tail_size,          &info->current_program,
  };
  for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); ++i)
    c_i32(c, ints[i]);
  c_bytes(c, info->unique_id_text, sizeof(info->unique_id_text));
  info->unique_id_text[4] = '\0';
  c_u32(c, &info->flags);
  walk_pins(c, &info->inputs, &info->n_inputs);
  walk_pins(c, &info->outputs, &info->n_outputs);
  c_array(c, (void**)&info->params, &info->n_params, sizeof(pb_ref_param_t));
  for (int32_t i = 0; !c->failed && i < info->n_params; ++i)
    walk_param(c, &info->params[i]);
  c_array(c, (void**)&info->program_names, &info->n_programs, sizeof(char*));
  for (int32_t i = 0; !c->failed && i < info->n_programs; ++i)
    c_str(c, &info->program_names[i]);
  c_array(c, (void**)&info->can_do, &info->n_can_do, sizeof(pb_ref_can_do_t));
  for (int32_t i = 0; !c->failed && i < info->n_can_do; ++i) {
    c_str(c, &info->can_do[i].name);
    c_i32(c, &info->can_do[i].answer);
  }
}

/* --------------------------------------------------------- the child */

static int
write_all(int fd, const unsigned char* data, size_t len)
{
  while (len > 0) {
    const ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Describe, send, and leave without running anything of the parent's
 * (atexit handlers, stdio buffers) or unloading the plugin. */
static void
child_main(const char* path, int fd)
{
  /* A test framework's handlers would turn a crash into something else. */
  static const int crash_signals[] = { SIGSEGV, SIGBUS,  SIGILL,
                                       SIGFPE,  SIGABRT, SIGSYS };
  for (size_t i = 0; i < sizeof(crash_signals) / sizeof(int); ++i)
    signal(crash_signals[i], SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int null_fd = open("/dev/null", O_WRONLY);
  if (null_fd >= 0) {
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
  }
  _exit(pb_ref_describe_write(path, fd) == 0 ? 0 : 3);
}

int
pb_ref_describe_write(const char* path, int fd)
{
  pb_ref_info_t info;
  void* handle = NULL;
  pb_ref_describe_open(path, &info, &handle);
  codec_t c = { 0 };
  walk_info(&c, &info);
  return c.failed || write_all(fd, c.data, c.len) != 0 ? -1 : 0;
}

static int64_t
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read until EOF or the deadline; returns 0 at EOF, 1 past the deadline,
 * -1 on an error. */
static int
read_reply(int fd, codec_t* c, int64_t deadline_ms)
{
  unsigned char chunk[65536];
  for (;;) {
    const int64_t left = deadline_ms - now_ms();
    if (left <= 0)
      return 1;
    struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
    const int ready = poll(&pfd, 1, (int)left);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0)
      return -1;
    if (ready == 0)
      return 1;
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n == 0 ? 0 : -1;
    c_bytes(c, chunk, (size_t)n);
    if (c->failed || c->len > 256u * 1024u * 1024u)
      return -1;
  }
}

/* Reap the child by the deadline, killing it past it; returns 1 if it had
 * to be killed. */
static int
reap(pid_t pid, int* wstatus, int64_t deadline_ms)
{
  for (;;) {
    const pid_t done = waitpid(pid, wstatus, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR))
      return 0;
    if (now_ms() >= deadline_ms)
      break;
    const struct timespec pause = { .tv_sec = 0, .tv_nsec = 2000000 };
    nanosleep(&pause, NULL);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR) {
  }
  return 1;
}

static pb_ref_status_t
child_result(pb_ref_info_t* out,
             int wstatus,
             codec_t* c,
             int killed,
             uint32_t timeout_ms)
{
  if (killed)
    return fail(
      out, PB_REF_ERR_TIMEOUT, "no answer within %u ms", (unsigned)timeout_ms);
  if (WIFSIGNALED(wstatus))
    return fail(out,
                PB_REF_ERR_CRASHED,
                "killed by signal %d (%s)",
                WTERMSIG(wstatus),
                strsignal(WTERMSIG(wstatus)));
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
    return fail(out,
                PB_REF_ERR_CRASHED,
                "exited with code %d",
                WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
  c->decode = 1;
  walk_info(c, out);
  if (c->failed || c->pos != c->len) {
    pb_ref_info_fini(out);
    return fail(out, PB_REF_ERR_IO, "malformed reply from the child");
  }
  return out->status;
}

/* In the child of pb_ref_describe_exec(): run `helper describe PATH FD`. */
static void
exec_helper(const char* helper, const char* path, int fd)
{
  char fd_text[16];
  snprintf(fd_text, sizeof(fd_text), "%d", fd);
  fcntl(fd, F_SETFD, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  execl(helper, helper, "describe", path, fd_text, (char*)NULL);
  _exit(127);
}

static pb_ref_status_t
describe_child(const char* helper,
               const char* path,
               uint32_t timeout_ms,
               pb_ref_info_t* out)
{
  memset(out, 0, sizeof(*out));
  int fds[2];
  if (pipe(fds) != 0)
    return fail(out, PB_REF_ERR_IO, "pipe: %s", strerror(errno));
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  const int64_t deadline_ms = now_ms() + (int64_t)timeout_ms;
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(fds[0]);
    close(fds[1]);
    return fail(out, PB_REF_ERR_IO, "fork: %s", strerror(err));
  }
  if (pid == 0) {
    close(fds[0]);
    if (helper)
      exec_helper(helper, path, fds[1]);
    child_main(path, fds[1]);
  }
  close(fds[1]);
  codec_t c = { 0 };
  const int read_status = read_reply(fds[0], &c, deadline_ms);
  close(fds[0]);
  int wstatus = 0;
  const int killed = reap(pid, &wstatus, read_status == 0 ? deadline_ms : 0);
  pb_ref_status_t status;
  if (read_status < 0)
    status = fail(out, PB_REF_ERR_IO, "reading the child's reply failed");
  else
    status =
      child_result(out, wstatus, &c, killed || read_status > 0, timeout_ms);
  free(c.data);
  return status;
}

pb_ref_status_t
pb_ref_describe_in_child_timeout(const char* path,
                                 uint32_t timeout_ms,
                                 pb_ref_info_t* out)
{
  return describe_child(NULL, path, timeout_ms, out);
}

pb_ref_status_t
pb_ref_describe_exec(const char* helper,
                     const char* path,
                     uint32_t timeout_ms,
                     pb_ref_info_t* out)
{
  return describe_child(helper, path, timeout_ms, out);
}

pb_ref_status_t
pb_ref_describe_in_child(const char* path, pb_ref_info_t* out)
{
  return pb_ref_describe_in_child_timeout(path, REF_CHILD_TIMEOUT_MS, out);
}
