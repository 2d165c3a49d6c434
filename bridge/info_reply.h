/* The INFO reply: everything the plugin says about itself, read through
 * the VST2 adapter and written in the order of enum pb_info_arg.
 * [main-thread] */
#ifndef PB_BRIDGE_INFO_REPLY_H
#define PB_BRIDGE_INFO_REPLY_H

#include "bridge/vst2.h"
#include "host/plugbox.h"
#include "proto/message.h"

#include <stddef.h>

/** Write the INFO reply's arguments to `reply`, which the caller has begun.
 *  Never switches programs.  Returns PB_OK, or PB_ERR_TOO_BIG (the plugin
 *  declares more pins, parameters or programs than a reply can carry) with
 *  one line in `err`. */
pb_status_t pb_info_reply_write(const pb_vst2_t* plugin,
                                pb_wr_t* reply,
                                char* err,
                                size_t err_size);

#endif /* PB_BRIDGE_INFO_REPLY_H */
