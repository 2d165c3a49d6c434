/* pb_test_crash_load: the entry point dies of SIGSEGV, by writing to a
 * page it has mapped without access (a real fault, not a raised signal). */
#define _DEFAULT_SOURCE

#include "plugin_base.h"

#include <signal.h>
#include <sys/mman.h>

pb_vst_effect_t*
VSTPluginMain(pb_vst_host_cb_t host)
{
  (void)host;
  void* page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page != MAP_FAILED)
    *(volatile int*)page = 1;
  raise(SIGSEGV);
  return NULL;
}
