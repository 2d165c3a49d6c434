/* pb_test_nullentry: the entry point refuses to make an effect. */
#include "plugin_base.h"

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  (void)host;
  return NULL;
}
