/* What the bridge does with each request: the plugin's state across
 * requests and one handler per request kind.  Knows messages and the VST2
 * adapter, nothing of pipes or libuv (bridge/server.c carries the frames).
 * All [main-thread]. */
#ifndef PB_BRIDGE_SESSION_H
#define PB_BRIDGE_SESSION_H

#include "bridge/vst2.h"
#include "host/plugbox.h"
#include "proto/message.h"

#include <stddef.h>
#include <stdint.h>

typedef struct pb_session
{
  pb_vst2_t plugin;
  int is_open;   /* OPEN succeeded and CLOSE has not come */
  int is_closed; /* CLOSE handled: the bridge is to exit after the reply */
} pb_session_t;

void pb_session_init(pb_session_t* session);

/** Whether `kind` is a request a session answers. */
int pb_session_handles(uint32_t kind);

/** Handle request `request`.  The caller has begun `reply` with the reply
 *  kind and id; on PB_OK the reply's arguments have been written to it.
 *  Otherwise `err` holds one line for an ERROR reply with that status:
 *  PB_ERR_INVALID (bad argument, wrong state, "no plugin open"),
 *  PB_ERR_RANGE, PB_ERR_TOO_BIG, PB_ERR_UNSUPPORTED, PB_ERR_REFUSED,
 *  PB_ERR_NOMEM, and for OPEN PB_ERR_LOAD or PB_ERR_NOT_PLUGIN. */
pb_status_t pb_session_handle(pb_session_t* session,
                              const pb_msg_t* request,
                              pb_wr_t* reply,
                              char* err,
                              size_t err_size);

#endif /* PB_BRIDGE_SESSION_H */
