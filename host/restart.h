/* Restarting a bridge and the state a restart restores.  Private to
 * libplugbox; [main-thread], under the plugin's call_mutex unless noted. */
#ifndef PB_HOST_RESTART_H
#define PB_HOST_RESTART_H

#include "plugin.h"

#include <stddef.h>
#include <stdint.h>

/** Keep what a restart needs: the options `o` (pointer fields dropped),
 *  the bridge's path and its arguments `args` (taken, also on failure).
 *  Called once, before the first spawn.  Returns 0 or -ENOMEM. */
int pb_restart_init(pb_plugin_t* p,
                    const pb_open_opts_t* o,
                    const char* bridge,
                    pb_bridge_args_t* args,
                    int arch);

/** Release it.  Safe after a failed or missing pb_restart_init(). */
void pb_restart_fini(pb_plugin_t* p);

/** The automatic restart of a crashed plugin, if the options allow one
 *  now.  Returns PB_OK when the plugin runs again. */
pb_status_t pb_restart_auto(pb_plugin_t* p);

/** pb_plugin_snapshot() with the lock held. */
pb_status_t pb_restart_snapshot(pb_plugin_t* p);

/* What the control calls report after they succeeded. */
void pb_state_param(pb_plugin_t* p, int32_t index, float value);
void pb_state_program(pb_plugin_t* p, int32_t index);
void pb_state_chunk(pb_plugin_t* p, int program, const void* data, size_t n);
void pb_state_rate(pb_plugin_t* p, double hz);
void pb_state_block(pb_plugin_t* p, uint32_t n_frames);
void pb_state_bypass(pb_plugin_t* p, int on);

#endif /* PB_HOST_RESTART_H */
