/* pb_test_events: a stereo pass-through (output = input, bit for bit)
 * that raises host events on cue, for tests/test_events.c.
 *
 * Latency: the initial delay is 0 after open, MAINS_DELAY once resumed
 * (effMainsChanged on) and START_DELAY once processing starts
 * (effStartProcess), each time and silently, as many plugins do.  Setting
 * "Latency" to v sets it to round(v * LATENCY_SCALE) and says so with
 * audioMasterIOChanged.
 *
 * Automation: with "Automate" at v, each processReplacing call raises
 * audioMasterBeginEdit(Target), n = round(v * AUTOMATE_SCALE) times
 * audioMasterAutomate(Target, k / 1024) for k = 0..n-1, then
 * audioMasterEndEdit(Target).  Setting "Echo" raises
 * audioMasterAutomate(Echo, value) from setParameter, on whichever thread
 * sets it (the bridge's main thread for a control call, its audio thread
 * for a timed change in a block). */
#include "plugin_base.h"

#include <math.h>
#include <string.h>

enum
{
  P_LATENCY,
  P_AUTOMATE,
  P_TARGET,
  P_ECHO,
  N_PARAMS
};

enum
{
  MAINS_DELAY = 64,
  START_DELAY = 128,
  LATENCY_SCALE = 1000,
  AUTOMATE_SCALE = 1000,
};

typedef struct
{
  pb_tp_plugin_t base;
  float values[N_PARAMS];
} events_t;

static const char* const param_names[N_PARAMS] = { "Latency",
                                                   "Automate",
                                                   "Target",
                                                   "Echo" };

static const pb_tp_desc_t desc = {
  .name = "plugbox test events",
  .vendor = "plugbox tests",
  .product = "plugbox test events",
  .vendor_version = 1,
  .category = PB_VST_CAT_EFFECT,
  .vst_version = 2400,
};

static events_t*
self_of(pb_vst_effect_t* effect)
{
  return (events_t*)effect->object;
}

static intptr_t
dispatcher(pb_vst_effect_t* effect,
           int32_t opcode,
           int32_t index,
           intptr_t value,
           void* ptr,
           float opt)
{
  switch (opcode) {
    case PB_VST_EFF_MAINS_CHANGED:
      if (value)
        effect->initial_delay = MAINS_DELAY;
      break;
    case PB_VST_EFF_START_PROCESS:
      effect->initial_delay = START_DELAY;
      return 0;
    case PB_VST_EFF_GET_PARAM_NAME:
      if (index < 0 || index >= N_PARAMS)
        return 0;
      return pb_tp_str_copy(ptr, param_names[index], 32);
    default:
      break;
  }
  return pb_tp_dispatch_default(effect, opcode, index, value, ptr, opt);
}

static void
set_parameter(pb_vst_effect_t* effect, int32_t index, float value)
{
  events_t* self = self_of(effect);
  if (index < 0 || index >= N_PARAMS)
    return;
  self->values[index] = pb_tp_clamp01(value);
  if (index == P_LATENCY) {
    effect->initial_delay =
      (int32_t)lroundf(self->values[index] * (float)LATENCY_SCALE);
    (void)self->base.host(effect, PB_VST_HOST_IO_CHANGED, 0, 0, NULL, 0.0f);
  } else if (index == P_ECHO) {
    (void)self->base.host(
      effect, PB_VST_HOST_AUTOMATE, P_ECHO, 0, NULL, self->values[index]);
  }
}

static float
get_parameter(pb_vst_effect_t* effect, int32_t index)
{
  const events_t* self = self_of(effect);
  return index >= 0 && index < N_PARAMS ? self->values[index] : 0.0f;
}

static void
process(pb_vst_effect_t* effect,
        float** inputs,
        float** outputs,
        int32_t n_frames)
{
  events_t* self = self_of(effect);
  const pb_vst_host_cb_t host = self->base.host;
  const long n = lroundf(self->values[P_AUTOMATE] * (float)AUTOMATE_SCALE);
  if (n > 0) {
    (void)host(effect, PB_VST_HOST_BEGIN_EDIT, P_TARGET, 0, NULL, 0.0f);
    for (long k = 0; k < n; ++k)
      (void)host(
        effect, PB_VST_HOST_AUTOMATE, P_TARGET, 0, NULL, (float)k / 1024.0f);
    (void)host(effect, PB_VST_HOST_END_EDIT, P_TARGET, 0, NULL, 0.0f);
  }
  for (int c = 0; c < 2; ++c)
    memcpy(outputs[c], inputs[c], (size_t)n_frames * sizeof(float));
}

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  if (!host)
    return NULL;
  events_t* self =
    (events_t*)pb_tp_plugin_new(sizeof(events_t), host, &desc, dispatcher);
  if (!self)
    return NULL;
  pb_vst_effect_t* effect = &self->base.effect;
  effect->set_parameter = set_parameter;
  effect->get_parameter = get_parameter;
  effect->process_replacing = process;
  effect->num_params = N_PARAMS;
  effect->num_inputs = 2;
  effect->num_outputs = 2;
  effect->flags = PB_VST_FLAG_CAN_REPLACING;
  effect->unique_id = PB_TP_ID('P', 'b', 'E', 'v');
  effect->version = 1;
  return effect;
}
