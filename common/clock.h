/* Monotonic time.  Pure code; no libuv. */
#ifndef PB_COMMON_CLOCK_H
#define PB_COMMON_CLOCK_H

#include <stdint.h>

/** Nanoseconds of CLOCK_MONOTONIC. */
uint64_t pb_clock_now_ns(void);

/** Milliseconds of CLOCK_MONOTONIC. */
uint64_t pb_clock_now_ms(void);

#endif /* PB_COMMON_CLOCK_H */
