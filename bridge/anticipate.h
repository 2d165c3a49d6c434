/* How the bridge's audio thread anticipates a host that calls at a steady
 * period (one paced by its audio device): the period and phase learned
 * from the host's own ring times, how late the host rings, and how late
 * the thread's own timers fire.  Pure arithmetic on caller storage, so
 * that it can be tested alone (tests/test_anticipate.c); bridge/audio.c
 * decides what to do with it. */
#ifndef PB_BRIDGE_ANTICIPATE_H
#define PB_BRIDGE_ANTICIPATE_H

#include <stdint.h>

enum
{
  PB_ANT_LEAD_NS = 50000,           /* spin from this long before it is due */
  PB_ANT_TRAIL_NS = 120000,         /* ... to at least this long after */
  PB_ANT_MAX_LATE_NS = 1000000,     /* a lateness above this is not the usual */
  PB_ANT_STEADY_MAX_NS = 250000000, /* longer periods are not anticipated */
  PB_ANT_STEADY_RUN = 3,            /* arrivals on the grid before steady */
  PB_ANT_MISS_RUN = 3,          /* arrivals off the grid before relearning */
  PB_ANT_MAX_LEAD_NS = 300000,  /* the most timer lateness adds to the lead */
  PB_ANT_MAX_TRAIL_NS = 500000, /* the most host lateness adds to the trail */
  PB_ANT_MAX_OWED = 64,         /* grid points a held-up host may catch up */
  PB_ANT_EDGE_RUN = 16,         /* arrivals per look at the early edge */
  PB_ANT_EDGE_MIN_NS = 8000,    /* a smaller slope a ring is left alone */
};

typedef struct
{
  uint64_t arrived_ns; /* when the host last rang */
  uint64_t period_ns;  /* the host's period, once learned; 0 before */
  uint64_t due_ns;     /* when the next ring is expected */
  uint64_t late_ns;    /* how late this thread's timers fire, most times */
  uint64_t trail_ns;   /* how late after due_ns the host rings, most times */
  int steady;          /* arrivals in a row on the grid, up to STEADY_RUN */
  int misses;          /* arrivals in a row off a steady grid */
  int owed;            /* grid points a held-up host may ring late for */
  /* The early edge of the arrivals against a grid of the learnt period:
   * its slope says by how much that period is short. */
  uint64_t edge_ref_ns;  /* that grid's point for the last arrival; 0: none */
  int64_t edge_ns;       /* the earliest arrival against it in this run */
  int64_t edge_last_ns;  /* ... in the run before, if edge_have_last */
  int64_t edge_slope_ns; /* the slope the last two runs showed */
  int edge_n;            /* arrivals in this run, up to EDGE_RUN */
  int edge_have_last;
} pb_anticipate_t;

/** Start with nothing learned, as if the host rang at `now`. */
void pb_anticipate_init(pb_anticipate_t* a, uint64_t now);

/** The host rang at `sent` (its own clock reading, CLOCK_MONOTONIC).  A
 *  host paced by a timer or a device keeps its grid and is late by a
 *  varying amount, never early: the expected time tracks the early edge
 *  of the arrivals (an earlier one moves it by half the error at once, a
 *  later one by a sixteenth; the period learns late ones 16x slower than
 *  early ones).  Arrivals off the grid (the host held up once) keep the
 *  grid for up to MISS_RUN - 1 of them, counted until a ring comes a
 *  whole period after the one before; a host held up past whole grid
 *  points may then ring for them back to back (one paced by an absolute
 *  timer does), up to MAX_OWED of them, without counting as misses.  A
 *  period learnt short (from one interval after a relearn) would take
 *  hundreds of rings that way, each late against the one before: the
 *  earliest arrival of each run of EDGE_RUN on the grid, against a grid
 *  of the learnt period, moves later by EDGE_RUN times the shortfall,
 *  which is added to the period once two runs in a row showed it. */
void pb_anticipate_arrival(pb_anticipate_t* a, uint64_t sent);

/** A timed sleep meant to end at `wake` ended at `now`.  The estimate
 *  follows the slow ends (half of a larger lateness at once) and forgets
 *  them slowly (a 32nd of each smaller one), so that the lead covers
 *  most wake-ups, not the average one; at most MAX_LEAD_NS. */
void pb_anticipate_timer(pb_anticipate_t* a, uint64_t wake, uint64_t now);

/** Whether the host calls at a steady period worth anticipating. */
int pb_anticipate_steady(const pb_anticipate_t* a);

/** Whether `now` is in the window around the next expected ring: from
 *  LEAD_NS plus the timers' lateness before it to the trail after. */
int pb_anticipate_in_window(const pb_anticipate_t* a, uint64_t now);

/** When a timed sleep should end to be awake at the window's start. */
uint64_t pb_anticipate_wake(const pb_anticipate_t* a);

#endif /* PB_BRIDGE_ANTICIPATE_H */
