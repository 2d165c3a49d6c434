/* pb_test_crash_process: a stereo pass-through that loads and answers like
 * any effect, then dies of SIGSEGV in its process call once a quarter of a
 * second of audio has gone through it, so that a host's handling of a
 * crash in the middle of a file can be checked. */
#define _DEFAULT_SOURCE

#include "plugin_base.h"

#include <signal.h>
#include <sys/mman.h>

typedef struct
{
  pb_tp_plugin_t base;
  double frames; /* processed so far */
} crash_t;

static const pb_tp_desc_t desc = {
  .name = "plugbox test crash in process",
  .vendor = "plugbox tests",
  .product = "plugbox test crash in process",
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
  return pb_tp_dispatch_default(effect, opcode, index, value, ptr, opt);
}

/* A real fault, as a buggy plugin would make: a write to a page without
 * access. */
static void
crash(void)
{
  void* page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page != MAP_FAILED)
    *(volatile int*)page = 1;
  raise(SIGSEGV);
}

static void
process(pb_vst_effect_t* effect,
        float** inputs,
        float** outputs,
        int32_t n_frames)
{
  crash_t* self = (crash_t*)effect->object;
  if (self->frames >= (double)self->base.sample_rate / 4.0)
    crash();
  self->frames += n_frames;
  for (int c = 0; c < 2; ++c)
    for (int32_t i = 0; i < n_frames; ++i)
      outputs[c][i] = inputs[c][i];
}

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  if (!host)
    return NULL;
  crash_t* self =
    (crash_t*)pb_tp_plugin_new(sizeof(crash_t), host, &desc, dispatcher);
  if (!self)
    return NULL;
  pb_vst_effect_t* effect = &self->base.effect;
  effect->process_replacing = process;
  effect->num_inputs = 2;
  effect->num_outputs = 2;
  effect->flags = PB_VST_FLAG_CAN_REPLACING;
  effect->unique_id = PB_TP_ID('P', 'b', 'C', 'p');
  effect->version = 1;
  return effect;
}
