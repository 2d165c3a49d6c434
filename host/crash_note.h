/* Reading the bridge's crash note (bridge/crash.h) out of the plugin's
 * log into a crash record.  Private to libplugbox; pure code. */
#ifndef PB_HOST_CRASH_NOTE_H
#define PB_HOST_CRASH_NOTE_H

#include "plugbox.h"

#include <stddef.h>

/** Fill the note fields of `cr` (has_note, fault_address, pc,
 *  module_offset, module and, when the note names one, call) from the
 *  newest note line in `log`, and last_log from the lines before it.
 *  A log without a note only sets last_log. */
void pb_crash_note_parse(const char* log, pb_crash_t* cr);

#endif /* PB_HOST_CRASH_NOTE_H */
