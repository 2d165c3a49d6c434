/* The audioMaster callback the bridge gives its plugin.
 *
 * Every question is answered at once from the bridge's own state (what the
 * host has sent: sample rate, block size; what the bridge knows: the
 * plugin's folder), so no callback ever waits on a round trip to the host.
 * What the host must learn (automation, edits, I/O changes) is queued as an
 * event.  There is one plugin per bridge, so the state is process-wide: a
 * plugin may call back before its entry point has returned, when there is
 * no effect pointer to hang state on. */
#ifndef PB_BRIDGE_HOST_CB_H
#define PB_BRIDGE_HOST_CB_H

#include "bridge/events.h"
#include "common/vst2_abi.h"

#include <stdint.h>

/** Reset the state and send events to `events` (borrowed; must outlive
 *  every plugin call).  [main-thread] */
void pb_host_cb_init(pb_events_t* events);

/** Remember the folder of `plugin_path` for GET_DIRECTORY.  Call before
 *  loading the plugin.  [main-thread] */
void pb_host_cb_set_directory(const char* plugin_path);

/** The effect that was loaded (NULL before), for CURRENT_ID, IO_CHANGED
 *  and parameter range checks.  Call before effOpen.  [main-thread] */
void pb_host_cb_set_effect(pb_vst_effect_t* effect);

/** Remember the loaded plugin's latency (initial delay) as the one the
 *  host knows; call once the plugin is open.  [main-thread] */
void pb_host_cb_note_latency(void);

/** Re-read the latency (after mains on or start process, where plugins
 *  often settle it) and send a LATENCY event if it changed.
 *  [main-thread] */
void pb_host_cb_report_latency(void);

/** [main-thread] */
void pb_host_cb_set_sample_rate(float hz);

/** [main-thread] */
void pb_host_cb_set_block_size(int32_t n_frames);

/** The callback itself, handed to the plugin's entry point.  [any-thread]
 *  Pointers it returns (time info, directory) are owned by the bridge:
 *  the time info is per thread and valid until that thread's next
 *  GET_TIME; the directory until exit. */
intptr_t pb_host_cb_dispatch(pb_vst_effect_t* effect,
                             int32_t opcode,
                             int32_t index,
                             intptr_t value,
                             void* ptr,
                             float opt);

#endif /* PB_BRIDGE_HOST_CB_H */
