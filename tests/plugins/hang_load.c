/* pb_test_hang_load: the entry point never returns. */
#define _POSIX_C_SOURCE 200809L

#include "plugin_base.h"

#include <unistd.h>

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  (void)host;
  for (;;)
    sleep(1000);
}
