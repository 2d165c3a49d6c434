// plugbox.h must compile alone as C++ and link with C linkage.
#include "plugbox.h"

int
main()
{
  pb_open_opts_t opts;
  pb_open_opts_init(&opts);
  return opts.struct_size == sizeof(opts) ? 0 : 1;
}
