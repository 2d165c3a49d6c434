/* pb_test_odd: legal but unusual values.  No parameters, no programs, one
 * input and no output, a unique id with unprintable bytes, an unknown
 * category, strings far longer than the format documents, a latency, and
 * no answer to any canDo question or pin query. */
#include "plugin_base.h"
#include "odd_strings.h"

#include <string.h>

typedef struct
{
  pb_tp_plugin_t base;
  char name[PB_ODD_NAME_LEN + 1];
  char vendor[PB_ODD_VENDOR_LEN + 1];
  char product[PB_ODD_PRODUCT_LEN + 1];
  pb_tp_desc_t desc;
} odd_t;

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

static void
process(pb_vst_effect_t* effect,
        float** inputs,
        float** outputs,
        int32_t n_frames)
{
  (void)effect;
  (void)inputs;
  (void)outputs;
  (void)n_frames;
}

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  if (!host)
    return NULL;
  odd_t* odd = (odd_t*)pb_tp_plugin_new(sizeof(odd_t), host, NULL, dispatcher);
  if (!odd)
    return NULL;
  pb_odd_text(odd->name, "plugbox test odd name ", PB_ODD_NAME_LEN);
  pb_odd_text(odd->vendor, "plugbox test odd vendor ", PB_ODD_VENDOR_LEN);
  pb_odd_text(odd->product, "plugbox test odd product ", PB_ODD_PRODUCT_LEN);
  odd->desc = (pb_tp_desc_t){
    .name = odd->name,
    .vendor = odd->vendor,
    .product = odd->product,
    .vendor_version = -5,
    .category = PB_VST_CAT_UNKNOWN,
    .vst_version = 2400,
    .tail_size = 48000,
  };
  odd->base.desc = &odd->desc;
  pb_vst_effect_t* effect = &odd->base.effect;
  effect->process_replacing = process;
  effect->num_inputs = 1;
  effect->num_outputs = 0;
  effect->flags = PB_VST_FLAG_CAN_REPLACING;
  effect->initial_delay = 123;
  effect->unique_id = PB_TP_ID(0x01, 'o', 'd', 0x7f);
  effect->version = 0;
  return effect;
}
