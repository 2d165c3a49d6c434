/* The INFO reply turned into a pb_info_t.  Private to libplugbox. */
#ifndef PB_HOST_INFO_H
#define PB_HOST_INFO_H

#include "plugbox.h"

#include "proto/message.h"

#include <stddef.h>

/** Fill `out` from the INFO reply `reply`, plus the plugin's `path` and
 *  `arch`.  Every string and array goes into one malloc'd block, `*arena`,
 *  which the caller frees (with free()) when done with `out`.  Returns
 *  PB_OK, PB_ERR_PROTOCOL (the reply's shape is wrong; `err` says how) or
 *  PB_ERR_NOMEM. */
pb_status_t pb_info_build(const pb_msg_t* reply,
                          const char* path,
                          const char* arch,
                          pb_info_t* out,
                          void** arena,
                          char* err,
                          size_t err_cap);

/** The four characters of a unique id, '.' for unprintable ones. */
void pb_info_id_text(int32_t unique_id, char out[5]);

#endif /* PB_HOST_INFO_H */
