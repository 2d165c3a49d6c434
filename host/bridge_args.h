/* The sandbox part of the bridge's command line, built from the open
 * options.  Private to libplugbox. */
#ifndef PB_HOST_BRIDGE_ARGS_H
#define PB_HOST_BRIDGE_ARGS_H

#include "plugbox.h"

/* NULL-terminated argument strings, malloc'd with the struct. */
typedef struct pb_bridge_args pb_bridge_args_t;

/** Build "--sandbox P --plugin PATH --memory N [--scratch DIR]
 *  [--read PATH]..." for `o` (checked: known profile, at most 32 read
 *  paths) and the plugin at absolute `path`.  Returns NULL when out of
 *  memory.  Free with pb_bridge_args_free(). */
pb_bridge_args_t* pb_bridge_args_new(const pb_open_opts_t* o, const char* path);

/** The arguments, NULL-terminated.  Borrowed from `args`. */
const char* const* pb_bridge_args_argv(const pb_bridge_args_t* args);

/** Accepts NULL. */
void pb_bridge_args_free(pb_bridge_args_t* args);

#endif /* PB_HOST_BRIDGE_ARGS_H */
