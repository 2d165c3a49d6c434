/* See anticipate.h. */
#include "bridge/anticipate.h"

void
pb_anticipate_init(pb_anticipate_t* a, uint64_t now)
{
  a->arrived_ns = now;
  a->period_ns = 0;
  a->due_ns = now;
  a->late_ns = 0;
  a->trail_ns = PB_ANT_TRAIL_NS;
  a->steady = 0;
  a->misses = 0;
  a->owed = 0;
  a->edge_ref_ns = 0;
  a->edge_ns = 0;
  a->edge_last_ns = 0;
  a->edge_slope_ns = 0;
  a->edge_n = 0;
  a->edge_have_last = 0;
}

int
pb_anticipate_steady(const pb_anticipate_t* a)
{
  return a->steady >= PB_ANT_STEADY_RUN &&
         a->period_ns <= PB_ANT_STEADY_MAX_NS &&
         a->period_ns > 4u * (PB_ANT_LEAD_NS + PB_ANT_TRAIL_NS);
}

/* How late after the expected time the host rings, most times: the
 * spinning goes on that long (at least TRAIL_NS, at most MAX_TRAIL_NS
 * and a quarter of the period).  Like the timers' lateness, it follows a
 * later ring by half at once and an earlier one by a 64th. */
static void
note_host_lateness(pb_anticipate_t* a, int64_t err, uint64_t period)
{
  const uint64_t late = err > 0 ? (uint64_t)err + PB_ANT_TRAIL_NS / 2u : 0u;
  uint64_t t = a->trail_ns;
  if (late > t)
    t += (late - t) / 2u;
  else
    t -= (t - late) / 64u;
  const uint64_t max =
    period / 4u < PB_ANT_MAX_TRAIL_NS ? period / 4u : PB_ANT_MAX_TRAIL_NS;
  a->trail_ns = t < PB_ANT_TRAIL_NS ? PB_ANT_TRAIL_NS : t > max ? max : t;
}

/* `sent` came one period (`last`, as learnt before it) after the arrival
 * before, on the grid or at a new phase of its own: follow the early
 * edge (see pb_anticipate_arrival()), unless it ends a row of misses.
 * Any other arrival starts it anew (edge_ref_ns = 0).  After a
 * correction the run before is no baseline: its earliest arrival was the
 * first of a ramp now ended. */
static void
follow_edge(pb_anticipate_t* a, uint64_t sent, uint64_t last)
{
  if (a->misses) {
    a->edge_ref_ns = 0;
    return;
  }
  if (!a->edge_ref_ns) {
    a->edge_ref_ns = sent;
    a->edge_n = 0;
    a->edge_have_last = 0;
    a->edge_slope_ns = 0;
  } else {
    a->edge_ref_ns += last;
  }
  const int64_t off = (int64_t)(sent - a->edge_ref_ns);
  if (a->edge_n == 0 || off < a->edge_ns)
    a->edge_ns = off;
  if (++a->edge_n < PB_ANT_EDGE_RUN)
    return;
  const int64_t slope =
    a->edge_have_last ? (a->edge_ns - a->edge_last_ns) / PB_ANT_EDGE_RUN : 0;
  a->edge_n = 0;
  /* Twice in a row: a host whose lateness stepped up once (a new phase
   * within the tolerance) moves one run's earliest arrival, not two. */
  if (slope > PB_ANT_EDGE_MIN_NS && a->edge_slope_ns > PB_ANT_EDGE_MIN_NS) {
    a->period_ns +=
      (uint64_t)(slope < a->edge_slope_ns ? slope : a->edge_slope_ns);
    a->edge_have_last = 0;
    a->edge_slope_ns = 0;
    return;
  }
  a->edge_slope_ns = slope;
  a->edge_last_ns = a->edge_ns;
  a->edge_have_last = 1;
}

void
pb_anticipate_arrival(pb_anticipate_t* a, uint64_t sent)
{
  const uint64_t period = sent - a->arrived_ns;
  const uint64_t last = a->period_ns;
  const int64_t tolerance = (int64_t)(last / 4u);
  const int64_t err = (int64_t)(sent - a->due_ns);
  const int64_t diff = (int64_t)(period - last);
  a->arrived_ns = sent;
  if (last && err <= tolerance && err >= -tolerance) {
    const int64_t step = err < 0 ? err / 2 : err / 16;
    note_host_lateness(a, err, last);
    a->period_ns = (uint64_t)((int64_t)last + (err < 0 ? err / 32 : err / 512));
    follow_edge(a, sent, last);
    a->due_ns = (uint64_t)((int64_t)a->due_ns + step) + a->period_ns;
    /* Only a whole period since the last ring clears the misses: a host
     * whose period became 1.5 times the old one lands on the old grid
     * every other ring, and must still count as missing it. */
    if (diff <= tolerance && diff >= -tolerance)
      a->misses = 0;
    a->owed = 0;
  } else if (last && diff <= tolerance && diff >= -tolerance) {
    /* Same period, new phase: the host's (after a miss), or the grid's
     * of a period learnt short (ring after ring later, until here). */
    a->due_ns = sent + last;
    follow_edge(a, sent, last);
  } else if (last && pb_anticipate_steady(a) && err < 0 && a->owed > 0) {
    /* Catching up on a grid point it was held up for: the grid holds. */
    --a->owed;
    a->edge_ref_ns = 0;
    return;
  } else if (last && pb_anticipate_steady(a) && ++a->misses < PB_ANT_MISS_RUN) {
    /* Off the grid: the next grid point at least half a period ahead.
     * Held up past whole grid points, the host may ring for them soon. */
    if (err > 0) {
      const uint64_t owed = ((uint64_t)err + last / 4u) / last;
      a->owed = owed < PB_ANT_MAX_OWED ? (int)owed : PB_ANT_MAX_OWED;
    }
    a->edge_ref_ns = 0;
    const uint64_t from = sent + last / 2u;
    if (a->due_ns < from)
      a->due_ns += (from - a->due_ns + last - 1u) / last * last;
    return;
  } else {
    a->steady = 0;
    a->misses = 0;
    a->owed = 0;
    a->edge_ref_ns = 0;
    a->period_ns = period;
    a->due_ns = sent + period;
    return;
  }
  a->steady += a->steady < PB_ANT_STEADY_RUN ? 1 : 0;
}

void
pb_anticipate_timer(pb_anticipate_t* a, uint64_t wake, uint64_t now)
{
  const uint64_t late = now > wake ? now - wake : 0u;
  if (late >= PB_ANT_MAX_LATE_NS)
    return;
  if (late > a->late_ns)
    a->late_ns += (late - a->late_ns) / 2u;
  else
    a->late_ns -= (a->late_ns - late) / 32u;
  if (a->late_ns > PB_ANT_MAX_LEAD_NS)
    a->late_ns = PB_ANT_MAX_LEAD_NS;
}

int
pb_anticipate_in_window(const pb_anticipate_t* a, uint64_t now)
{
  return pb_anticipate_steady(a) &&
         now + PB_ANT_LEAD_NS + a->late_ns >= a->due_ns &&
         now < a->due_ns + a->trail_ns;
}

uint64_t
pb_anticipate_wake(const pb_anticipate_t* a)
{
  return a->due_ns - PB_ANT_LEAD_NS - a->late_ns;
}
