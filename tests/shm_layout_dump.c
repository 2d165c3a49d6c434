/* pb_shm_layout_dump: every field of the shared block (common/shm.h) as
 * "struct.field offset size" lines, then each struct's size and the
 * constants.  Built for x86_64 and, as pb_shm_layout_dump-32, for i386:
 * test_bridge32 compares the two outputs byte for byte. */
#include "common/shm.h"

#include <stddef.h>
#include <stdio.h>

#define FIELD(type, field)                                                     \
  printf("%s.%s %zu %zu\n",                                                    \
         #type,                                                                \
         #field,                                                               \
         offsetof(struct type, field),                                         \
         sizeof(((struct type*)0)->field))
#define SIZE(type) printf("sizeof %s %zu\n", #type, sizeof(struct type))

static void
dump_header(void)
{
  FIELD(pb_shm_header, magic);
  FIELD(pb_shm_header, layout_version);
  FIELD(pb_shm_header, header_size);
  FIELD(pb_shm_header, total_size);
  FIELD(pb_shm_header, max_frames);
  FIELD(pb_shm_header, n_in_channels);
  FIELD(pb_shm_header, n_out_channels);
  FIELD(pb_shm_header, sample_bytes);
  FIELD(pb_shm_header, request_seq);
  FIELD(pb_shm_header, done_seq);
  FIELD(pb_shm_header, audio_offset);
  FIELD(pb_shm_header, host_cpu);
  FIELD(pb_shm_header, host_state);
  FIELD(pb_shm_header, bridge_cpu);
  FIELD(pb_shm_header, bridge_state);
  FIELD(pb_shm_header, hot_mode);
  FIELD(pb_shm_header, claim_seq);
  FIELD(pb_shm_header, standby_seq);
  FIELD(pb_shm_header, standby_cpu);
  FIELD(pb_shm_header, one_thread);
  FIELD(pb_shm_header, audio_priority);
  FIELD(pb_shm_header, collected_seq);
  FIELD(pb_shm_header, reserved);
  SIZE(pb_shm_header);
}

static void
dump_request(void)
{
  FIELD(pb_shm_transport, flags);
  FIELD(pb_shm_transport, time_sig_num);
  FIELD(pb_shm_transport, time_sig_den);
  FIELD(pb_shm_transport, reserved);
  FIELD(pb_shm_transport, tempo_bpm);
  FIELD(pb_shm_transport, sample_pos);
  FIELD(pb_shm_transport, ppq_pos);
  FIELD(pb_shm_transport, bar_start_ppq);
  FIELD(pb_shm_transport, loop_start_ppq);
  FIELD(pb_shm_transport, loop_end_ppq);
  SIZE(pb_shm_transport);
  FIELD(pb_shm_param_change, frame);
  FIELD(pb_shm_param_change, index);
  FIELD(pb_shm_param_change, value);
  SIZE(pb_shm_param_change);
  FIELD(pb_shm_midi_event, frame);
  FIELD(pb_shm_midi_event, size);
  FIELD(pb_shm_midi_event, data);
  FIELD(pb_shm_midi_event, sysex_offset);
  SIZE(pb_shm_midi_event);
  FIELD(pb_shm_request, n_frames);
  FIELD(pb_shm_request, precision);
  FIELD(pb_shm_request, n_param_changes);
  FIELD(pb_shm_request, n_midi);
  FIELD(pb_shm_request, sysex_bytes);
  FIELD(pb_shm_request, reserved);
  FIELD(pb_shm_request, transport);
  FIELD(pb_shm_request, params);
  FIELD(pb_shm_request, midi);
  FIELD(pb_shm_request, sysex);
  SIZE(pb_shm_request);
}

static void
dump_reply(void)
{
  FIELD(pb_shm_param_event, frame);
  FIELD(pb_shm_param_event, index);
  FIELD(pb_shm_param_event, value);
  FIELD(pb_shm_param_event, kind);
  SIZE(pb_shm_param_event);
  FIELD(pb_shm_reply, status);
  FIELD(pb_shm_reply, n_midi);
  FIELD(pb_shm_reply, sysex_bytes);
  FIELD(pb_shm_reply, n_automation);
  FIELD(pb_shm_reply, midi);
  FIELD(pb_shm_reply, sysex);
  FIELD(pb_shm_reply, n_param_events);
  FIELD(pb_shm_reply, n_param_dropped);
  FIELD(pb_shm_reply, param_events);
  FIELD(pb_shm_reply, replied_ns);
  FIELD(pb_shm_reply, plugin_ns);
  SIZE(pb_shm_reply);
  FIELD(pb_shm_slot, request);
  FIELD(pb_shm_slot, reply);
  SIZE(pb_shm_slot);
  FIELD(pb_shm_block, header);
  FIELD(pb_shm_block, slot);
  SIZE(pb_shm_block);
}

int
main(void)
{
  dump_header();
  dump_request();
  dump_reply();
  printf("PB_SHM_MAGIC %u\n", (unsigned)PB_SHM_MAGIC);
  printf("PB_SHM_LAYOUT_VERSION %u\n", (unsigned)PB_SHM_LAYOUT_VERSION);
  printf("PB_SHM_AUDIO_OFFSET %u\n", (unsigned)PB_SHM_AUDIO_OFFSET);
  printf("PB_SHM_SLOTS %u\n", (unsigned)PB_SHM_SLOTS);
  printf("PB_SHM_PARAM_EVENT_MAX %u\n", (unsigned)PB_SHM_PARAM_EVENT_MAX);
  printf("pb_shm_size(512,2,2) %zu\n", pb_shm_size(512, 2, 2));
  printf("pb_shm_size(4096,32,32) %zu\n", pb_shm_size(4096, 32, 32));
  return 0;
}
