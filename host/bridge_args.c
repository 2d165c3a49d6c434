/* The sandbox part of the bridge's command line (see bridge/main.c and
 * bridge/sandbox_args.c for the other side). */
/* strdup() is POSIX. */
#define _POSIX_C_SOURCE 200809L

#include "bridge_args.h"

#include "launch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pb_bridge_args
{
  size_t n;
  char* argv[PB_LAUNCH_MAX_ARGS + 1];
  char memory[24];
  char rt_priority[16];
};

static const char* const profile_names[] = { "off", "basic", "strict" };

static int
push(pb_bridge_args_t* a, const char* flag, const char* value)
{
  if (a->n + 2 > PB_LAUNCH_MAX_ARGS)
    return -1;
  a->argv[a->n] = strdup(flag);
  if (!a->argv[a->n])
    return -1;
  a->argv[++a->n] = strdup(value);
  if (!a->argv[a->n])
    return -1;
  ++a->n;
  return 0;
}

static int
push_paths(pb_bridge_args_t* a, const char* const* paths)
{
  for (size_t i = 0; paths && paths[i]; ++i)
    if (push(a, "--read", paths[i]))
      return -1;
  return 0;
}

static int
fill(pb_bridge_args_t* a, const pb_open_opts_t* o, const char* path)
{
  (void)snprintf(
    a->memory, sizeof a->memory, "%" PRIu64, o->memory_limit_bytes);
  if (push(a, "--sandbox", profile_names[o->sandbox]) ||
      push(a, "--plugin", path) || push(a, "--memory", a->memory))
    return -1;
  if (o->writable_path && push(a, "--scratch", o->writable_path))
    return -1;
  (void)snprintf(
    a->rt_priority, sizeof a->rt_priority, "%d", o->audio_rt_priority);
  if (o->audio_rt_priority > 0 && push(a, "--rt-priority", a->rt_priority))
    return -1;
  return push_paths(a, o->extra_read_paths);
}

pb_bridge_args_t*
pb_bridge_args_new(const pb_open_opts_t* o, const char* path)
{
  pb_bridge_args_t* a = (pb_bridge_args_t*)calloc(1, sizeof(*a));
  if (!a)
    return NULL;
  if (fill(a, o, path)) {
    pb_bridge_args_free(a);
    return NULL;
  }
  return a;
}

const char* const*
pb_bridge_args_argv(const pb_bridge_args_t* args)
{
  return (const char* const*)args->argv;
}

void
pb_bridge_args_free(pb_bridge_args_t* args)
{
  if (!args)
    return;
  for (size_t i = 0; i < args->n; ++i)
    free(args->argv[i]);
  free(args);
}
