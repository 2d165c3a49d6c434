/* Monotonic time for deadlines and measurements. */
#define _POSIX_C_SOURCE 200809L

#include "common/clock.h"

#include <time.h>

uint64_t
pb_clock_now_ns(void)
{
  struct timespec ts;
  /* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
pb_clock_now_ms(void)
{
  return pb_clock_now_ns() / 1000000u;
}
