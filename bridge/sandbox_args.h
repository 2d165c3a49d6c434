/* Parsing the bridge's sandbox options (see sandbox_args.c). */
#ifndef PB_BRIDGE_SANDBOX_ARGS_H
#define PB_BRIDGE_SANDBOX_ARGS_H

#include "bridge/sandbox.h"

/** Take option `name` with `value` into `cfg` (which keeps pointers into
 *  `value`).  Returns 1 if it was a sandbox option, 0 if not, -1 if its
 *  value is bad (unknown profile, relative path, not a byte count). */
int pb_sandbox_args_option(pb_sandbox_config_t* cfg,
                           const char* name,
                           const char* value);

#endif /* PB_BRIDGE_SANDBOX_ARGS_H */
