/* Requests to the bridge with deadlines, and what a failure does to the
 * plugin: a timeout, a death or a corrupt reply leaves it crashed, with a
 * record saying why.  Private to libplugbox; [main-thread], under the
 * plugin's call_mutex. */
#ifndef PB_HOST_REQUEST_H
#define PB_HOST_REQUEST_H

#include "plugin.h"

#include <stddef.h>
#include <stdint.h>

/** Check the bridge is alive (marking it crashed if the I/O thread saw it
 *  die while idle).  Returns PB_OK or PB_ERR_CRASHED. */
pb_status_t pb_request_alive(pb_plugin_t* p);

/** Send request `kind` with arguments `args` ("u" unsigned, "i" int, "f"
 *  double, "b" int, "s" const char*, "x" const void* + size_t, passed as
 *  varargs in that order) and wait for its reply until `deadline_ms`.  The
 *  reply's arguments must match `reply_types` (NULL: the caller checks).  On
 * PB_OK `*reply` is borrowed until pb_request_done().  An ERROR reply returns
 * its status with the bridge's message as last error; a timeout kills the
 * bridge; a timeout, death or corrupt reply marks the plugin crashed. */
pb_status_t pb_request_call(pb_plugin_t* p,
                            uint64_t deadline_ms,
                            uint32_t kind,
                            const char* reply_types,
                            const pb_msg_t** reply,
                            const char* args,
                            ...);

/** Wait for the hello the bridge sends on start (no request is sent). */
pb_status_t pb_request_hello(pb_plugin_t* p,
                             uint64_t deadline_ms,
                             const pb_msg_t** hello);

/** Release the reply of the last request.  Safe without one. */
void pb_request_done(pb_plugin_t* p);

/** How the bridge ended, for people: "died of SIGSEGV", "exited with code
 *  1", "hung up". */
void pb_request_describe_end(pb_plugin_t* p, char* buf, size_t cap);

/** The last `max_lines` lines of the plugin's output, or "". */
void pb_request_log_tail(pb_plugin_t* p, char* buf, size_t cap, int max_lines);

#endif /* PB_HOST_REQUEST_H */
