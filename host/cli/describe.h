/* A plugin's description (pb_info_t) as the classic text listing or as one
 * JSON object.  Shared by the commands that show plugins. */
#ifndef PB_HOST_CLI_DESCRIBE_H
#define PB_HOST_CLI_DESCRIBE_H

#include "json.h"
#include "plugbox.h"
#include "text.h"

/** Write the classic listing ("Plugin name: ...", "numParams = ...",
 *  "Param 000: ...").  Every string from the plugin is made safe for a
 *  terminal on the way. */
void pb_describe_text(pb_text_t* out, const pb_info_t* info);

/** Write `info` as one JSON object (the value at the writer's current
 *  place), every field of pb_info_t included. */
void pb_describe_json(pb_json_t* json, const pb_info_t* info);

#endif /* PB_HOST_CLI_DESCRIBE_H */
