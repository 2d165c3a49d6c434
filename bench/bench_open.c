/* Open-to-ready time: a plugin bridged by plugbox against the same plugin
 * loaded in process.  Prints medians and their ratios; never fails on time.
 *
 *   bench_open [--runs N] [--resident-mib M] PLUGIN...
 *
 * For each plugin, each measured in fresh processes so neither side gets a
 * warm dlopen:
 *   in-process  dlopen, entry, effOpen, sample rate, block size, in a forked
 *               child (the fork itself is not timed);
 *   bridge      posix_spawn of plugbox-bridge until its hello arrives;
 *   bridged     spawn, hello, open request until its reply: the same work
 *               as in-process, across the process boundary;
 *   library     pb_plugin_open(), which also reads the whole description
 *               (every parameter's name, label and display text).
 * With --resident-mib the bench then touches that much memory and measures
 * again: start-up must not grow with the host's size.
 *
 * i386 plugins run through plugbox-bridge-32 (next to bench_open, or
 * $PLUGBOX_BRIDGE_32): give the x86_64 and the i386 build of a plugin to
 * see 64->64 and 64->32 side by side.  A 64-bit process cannot load an
 * i386 plugin, so their in-process column is n/a.  Each plugin's row ends
 * with the median bridged pb_plugin_process() call for 512 stereo frames
 * (the per-block cost, plugin included). */
#define _GNU_SOURCE

#include "common/clock.h"
#include "common/elf.h"
#include "common/vst2_abi.h"
#include "plugbox.h"
#include "proto/message.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static char bridge64_path[PATH_MAX];
static char bridge32_path[PATH_MAX];      /* "" when there is none */
static char* bridge_path = bridge64_path; /* the one the plugin needs */

#define BLOCK_FRAMES 512u
#define BLOCK_CALLS 2001

static intptr_t
host_cb(pb_vst_effect_t* e,
        int32_t op,
        int32_t index,
        intptr_t value,
        void* ptr,
        float opt)
{
  (void)e, (void)index, (void)value, (void)ptr, (void)opt;
  switch (op) {
    case PB_VST_HOST_VERSION:
      return 2400;
    case PB_VST_HOST_GET_SAMPLE_RATE:
      return 48000;
    case PB_VST_HOST_GET_BLOCK_SIZE:
      return 512;
    default:
      return 0;
  }
}

static int
cmp_u64(const void* a, const void* b)
{
  const uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static double
median_ms(uint64_t* ns, int n)
{
  qsort(ns, (size_t)n, sizeof(*ns), cmp_u64);
  return (double)ns[n / 2] / 1e6;
}

/* In a forked child: load and open the plugin, report nanoseconds. */
static uint64_t
inproc_once(const char* path)
{
  int fds[2];
  uint64_t ns = 0;
  if (pipe(fds) < 0)
    return 0;
  const pid_t pid = fork();
  if (pid == 0) {
    const uint64_t t0 = pb_clock_now_ns();
    void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    void* sym = lib ? dlsym(lib, "VSTPluginMain") : NULL;
    if (lib && !sym)
      sym = dlsym(lib, "main");
    pb_vst_entry_fn_t entry = NULL;
    if (sym)
      memcpy(&entry, &sym, sizeof(entry));
    pb_vst_effect_t* e = entry ? entry(host_cb) : NULL;
    if (e) {
      e->dispatcher(e, PB_VST_EFF_OPEN, 0, 0, NULL, 0.0f);
      e->dispatcher(e, PB_VST_EFF_SET_SAMPLE_RATE, 0, 0, NULL, 48000.0f);
      e->dispatcher(e, PB_VST_EFF_SET_BLOCK_SIZE, 0, 512, NULL, 0.0f);
      ns = pb_clock_now_ns() - t0;
    }
    _exit(write(fds[1], &ns, sizeof(ns)) == sizeof(ns) ? 0 : 1);
  }
  close(fds[1]);
  if (pid < 0 || read(fds[0], &ns, sizeof(ns)) != sizeof(ns))
    ns = 0;
  close(fds[0]);
  if (pid > 0)
    waitpid(pid, NULL, 0);
  return ns;
}

static int
read_full(int fd, void* buf, size_t len)
{
  for (size_t got = 0; got < len;) {
    const ssize_t n = read(fd, (char*)buf + got, len - got);
    if (n <= 0)
      return -1;
    got += (size_t)n;
  }
  return 0;
}

/* Reads one frame and checks its kind. */
static int
expect_frame(int fd, uint32_t kind)
{
  unsigned char hdr[4];
  static uint8_t body[1 << 20];
  pb_msg_t msg;
  if (read_full(fd, hdr, 4) < 0)
    return -1;
  const uint32_t len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 |
                       (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
  if (len > sizeof(body) || read_full(fd, body, len) < 0)
    return -1;
  memset(&msg, 0, sizeof(msg));
  const int rc = pb_msg_decode(body, len, &msg);
  const int ok = rc == 0 && msg.kind == kind;
  pb_msg_fini(&msg);
  return ok ? 0 : -1;
}

static pid_t
spawn_bridge(int* sock)
{
  int sv[2];
  pid_t pid = -1;
  posix_spawn_file_actions_t fa;
  char* argv[] = { bridge_path, (char*)"--control-fd", (char*)"3", NULL };
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return -1;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  if (posix_spawn(&pid, bridge_path, &fa, NULL, argv, environ) != 0)
    pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  close(sv[1]);
  *sock = sv[0];
  return pid;
}

static int
send_open(int fd, const char* path)
{
  pb_wr_t w;
  pb_wr_init(&w);
  pb_wr_begin(&w, PB_MSG_OPEN, 1);
  pb_wr_s(&w, path);
  pb_wr_f(&w, 48000.0);
  pb_wr_u(&w, 512);
  int rc = pb_wr_end(&w);
  if (rc == 0 &&
      write(fd, pb_wr_data(&w), pb_wr_size(&w)) != (ssize_t)pb_wr_size(&w))
    rc = -1;
  pb_wr_fini(&w);
  return rc;
}

/* Spawn to hello (path NULL) or to the open reply. */
static uint64_t
bridge_once(const char* path)
{
  int sock = -1;
  uint64_t ns = 0;
  const uint64_t t0 = pb_clock_now_ns();
  const pid_t pid = spawn_bridge(&sock);
  if (pid < 0)
    return 0;
  int rc = expect_frame(sock, PB_MSG_HELLO);
  if (rc == 0 && path) {
    rc = send_open(sock, path);
    if (rc == 0)
      rc = expect_frame(sock, PB_MSG_OPEN | PB_MSG_REPLY);
  }
  if (rc == 0)
    ns = pb_clock_now_ns() - t0;
  close(sock); /* the bridge exits on end of file */
  waitpid(pid, NULL, 0);
  return ns;
}

static uint64_t
library_once(pb_host_t* host, const char* path)
{
  pb_plugin_t* p = NULL;
  pb_open_opts_t opts;
  pb_open_opts_init(&opts);
  opts.bridge_path = bridge_path;
  const uint64_t t0 = pb_clock_now_ns();
  const pb_status_t st = pb_plugin_open(host, path, &opts, &p);
  const uint64_t ns = pb_clock_now_ns() - t0;
  pb_plugin_close(p);
  return st == PB_OK ? ns : 0;
}

typedef uint64_t (*measure_fn)(pb_host_t* host, const char* path);

static uint64_t
m_inproc(pb_host_t* h, const char* p)
{
  (void)h;
  return inproc_once(p);
}
static uint64_t
m_bridge(pb_host_t* h, const char* p)
{
  (void)h, (void)p;
  return bridge_once(NULL);
}
static uint64_t
m_bridged(pb_host_t* h, const char* p)
{
  (void)h;
  return bridge_once(p);
}

/* Median over `runs` in milliseconds, or -1 if any run failed. */
static double
measure(measure_fn fn, pb_host_t* host, const char* path, int runs)
{
  uint64_t* ns = calloc((size_t)runs, sizeof(*ns));
  double med = -1;
  int i = 0;
  for (; ns && i < runs; ++i) {
    ns[i] = fn(host, path);
    if (ns[i] == 0)
      break;
  }
  if (ns && i == runs)
    med = median_ms(ns, runs);
  free(ns);
  return med;
}

/* Median microseconds of a bridged 512-frame stereo process call, or -1. */
static double
block_us(pb_host_t* host, const char* path)
{
  static float buf[4][BLOCK_FRAMES];
  const float* in[2] = { buf[0], buf[1] };
  float* out[2] = { buf[2], buf[3] };
  uint64_t ns[BLOCK_CALLS];
  pb_plugin_t* p = NULL;
  pb_open_opts_t opts;
  pb_open_opts_init(&opts);
  opts.bridge_path = bridge_path;
  if (pb_plugin_open(host, path, &opts, &p) != PB_OK ||
      pb_plugin_set_active(p, 1) != PB_OK ||
      pb_plugin_set_processing(p, 1) != PB_OK) {
    pb_plugin_close(p);
    return -1;
  }
  const pb_info_t* info = pb_plugin_info(p);
  pb_process_t b;
  memset(&b, 0, sizeof(b));
  b.n_frames = BLOCK_FRAMES;
  b.n_inputs = info->n_inputs < 2 ? (uint32_t)info->n_inputs : 2u;
  b.n_outputs = info->n_outputs < 2 ? (uint32_t)info->n_outputs : 2u;
  b.inputs = in;
  b.outputs = out;
  int i = 0;
  for (; i < BLOCK_CALLS; ++i) {
    const uint64_t t0 = pb_clock_now_ns();
    if (pb_plugin_process(p, &b) != PB_OK)
      break;
    ns[i] = pb_clock_now_ns() - t0;
  }
  pb_plugin_close(p);
  return i == BLOCK_CALLS ? median_ms(ns, BLOCK_CALLS) * 1000.0 : -1;
}

/* Points bridge_path at the bridge for `path`'s architecture; 0 if there
 * is one. */
static int
choose_bridge(const char* path, const char** arch)
{
  pb_elf_info_t elf;
  const int i386 = pb_elf_probe(path, &elf) == 0 && elf.arch == PB_ARCH_I386;
  *arch = i386 ? "64->32" : "64->64";
  bridge_path = i386 ? bridge32_path : bridge64_path;
  return bridge_path[0] ? 0 : -1;
}

static void
bench_plugin(pb_host_t* host, const char* path, int runs, int blocks)
{
  const char* arch = NULL;
  const char* name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  if (choose_bridge(path, &arch) != 0) {
    printf("%-34s %s: no plugbox-bridge-32, skipped\n", name, arch);
    return;
  }
  const int native = bridge_path == bridge64_path;
  const double in = native ? measure(m_inproc, host, path, runs) : -1;
  const double br = measure(m_bridge, host, path, runs);
  const double bo = measure(m_bridged, host, path, runs);
  const double li = measure(library_once, host, path, runs);
  const double bl = blocks ? block_us(host, path) : -1;
  char in_text[32] = "    n/a";
  char vs_text[48] = "";
  if (native) {
    snprintf(in_text, sizeof(in_text), "%7.3f", in);
    snprintf(vs_text,
             sizeof(vs_text),
             " (+%.3f ms, %.2fx)",
             bo - in,
             in > 0 ? bo / in : 0.0);
  }
  char block_text[48] = "";
  if (bl >= 0)
    snprintf(block_text,
             sizeof(block_text),
             " | block %u: %7.1f us",
             (unsigned)BLOCK_FRAMES,
             bl);
  printf("%-34s %s in-process %s ms | bridge alone %6.3f ms | bridged "
         "open %7.3f ms%s | pb_plugin_open+info %7.3f ms%s\n",
         name,
         arch,
         in_text,
         br,
         bo,
         vs_text,
         li,
         block_text);
}

/* $`env`, else `name` next to this executable, into `out`. */
static int
find_one(const char* env_name, const char* name, char* out, size_t cap)
{
  const char* env = getenv(env_name);
  if (env) {
    snprintf(out, cap, "%s", env);
    return access(out, X_OK);
  }
  const ssize_t n = readlink("/proc/self/exe", out, cap - 32);
  if (n < 0)
    return -1;
  out[n] = '\0';
  char* slash = strrchr(out, '/');
  strcpy(slash + 1, name);
  return access(out, X_OK);
}

static int
find_bridge(void)
{
  if (find_one("PLUGBOX_BRIDGE_32",
               "plugbox-bridge-32",
               bridge32_path,
               sizeof(bridge32_path)) != 0)
    bridge32_path[0] = '\0';
  return find_one(
    "PLUGBOX_BRIDGE", "plugbox-bridge", bridge64_path, sizeof(bridge64_path));
}

static void
touch_memory(size_t mib)
{
  char* mem = malloc(mib << 20);
  if (!mem) {
    fprintf(stderr, "bench_open: cannot allocate %zu MiB\n", mib);
    return;
  }
  memset(mem, 1, mib << 20); /* resident, never freed: that is the point */
  printf("-- host now has %zu MiB more resident --\n", mib);
}

int
main(int argc, char** argv)
{
  int runs = 51, first = 1;
  size_t resident_mib = 0;
  for (; first < argc && argv[first][0] == '-'; first += 2) {
    if (first + 1 >= argc) {
      fprintf(stderr,
              "usage: bench_open [--runs N] [--resident-mib M] "
              "PLUGIN...\n");
      return 2;
    }
    if (strcmp(argv[first], "--runs") == 0)
      runs = atoi(argv[first + 1]);
    else if (strcmp(argv[first], "--resident-mib") == 0)
      resident_mib = (size_t)atol(argv[first + 1]);
  }
  if (runs < 1 || first >= argc || find_bridge() != 0) {
    fprintf(stderr,
            "usage: bench_open [--runs N] [--resident-mib M] "
            "PLUGIN...  (bridge next to bench_open or in "
            "$PLUGBOX_BRIDGE)\n");
    return 2;
  }
  pb_host_t* host = NULL;
  if (pb_host_new(&host) != PB_OK)
    return 1;
  printf("median of %d runs each; bridges %s, %s\n",
         runs,
         bridge64_path,
         bridge32_path[0] ? bridge32_path : "(no plugbox-bridge-32)");
  for (int pass = 0; pass < (resident_mib ? 2 : 1); ++pass) {
    if (pass == 1)
      touch_memory(resident_mib);
    for (int i = first; i < argc; ++i)
      bench_plugin(host, argv[i], runs, pass == 0);
  }
  pb_host_free(host);
  return 0;
}
