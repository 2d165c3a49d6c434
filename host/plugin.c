/* Opening and closing plugins: check the file, find and start a bridge,
 * shake hands, open the plugin and read its description, all within one
 * load deadline; and on close, end and reap the bridge whatever state it
 * is in. */
#define _XOPEN_SOURCE 700 /* realpath (XSI), strdup */

#include "plugin.h"

#include "audio.h"
#include "bridge_args.h"
#include "info.h"
#include "request.h"
#include "restart.h"
#include "launch.h"
#include "plugin_events.h"

#include "common/clock.h"
#include "common/elf.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum
{
  CLOSE_TIMEOUT_CAP_MS = 2000, /* for the CLOSE request */
  EXIT_WAIT_MS = 1000,         /* for the exit after CLOSE */
  LOG_TAIL_LINES = 5,          /* of plugin output in load errors */
  ELF_SHARED_OBJECT = 3,       /* ET_DYN */
};

/* ------------------------------------------------------------- errors */

pb_status_t
pb_plugin_fail(pb_plugin_t* p, pb_status_t status, const char* fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(p->last_error, sizeof(p->last_error), fmt, ap);
  va_end(ap);
  return status;
}

static pb_status_t host_fail(pb_host_t* host,
                             pb_status_t status,
                             const char* fmt,
                             ...) __attribute__((format(printf, 3, 4)));

static pb_status_t
host_fail(pb_host_t* host, pb_status_t status, const char* fmt, ...)
{
  char msg[PB_HOST_ERROR_CAP];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  pb_host_set_error(host, "%s", msg);
  return status;
}

/* ------------------------------------------------------------ options */

void
pb_open_opts_init(pb_open_opts_t* opts)
{
  if (!opts)
    return;
  memset(opts, 0, sizeof(*opts));
  opts->struct_size = (uint32_t)sizeof(*opts);
  opts->sample_rate = 48000.0;
  opts->max_block_frames = 512;
  opts->load_timeout_ms = 10000;
  opts->call_timeout_ms = 5000;
  opts->bridge_path = NULL;
  opts->log_capacity_bytes = 65536;
  opts->sandbox = PB_SANDBOX_BASIC;
  opts->memory_limit_bytes = PB_DEFAULT_MEMORY_LIMIT;
  opts->restart_max = 3;
  opts->restart_backoff_ms = 10;
  opts->audio_hang_ms = 3000;
}

/* The sandbox options: a known profile, absolute paths (the bridge runs
 * in another directory), as many read paths as the bridge takes. */
static pb_status_t
check_sandbox_opts(pb_host_t* host, pb_open_opts_t* o)
{
  size_t n = 0;
  if (o->sandbox < PB_SANDBOX_OFF || o->sandbox > PB_SANDBOX_STRICT)
    return host_fail(
      host, PB_ERR_INVALID, "unknown sandbox profile %d", o->sandbox);
  if (o->memory_limit_bytes == 0)
    o->memory_limit_bytes = PB_DEFAULT_MEMORY_LIMIT;
  if (o->writable_path && o->writable_path[0] != '/')
    return host_fail(host,
                     PB_ERR_INVALID,
                     "the writable path must be absolute: %s",
                     o->writable_path);
  for (; o->extra_read_paths && o->extra_read_paths[n]; ++n)
    if (o->extra_read_paths[n][0] != '/' || n >= PB_MAX_READ_PATHS)
      return host_fail(host,
                       PB_ERR_INVALID,
                       "read paths must be absolute, at most %d: %s",
                       PB_MAX_READ_PATHS,
                       o->extra_read_paths[n]);
  return PB_OK;
}

/* The caller's options over the defaults.  A caller built against an
 * older, shorter pb_open_opts_t only sets the fields it knows of. */
static pb_status_t
read_opts(pb_host_t* host, const pb_open_opts_t* in, pb_open_opts_t* o)
{
  pb_open_opts_init(o);
  if (!in)
    return PB_OK;
  if (in->struct_size < sizeof(uint32_t))
    return host_fail(host,
                     PB_ERR_INVALID,
                     "options without struct_size "
                     "(use pb_open_opts_init)");
  const size_t n = in->struct_size < sizeof(*o) ? in->struct_size : sizeof(*o);
  memcpy(o, in, n);
  if (!(o->sample_rate > 0.0) || !isfinite(o->sample_rate))
    return host_fail(
      host, PB_ERR_INVALID, "invalid sample rate %g", o->sample_rate);
  if (o->max_block_frames == 0 || o->max_block_frames > INT32_MAX)
    return host_fail(host,
                     PB_ERR_INVALID,
                     "invalid block size %u",
                     (unsigned)o->max_block_frames);
  if (o->load_timeout_ms == 0 || o->call_timeout_ms == 0)
    return host_fail(host, PB_ERR_INVALID, "timeouts must not be 0");
  if (o->audio_rt_priority < 0 || o->audio_rt_priority > PB_RT_PRIORITY_MAX)
    return host_fail(host,
                     PB_ERR_INVALID,
                     "audio_rt_priority %d is not 0..%d",
                     o->audio_rt_priority,
                     PB_RT_PRIORITY_MAX);
  if (o->one_audio_thread != 0 && o->one_audio_thread != 1)
    return host_fail(host,
                     PB_ERR_INVALID,
                     "one_audio_thread %d is not 0 or 1",
                     o->one_audio_thread);
  return check_sandbox_opts(host, o);
}

/* --------------------------------------------------------------- file */

static pb_status_t
judge_elf(pb_host_t* host, const char* path, int rc, const pb_elf_info_t* elf)
{
  if (rc == -ENOENT)
    return host_fail(host, PB_ERR_NOT_FOUND, "no such file: %s", path);
  if (rc == -EACCES || rc == -EPERM)
    return host_fail(host, PB_ERR_ACCESS, "permission denied reading %s", path);
  if (rc == -ENOEXEC && strncmp(elf->arch_name, "Windows PE", 10) == 0)
    return host_fail(host,
                     PB_ERR_ARCH,
                     "%s is a %s file; no bridge runs it",
                     path,
                     elf->arch_name);
  if (rc == -ENOEXEC || rc == -EISDIR)
    return host_fail(
      host, PB_ERR_NOT_ELF, "%s is not an ELF shared object", path);
  if (rc < 0)
    return host_fail(
      host, PB_ERR_IO, "cannot read %s: %s", path, strerror(-rc));
  /* i386 plugins run in plugbox-bridge-32; start() says if it is missing. */
  const int runnable =
    elf->arch == pb_arch_native() ||
    (elf->arch == PB_ARCH_I386 && pb_arch_native() == PB_ARCH_X86_64);
  if (elf->arch == PB_ARCH_UNKNOWN || !runnable)
    return host_fail(host,
                     PB_ERR_ARCH,
                     "%s is an ELF for %s; no bridge "
                     "runs it",
                     path,
                     elf->arch_name);
  if (elf->type != ELF_SHARED_OBJECT)
    return host_fail(
      host, PB_ERR_NOT_ELF, "%s is not an ELF shared object", path);
  return PB_OK;
}

static pb_status_t
probe_file(pb_host_t* host, const char* path, char* abs, pb_arch_t* arch)
{
  if (!realpath(path, abs)) {
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR)
      return host_fail(host, PB_ERR_NOT_FOUND, "no such file: %s", path);
    if (e == EACCES)
      return host_fail(host, PB_ERR_ACCESS, "permission denied: %s", path);
    return host_fail(
      host, PB_ERR_IO, "cannot resolve %s: %s", path, strerror(e));
  }
  pb_elf_info_t elf;
  const int rc = pb_elf_probe(abs, &elf);
  *arch = elf.arch;
  return judge_elf(host, path, rc, &elf);
}

/* ----------------------------------------------------- object lifetime */

static pb_plugin_t*
plugin_new(pb_host_t* host, const char* path, const pb_open_opts_t* o)
{
  pb_plugin_t* p = (pb_plugin_t*)calloc(1, sizeof(*p));
  if (!p)
    return NULL;
  p->host = host;
  pb_shm_init(&p->shm);
  p->call_timeout_ms = o->call_timeout_ms;
  atomic_store(&p->hot_mode, o->hot_mode != 0);
  p->crash.exit_code = -1;
  p->path = strdup(path);
  if (!p->path)
    goto fail;
  if (pthread_mutex_init(&p->call_mutex, NULL))
    goto fail;
  if (pb_conn_init(&p->conn, host, o->log_capacity_bytes))
    goto fail_mutex;
  pb_wr_init(&p->wr);
  return p;

fail_mutex:
  pthread_mutex_destroy(&p->call_mutex);
fail:
  free(p->path);
  free(p);
  return NULL;
}

static void
plugin_free(pb_plugin_t* p)
{
  pb_request_done(p);
  pb_wr_fini(&p->wr);
  pb_conn_fini(&p->conn);
  pb_audio_fini(p);
  pthread_mutex_destroy(&p->call_mutex);
  pb_restart_fini(p);
  free(p->info_arena);
  free(p->sandbox_report);
  free(p->path);
  free(p);
}

/* End the bridge: politely (CLOSE, then a short wait for the exit) if it
 * is alive and `polite`, then kill whatever is left and reap it. */
static void
end_bridge(pb_plugin_t* p, int polite)
{
  if (polite && pb_request_alive(p) == PB_OK) {
    const uint32_t ms = p->call_timeout_ms < CLOSE_TIMEOUT_CAP_MS
                          ? p->call_timeout_ms
                          : CLOSE_TIMEOUT_CAP_MS;
    const pb_msg_t* reply = NULL;
    (void)pb_request_call(
      p, pb_clock_now_ms() + ms, PB_MSG_CLOSE, "", &reply, "");
    pb_request_done(p);
    (void)pb_conn_wait_exit(&p->conn, pb_clock_now_ms() + EXIT_WAIT_MS);
  }
  pb_conn_stop(&p->conn);
}

void
pb_plugin_end_bridge(pb_plugin_t* p, int polite)
{
  end_bridge(p, polite);
}

/* ---------------------------------------------------------------- load */

static pb_status_t
handshake(pb_plugin_t* p, pb_arch_t arch, uint64_t deadline_ms)
{
  const pb_msg_t* hello = NULL;
  pb_status_t st = pb_request_hello(p, deadline_ms, &hello);
  if (st)
    return st;
  const uint32_t version = hello->args[0].v.u;
  const char* bridge_arch = hello->args[1].v.s.ptr;
  if (version != PB_PROTO_VERSION)
    st = pb_plugin_fail(p,
                        PB_ERR_PROTOCOL,
                        "the bridge speaks protocol version %u, this "
                        "library version %u",
                        (unsigned)version,
                        (unsigned)PB_PROTO_VERSION);
  else if (strcmp(bridge_arch, pb_arch_name(arch)) != 0)
    st = pb_plugin_fail(p,
                        PB_ERR_PROTOCOL,
                        "the bridge runs %s code, the plugin is %s",
                        bridge_arch,
                        pb_arch_name(arch));
  pb_request_done(p);
  return st;
}

static pb_status_t
open_and_describe(pb_plugin_t* p,
                  const pb_open_opts_t* o,
                  pb_arch_t arch,
                  uint64_t deadline_ms)
{
  const pb_msg_t* reply = NULL;
  pb_status_t st = pb_request_call(p,
                                   deadline_ms,
                                   PB_MSG_OPEN,
                                   "",
                                   &reply,
                                   "sfu",
                                   p->path,
                                   o->sample_rate,
                                   (unsigned)o->max_block_frames);
  if (!st)
    st = pb_request_call(p, deadline_ms, PB_MSG_INFO, NULL, &reply, "");
  if (!st) {
    char err[160];
    st = pb_info_build(reply,
                       p->path,
                       pb_arch_name(arch),
                       &p->info,
                       &p->info_arena,
                       err,
                       sizeof(err));
    if (st)
      (void)pb_plugin_fail(p, st, "%s", err);
    else
      pb_audio_attach(p);
  }
  pb_request_done(p);
  return st;
}

/* Say in the host's last error why loading failed, with the plugin's last
 * words when the bridge died or hung. */
static void
report_load_failure(pb_plugin_t* p, pb_status_t st, const pb_open_opts_t* o)
{
  char what[PB_PLUGIN_ERROR_CAP + 64];
  char end[64];
  char tail[768];
  tail[0] = '\0';
  if (st == PB_ERR_CRASHED) {
    pb_request_describe_end(p, end, sizeof(end));
    (void)snprintf(
      what, sizeof(what), "bridge %s while loading %s", end, p->path);
  } else if (st == PB_ERR_TIMEOUT) {
    (void)snprintf(what,
                   sizeof(what),
                   "%s did not load within %u ms",
                   p->path,
                   (unsigned)o->load_timeout_ms);
  } else {
    (void)snprintf(what, sizeof(what), "%s", p->last_error);
  }
  if (st == PB_ERR_CRASHED || st == PB_ERR_TIMEOUT || st == PB_ERR_PROTOCOL)
    pb_request_log_tail(p, tail, sizeof(tail), LOG_TAIL_LINES);
  if (tail[0])
    pb_host_set_error(p->host, "%s; last output:\n%s", what, tail);
  else
    pb_host_set_error(p->host, "%s", what);
}

static pb_status_t
load(pb_plugin_t* p,
     const pb_open_opts_t* o,
     const char* bridge,
     pb_arch_t arch)
{
  const uint64_t deadline_ms = pb_clock_now_ms() + o->load_timeout_ms;
  int err =
    pb_audio_init(p, (uint32_t)o->max_block_frames, o->one_audio_thread);
  if (err)
    return host_fail(
      p->host, PB_ERR_IO, "cannot create the audio block: %s", strerror(-err));
  pb_bridge_args_t* args = pb_bridge_args_new(o, p->path);
  if (!args)
    return host_fail(
      p->host, PB_ERR_NOMEM, "out of memory starting %s", bridge);
  /* Kept, with the bridge's path, for restarts. */
  err = pb_restart_init(p, o, bridge, args, (int)arch);
  if (err)
    return host_fail(
      p->host, PB_ERR_NOMEM, "out of memory starting %s", bridge);
  p->conn.child.args = pb_bridge_args_argv(args);
  p->conn.audio_hang_ms = o->audio_hang_ms;
  pb_plugin_events_attach(p);
  err = pb_conn_start(&p->conn, bridge, p->shm.block ? &p->shm : NULL);
  p->conn.child.args = NULL;
  if (err)
    return host_fail(p->host,
                     PB_ERR_BRIDGE,
                     "cannot start the bridge %s: %s",
                     bridge,
                     strerror(-err));
  pb_status_t st = handshake(p, arch, deadline_ms);
  const int shook_hands = st == PB_OK;
  if (!st)
    st = open_and_describe(p, o, arch, deadline_ms);
  if (st) {
    /* A bridge that shook hands and refused the plugin is healthy: let it
     * exit on its own.  One that failed the handshake or sent nonsense
     * may not understand a CLOSE; a crashed one is skipped anyway. */
    const int polite = shook_hands && st != PB_ERR_PROTOCOL;
    report_load_failure(p, st, o);
    end_bridge(p, polite);
  }
  return st;
}

static pb_status_t
start(pb_host_t* host,
      const char* abs,
      pb_arch_t arch,
      const pb_open_opts_t* o,
      pb_plugin_t** out)
{
  char bridge[PATH_MAX];
  char tried[PB_HOST_ERROR_CAP - 64];
  if (pb_launch_find(
        o->bridge_path, arch, bridge, sizeof(bridge), tried, sizeof(tried))) {
    if (arch != pb_arch_native() && !o->bridge_path)
      return host_fail(host,
                       PB_ERR_ARCH,
                       "%s is an %s plugin; plugbox-bridge-32 is not "
                       "installed (looked in %s)",
                       abs,
                       pb_arch_name(arch),
                       tried);
    return host_fail(host,
                     PB_ERR_BRIDGE,
                     "no usable plugbox-bridge; tried: "
                     "%s",
                     tried);
  }
  pb_plugin_t* p = plugin_new(host, abs, o);
  if (!p)
    return host_fail(host, PB_ERR_NOMEM, "out of memory opening %s", abs);
  const pb_status_t st = load(p, o, bridge, arch);
  if (st) {
    plugin_free(p);
    return st;
  }
  *out = p;
  return PB_OK;
}

/* ---------------------------------------------------------------- API */

pb_status_t
pb_plugin_open(pb_host_t* host,
               const char* path,
               const pb_open_opts_t* opts,
               pb_plugin_t** out)
{
  if (!out)
    return PB_ERR_INVALID;
  *out = NULL;
  if (!host)
    return PB_ERR_INVALID;
  if (!path || !path[0])
    return host_fail(host, PB_ERR_INVALID, "no plugin path given");
  pb_open_opts_t o;
  char abs[PATH_MAX];
  pb_arch_t arch = PB_ARCH_UNKNOWN;
  pb_status_t st = read_opts(host, opts, &o);
  if (!st)
    st = probe_file(host, path, abs, &arch);
  if (!st)
    st = start(host, abs, arch, &o, out);
  return st;
}

void
pb_plugin_close(pb_plugin_t* plugin)
{
  if (!plugin)
    return;
  pthread_mutex_lock(&plugin->call_mutex);
  end_bridge(plugin, 1);
  pthread_mutex_unlock(&plugin->call_mutex);
  plugin_free(plugin);
}

const char*
pb_plugin_last_error(const pb_plugin_t* plugin)
{
  return plugin ? plugin->last_error : "";
}

void
pb_plugin_crash(const pb_plugin_t* plugin, pb_crash_t* out)
{
  if (!out)
    return;
  memset(out, 0, sizeof(*out));
  out->exit_code = -1;
  if (!plugin)
    return;
  /* Bring the record up to date if the bridge died since the last call;
   * only the lock is mutable here, the caller's view stays const. */
  pb_plugin_t* p = (pb_plugin_t*)(uintptr_t)plugin;
  pthread_mutex_lock(&p->call_mutex);
  (void)pb_request_alive(p);
  *out = p->crash;
  pthread_mutex_unlock(&p->call_mutex);
}

size_t
pb_plugin_log(pb_plugin_t* plugin, char* buf, size_t cap)
{
  if (!plugin || !buf || cap == 0)
    return 0;
  return pb_conn_log(&plugin->conn, buf, cap);
}

int
pb_plugin_pid(const pb_plugin_t* plugin)
{
  if (!plugin)
    return 0;
  return (int)pb_conn_pid(&((pb_plugin_t*)(uintptr_t)plugin)->conn);
}

/* What the bridge's sandbox holds: asked once, on first use, so that
 * opening costs no extra round trip; the bridge's answer never changes. */
static pb_status_t
fetch_sandbox_report(pb_plugin_t* p)
{
  const pb_msg_t* reply = NULL;
  const uint64_t deadline_ms = pb_clock_now_ms() + p->call_timeout_ms;
  pb_status_t st =
    pb_request_call(p, deadline_ms, PB_MSG_SANDBOX, "s", &reply, "");
  if (!st) {
    p->sandbox_report = strdup(reply->args[0].v.s.ptr);
    if (!p->sandbox_report)
      st = pb_plugin_fail(p, PB_ERR_NOMEM, "out of memory");
  }
  pb_request_done(p);
  return st;
}

pb_status_t
pb_plugin_sandbox_report(const pb_plugin_t* plugin, char* buf, size_t cap)
{
  if (!plugin || !buf || cap == 0)
    return PB_ERR_INVALID;
  buf[0] = '\0';
  /* Only the lock and the cached copy change; the caller's view is
   * const, as for pb_plugin_crash(). */
  pb_plugin_t* p = (pb_plugin_t*)(uintptr_t)plugin;
  pthread_mutex_lock(&p->call_mutex);
  pb_status_t st = PB_OK;
  if (!p->sandbox_report)
    st = fetch_sandbox_report(p);
  if (!st)
    (void)snprintf(buf, cap, "%s", p->sandbox_report);
  pthread_mutex_unlock(&p->call_mutex);
  return st;
}

const pb_info_t*
pb_plugin_info(const pb_plugin_t* plugin)
{
  return plugin ? &plugin->info : NULL;
}
