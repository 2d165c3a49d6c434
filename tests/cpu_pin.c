/* See cpu_pin.h. */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */

#include "cpu_pin.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>

static cpu_set_t pinned_from;

int
pb_test_pin_here(void)
{
  CPU_ZERO(&pinned_from);
  if (sched_getaffinity(0, sizeof pinned_from, &pinned_from) != 0 ||
      CPU_COUNT(&pinned_from) < 2)
    return 0;
  const int cpu = sched_getcpu();
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET((size_t)(cpu >= 0 ? cpu : 0), &one);
  return sched_setaffinity(0, sizeof one, &one) == 0;
}

int
pb_test_unpin(void)
{
  return sched_setaffinity(0, sizeof pinned_from, &pinned_from) == 0 ? 0
                                                                     : -errno;
}
