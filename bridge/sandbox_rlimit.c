/* Sandbox layer: resource limits.  Address space (unless built with
 * AddressSanitizer, which reserves terabytes of shadow memory and cannot
 * start under RLIMIT_AS), open files, file size, core dumps and locked
 * memory (which the address-space limit does not bound for a bridge
 * that root started: root's own limit is often unlimited); the
 * process count only inside a user namespace (pb_sandbox_rlimit_nproc),
 * where it counts the bridge's own processes rather than all of the
 * user's, and the host's processes of the same user keep running. */
#include "bridge/sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define PB_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PB_HAVE_ASAN 1
#endif
#endif
#ifndef PB_HAVE_ASAN
#define PB_HAVE_ASAN 0
#endif

#define NOFILE_LIMIT 1024u
#define FSIZE_LIMIT (1ull << 30)
#define NPROC_LIMIT 512u
#define MEMLOCK_LIMIT (64ull << 20)

/* Lower (never raise) both limits of `resource` to `value`. */
static int
lower(int resource, rlim_t value)
{
  struct rlimit lim;

  if (getrlimit(resource, &lim) < 0)
    return -errno;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < value)
    value = lim.rlim_max;
  lim.rlim_cur = value;
  lim.rlim_max = value;
  return setrlimit(resource, &lim) < 0 ? -errno : 0;
}

static int
limit_memory(const pb_sandbox_config_t* cfg, char* what, size_t cap)
{
  const uint64_t bytes = cfg->memory_limit_bytes ? cfg->memory_limit_bytes
                                                 : PB_SANDBOX_DEFAULT_MEMORY;
  if (PB_HAVE_ASAN) {
    (void)snprintf(what, cap, "no AS limit: AddressSanitizer build");
    return 0;
  }
  /* An i386 bridge's rlim_t is 32 bits wide: a limit at or above 4 GiB
   * is no limit there (and would wrap to a tiny one). */
  const rlim_t value =
    bytes >= (uint64_t)RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)bytes;
  (void)snprintf(what, cap, "AS %llu MiB", (unsigned long long)(bytes >> 20));
  return lower(RLIMIT_AS, value);
}

/* Real-time priority: exactly what the host asked for its audio thread
 * (raised to it if this process may, as root can), so that no thread of
 * the plugin rises above it; 0 without a request.  Returns the limit now
 * in force, or -errno. */
static long
limit_rtprio(int prio)
{
  struct rlimit lim = { (rlim_t)prio, (rlim_t)prio };
  if (setrlimit(RLIMIT_RTPRIO, &lim) < 0) {
    const int err = lower(RLIMIT_RTPRIO, (rlim_t)prio);
    if (err)
      return err;
  }
  if (getrlimit(RLIMIT_RTPRIO, &lim) < 0)
    return -errno;
  return (long)lim.rlim_cur;
}

int
pb_sandbox_rlimits(const pb_sandbox_config_t* cfg, pb_sandbox_report_t* r)
{
  char what[64];
  int err = limit_memory(cfg, what, sizeof what);
  long rtprio = 0;

  if (!err)
    err = lower(RLIMIT_NOFILE, NOFILE_LIMIT);
  if (!err)
    err = lower(RLIMIT_FSIZE, (rlim_t)FSIZE_LIMIT);
  if (!err)
    err = lower(RLIMIT_CORE, 0);
  if (!err)
    err = lower(RLIMIT_MEMLOCK, (rlim_t)MEMLOCK_LIMIT);
  if (!err) {
    rtprio = limit_rtprio(cfg->rt_priority);
    err = rtprio < 0 ? (int)rtprio : 0;
  }
  pb_sandbox_note(r,
                  "rlimit",
                  err,
                  "%s, NOFILE %u, FSIZE %llu MiB, CORE 0, MEMLOCK %llu MiB, "
                  "RTPRIO %ld",
                  what,
                  NOFILE_LIMIT,
                  (unsigned long long)(FSIZE_LIMIT >> 20),
                  (unsigned long long)(MEMLOCK_LIMIT >> 20),
                  rtprio);
  return err;
}

int
pb_sandbox_rlimit_nproc(pb_sandbox_report_t* r)
{
  const int err = lower(RLIMIT_NPROC, NPROC_LIMIT);

  pb_sandbox_note(r, "nproc", err, "%u", NPROC_LIMIT);
  return err;
}
