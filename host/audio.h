/* The host side of the audio path: the shared block of a plugin and the
 * process calls.  Private to libplugbox. */
#ifndef PB_HOST_AUDIO_H
#define PB_HOST_AUDIO_H

#include "plugin.h"

/** Create the shared block for `max_frames` before the bridge is spawned;
 *  `one_thread` asks the bridge for no standby thread.  A block too large
 *  to map leaves the plugin without audio (process calls answer
 *  PB_ERR_UNSUPPORTED).  Returns 0 or -errno. */
int pb_audio_init(pb_plugin_t* p, uint32_t max_frames, int one_thread);

/** After the plugin's description arrived: note its channel counts and
 *  whether they fit the block. */
void pb_audio_attach(pb_plugin_t* p);

/** Unmap and close the block; after pb_conn_stop(). */
void pb_audio_fini(pb_plugin_t* p);

#endif /* PB_HOST_AUDIO_H */
