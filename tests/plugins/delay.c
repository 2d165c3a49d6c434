/* pb_test_delay: a stereo delay of exactly DELAY_FRAMES frames that
 * declares them as its latency (initial delay), so that a host's latency
 * compensation can be checked sample for sample. */
#include "plugin_base.h"

#include <string.h>

enum
{
  DELAY_FRAMES = 100
};

typedef struct
{
  pb_tp_plugin_t base;
  float line[2][DELAY_FRAMES];
  int32_t at; /* next slot to read, then write */
} delay_t;

static const pb_tp_desc_t desc = {
  .name = "plugbox test delay",
  .vendor = "plugbox tests",
  .product = "plugbox test delay",
  .vendor_version = 10000,
  .category = PB_VST_CAT_EFFECT,
  .vst_version = 2400,
};

static intptr_t
dispatcher(pb_vst_effect_t* effect,
           int32_t opcode,
           int32_t index,
           intptr_t value,
           void* ptr,
           float opt)
{
  delay_t* self = (delay_t*)effect->object;
  if (opcode == PB_VST_EFF_MAINS_CHANGED && value) {
    memset(self->line, 0, sizeof self->line);
    self->at = 0;
  }
  return pb_tp_dispatch_default(effect, opcode, index, value, ptr, opt);
}

static void
process(pb_vst_effect_t* effect,
        float** inputs,
        float** outputs,
        int32_t n_frames)
{
  delay_t* self = (delay_t*)effect->object;
  for (int32_t i = 0; i < n_frames; ++i) {
    for (int c = 0; c < 2; ++c) {
      const float in = inputs[c][i];
      outputs[c][i] = self->line[c][self->at];
      self->line[c][self->at] = in;
    }
    self->at = (self->at + 1) % DELAY_FRAMES;
  }
}

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  if (!host)
    return NULL;
  delay_t* self =
    (delay_t*)pb_tp_plugin_new(sizeof(delay_t), host, &desc, dispatcher);
  if (!self)
    return NULL;
  pb_vst_effect_t* effect = &self->base.effect;
  effect->process_replacing = process;
  effect->num_inputs = 2;
  effect->num_outputs = 2;
  effect->initial_delay = DELAY_FRAMES;
  effect->flags = PB_VST_FLAG_CAN_REPLACING;
  effect->unique_id = PB_TP_ID('P', 'b', 'D', 'l');
  effect->version = 1;
  return effect;
}
