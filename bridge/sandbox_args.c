/* The bridge's sandbox options, one at a time, so that bridge/main.c can
 * mix them with its own:
 *
 *   --sandbox off|basic|strict   the profile (default off: a bridge
 *                                started by hand is not confined)
 *   --plugin PATH                the plugin OPEN may load (strict)
 *   --scratch DIR                the one writable folder, also HOME
 *   --memory BYTES               RLIMIT_AS (default 4 GiB)
 *   --read PATH                  one more read-only path (repeatable)
 *   --rt-priority N              the audio thread's SCHED_FIFO priority,
 *                                1..99, and the RLIMIT_RTPRIO of basic
 *                                and strict (default 0) */
#include "bridge/sandbox_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
parse_bytes(const char* text, uint64_t* out)
{
  char* end = NULL;
  errno = 0;
  const unsigned long long v = strtoull(text, &end, 10);
  if (errno || end == text || *end || text[0] == '-' || v == 0)
    return -1;
  *out = (uint64_t)v;
  return 0;
}

static int
parse_priority(const char* text, int* out)
{
  char* end = NULL;
  errno = 0;
  const long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < 1 || v > PB_SANDBOX_RT_MAX)
    return -1;
  *out = (int)v;
  return 0;
}

static int
add_read_path(pb_sandbox_config_t* cfg, const char* path)
{
  if (cfg->n_read_paths >= PB_SANDBOX_MAX_PATHS || path[0] != '/')
    return -1;
  cfg->read_paths[cfg->n_read_paths++] = path;
  return 0;
}

int
pb_sandbox_args_option(pb_sandbox_config_t* cfg,
                       const char* name,
                       const char* value)
{
  if (!strcmp(name, "--sandbox")) {
    cfg->profile = pb_sandbox_profile_parse(value);
    return cfg->profile < 0 ? -1 : 1;
  }
  if (!strcmp(name, "--plugin")) {
    cfg->plugin_path = value;
    return value[0] == '/' ? 1 : -1;
  }
  if (!strcmp(name, "--scratch")) {
    cfg->scratch_dir = value;
    return value[0] == '/' ? 1 : -1;
  }
  if (!strcmp(name, "--memory"))
    return parse_bytes(value, &cfg->memory_limit_bytes) ? -1 : 1;
  if (!strcmp(name, "--read"))
    return add_read_path(cfg, value) ? -1 : 1;
  if (!strcmp(name, "--rt-priority"))
    return parse_priority(value, &cfg->rt_priority) ? -1 : 1;
  return 0;
}
