/* pb_test_missingdep: a plugin that would work, but needs
 * libpb_test_gone.so, which the loader cannot find. */
#include "plugin_base.h"

int pb_test_gone_value(void);

static intptr_t
dispatcher(pb_vst_effect_t* effect,
           int32_t opcode,
           int32_t index,
           intptr_t value,
           void* ptr,
           float opt)
{
  (void)effect;
  (void)opcode;
  (void)index;
  (void)value;
  (void)ptr;
  (void)opt;
  return 0;
}

static pb_vst_effect_t effect = {
  .magic = PB_VST_MAGIC,
  .dispatcher = dispatcher,
};

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  (void)host;
  effect.version = pb_test_gone_value();
  return &effect;
}
