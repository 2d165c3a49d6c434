/* plugbox.h must compile alone as C11 (this file) and as C++
 * (header_cxx.cpp), with the strictest warnings. */
#include "plugbox.h"

int
main(void)
{
  pb_open_opts_t opts;
  pb_open_opts_init(&opts);
  return opts.struct_size == sizeof(opts) ? 0 : 1;
}
