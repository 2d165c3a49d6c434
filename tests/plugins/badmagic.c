/* pb_test_badmagic: the entry point returns an effect whose magic is
 * wrong.  A host must not call anything through it. */
#include "plugin_base.h"

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
  .magic = 0x50747356, /* the right bytes in the wrong order */
  .dispatcher = dispatcher,
  .num_inputs = 2,
  .num_outputs = 2,
};

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  (void)host;
  return &effect;
}
