/* pb_test_noentry: a shared object with exported code but neither
 * VSTPluginMain nor main. */
#include "plugin_base.h"

PB_TP_EXPORT int pb_test_noentry_marker(void);

int
pb_test_noentry_marker(void)
{
  return 42;
}
