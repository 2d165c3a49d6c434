/* The bridge's sandbox: layers applied to the bridge process before the
 * plugin is loaded, each reported as applied or unavailable (with the
 * reason), never a reason to stop running.
 *
 * pb_sandbox_apply() must run first thing in main(), while the process has
 * one thread: unshare(CLONE_NEWUSER) fails with EINVAL once threads exist,
 * and libuv and plugins start threads.  One file per mechanism:
 * sandbox_process.c (fds, environment, uid, parent death, no_new_privs),
 * sandbox_rlimit.c, sandbox_ns.c, sandbox_mount.c, sandbox_landlock.c,
 * sandbox_seccomp.c.
 * All [main-thread]. */
#ifndef PB_BRIDGE_SANDBOX_H
#define PB_BRIDGE_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PB_SANDBOX_MAX_PATHS 32
#define PB_SANDBOX_REPORT_CAP 4096
#define PB_SANDBOX_DEFAULT_MEMORY (4ull << 30) /* RLIMIT_AS, bytes */
#define PB_SANDBOX_NOBODY 65534                /* uid and gid root drops to */
#define PB_SANDBOX_RT_MAX 99                   /* highest SCHED_FIFO priority */

/* What the host asked for (the bridge's command line). */
typedef struct pb_sandbox_config
{
  int profile;                 /* PB_SANDBOX_OFF, _BASIC or _STRICT */
  const char* plugin_path;     /* the only plugin OPEN may load; or NULL */
  const char* scratch_dir;     /* the one writable folder, HOME; or NULL */
  uint64_t memory_limit_bytes; /* RLIMIT_AS; 0: PB_SANDBOX_DEFAULT_MEMORY */
  const char* read_paths[PB_SANDBOX_MAX_PATHS]; /* extra read-only paths */
  size_t n_read_paths;
  int rt_priority; /* audio thread's SCHED_FIFO priority; RLIMIT_RTPRIO */
  int keep_fd_max; /* fds 0..keep_fd_max stay open, the others close */
  pid_t parent;    /* the host, for parent-death checks */
} pb_sandbox_config_t;

/* The report: one line per layer, "name: applied[ (detail)]",
 * "name: unavailable: reason" or "name: off". */
typedef struct pb_sandbox_report
{
  char text[PB_SANDBOX_REPORT_CAP];
  size_t len;
} pb_sandbox_report_t;

/** Append a line for `layer`: applied when `err` is 0, else unavailable
 *  with strerror(-err) and the detail `fmt` (may be NULL). */
void pb_sandbox_note(pb_sandbox_report_t* r,
                     const char* layer,
                     int err,
                     const char* fmt,
                     ...) __attribute__((format(printf, 4, 5)));

/** Append "layer: off". */
void pb_sandbox_note_off(pb_sandbox_report_t* r, const char* layer);

/** Name of profile `profile` ("off", "basic", "strict"). */
const char* pb_sandbox_profile_name(int profile);

/** Profile from its name; -1 if unknown. */
int pb_sandbox_profile_parse(const char* name);

/** Apply the layers of cfg->profile in order.  Returns 0, or one of the
 *  two fatal cases: -ESRCH when the host is gone, -ECHILD when a fork
 *  failed after unshare(CLONE_NEWPID) (the process can start no thread
 *  then).  Under strict with a pid namespace, it returns only in the
 *  worker (pid 2); the process that called it supervises and ends the way
 *  the worker ends (sandbox_pidns.c).  The report is kept for
 *  pb_sandbox_report().  `cfg` must outlive the process's use of it. */
int pb_sandbox_apply(const pb_sandbox_config_t* cfg);

/** The report of the last pb_sandbox_apply() ("" before).  Static. */
const char* pb_sandbox_report(void);

/** Whether OPEN may load `path`: under strict only the plugin named on the
 *  command line (the one Landlock admits).  Returns 0 or -EPERM with a
 *  line in `err`. */
int pb_sandbox_check_open(const char* path, char* err, size_t err_size);

/** Probe every layer in throwaway children and write the report of what
 *  this machine supports to `r` (for `plugbox doctor`).  Returns 0. */
int pb_sandbox_probe(pb_sandbox_report_t* r);

/* Layers (one file each).  Each returns 0 or -errno and notes itself. */
int pb_sandbox_close_fds(const pb_sandbox_config_t* cfg,
                         pb_sandbox_report_t* r);
int pb_sandbox_clean_env(const pb_sandbox_config_t* cfg,
                         pb_sandbox_report_t* r);
int pb_sandbox_drop_uid(pb_sandbox_report_t* r);
/** PR_SET_PDEATHSIG and a check that `parent` (if > 0) is still ours:
 *  -ESRCH if not. */
int pb_sandbox_parent_death(pid_t parent, pb_sandbox_report_t* r);
int pb_sandbox_no_new_privs(pb_sandbox_report_t* r);
int pb_sandbox_rlimits(const pb_sandbox_config_t* cfg, pb_sandbox_report_t* r);
int pb_sandbox_rlimit_nproc(pb_sandbox_report_t* r);
int pb_sandbox_namespaces(pb_sandbox_report_t* r);
/** The pid namespace (sandbox_pidns.c), right after the user namespace:
 *  returns 0 in the worker, pid 2 of a new namespace, under an init (pid
 *  1) and the calling process, which never returns from here: it waits
 *  and ends the way the worker ends.  -errno when no namespace was made
 *  (the caller goes on as one process, as before); -ESRCH when the host
 *  is gone and -ECHILD when a fork failed after unshare (both fatal). */
int pb_sandbox_pid_namespace(const pb_sandbox_config_t* cfg,
                             pb_sandbox_report_t* r);
/** Whether this process is the worker of a pid namespace of its own. */
int pb_sandbox_in_pid_namespace(void);
/** Drop every capability the user namespace gave (sandbox_ns.c), after
 *  the mount namespace and the NPROC limit. */
int pb_sandbox_drop_caps(pb_sandbox_report_t* r);
/** The mount namespace (sandbox_mount.c): a read-only view but for the
 *  writable folder, a private tmpfs on /tmp and, in a pid namespace, a
 *  /proc of that namespace.  Inside the user
 *  namespace, after pb_sandbox_namespaces(). */
int pb_sandbox_mount_view(const pb_sandbox_config_t* cfg,
                          pb_sandbox_report_t* r);
/** "/tmp" once pb_sandbox_mount_view() has put a private tmpfs there (for
 *  Landlock to admit writes), else NULL. */
const char* pb_sandbox_private_tmp(void);
int pb_sandbox_landlock(const pb_sandbox_config_t* cfg, pb_sandbox_report_t* r);
int pb_sandbox_seccomp(pb_sandbox_report_t* r);
/** What the bridge writes to stderr, "... (i386 syscall 20: getpid)",
 *  before it dies of a syscall the filters trap (another architecture's). */
#define PB_SANDBOX_VIOLATION "sandbox violation"

/** Make `ctx` (a scmp_filter_ctx) trap syscalls of other architectures, so
 *  the stacked filters agree on it (the strictest answer wins).  Returns 0
 *  or -errno. */
int pb_sandbox_seccomp_bad_arch(void* ctx);

/** The first seccomp filter: loads it, without a report line
 *  (pb_sandbox_seccomp() writes one for both).  The program compiled at
 *  build time when there is one (sandbox_seccomp_bpf.c), else built now. */
int pb_sandbox_seccomp_allow(void);

/** Build the first filter (sandbox_seccomp_allow.c) into a new libseccomp
 *  context, `*out` (release with seccomp_release()), or NULL on failure.
 *  Returns 0 or -errno. */
int pb_sandbox_seccomp_allow_build(void** out);

/** Run `fn(arg)` in a forked child and return its result: 0, -errno the
 *  child returned, or -ECHILD if it died.  For probes of irreversible
 *  calls.  Single-threaded processes only. */
int pb_sandbox_in_child(int (*fn)(void* arg), void* arg);

#endif /* PB_BRIDGE_SANDBOX_H */
