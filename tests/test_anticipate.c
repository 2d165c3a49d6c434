/* The bridge's anticipation of a steady host (bridge/anticipate.c): fed
 * synthetic ring times, it must learn the period, keep the expected time
 * at the early edge of a host that is late by varying amounts, keep its
 * grid across a late ring but relearn after a run of them, and keep its
 * lead and trail within their bounds. */
#include "bridge/anticipate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

enum
{
  PERIOD = 1333333, /* 64 frames at 48 kHz, ns */
  START = 1000000000,
};

/* The grid point k of a host that started at START. */
static uint64_t
grid(uint64_t k)
{
  return (uint64_t)START + k * PERIOD;
}

/* A deterministic lateness in [0, max_ns): a host woken by a timer. */
static uint64_t
lateness(uint32_t* seed, uint64_t max_ns)
{
  *seed = *seed * 1664525u + 1013904223u;
  return (uint64_t)(*seed >> 8) % max_ns;
}

/* Start `a` at grid(0) and ring exactly on grid(1) .. grid(n - 1);
 * returns n, the next grid point's number. */
static uint64_t
rings_on_the_grid(pb_anticipate_t* a, uint64_t n)
{
  pb_anticipate_init(a, grid(0));
  for (uint64_t k = 1; k < n; ++k)
    pb_anticipate_arrival(a, grid(k));
  return n;
}

static void
steady_after_three_rings_on_the_grid(void** state)
{
  (void)state;
  pb_anticipate_t a;
  pb_anticipate_init(&a, grid(0));
  assert_false(pb_anticipate_steady(&a));
  pb_anticipate_arrival(&a, grid(1)); /* learns the period */
  assert_int_equal(a.period_ns, PERIOD);
  for (uint64_t k = 2; k < 2 + PB_ANT_STEADY_RUN; ++k) {
    assert_false(pb_anticipate_steady(&a));
    pb_anticipate_arrival(&a, grid(k));
  }
  assert_true(pb_anticipate_steady(&a));
  assert_int_equal(a.due_ns, grid(2 + PB_ANT_STEADY_RUN));
  /* The window opens LEAD_NS before and closes TRAIL_NS after. */
  const uint64_t due = a.due_ns;
  assert_true(pb_anticipate_in_window(&a, due - PB_ANT_LEAD_NS));
  assert_false(pb_anticipate_in_window(&a, due - PB_ANT_LEAD_NS - 1));
  assert_true(pb_anticipate_in_window(&a, due + PB_ANT_TRAIL_NS - 1));
  assert_false(pb_anticipate_in_window(&a, due + PB_ANT_TRAIL_NS));
  assert_int_equal(pb_anticipate_wake(&a), due - PB_ANT_LEAD_NS);
}

/* A host late by 0-300 µs each time: the expected time stays near the
 * grid (its early edge), well before the mean lateness (150 µs), so the
 * window holds both the earliest rings and most late ones, and the
 * period stays within 5 µs of the truth. */
static void
expected_time_follows_the_early_edge(void** state)
{
  (void)state;
  pb_anticipate_t a;
  uint32_t seed = 1;
  pb_anticipate_init(&a, grid(0));
  uint64_t k = 1;
  unsigned in_window = 0;
  for (; k < 2000; ++k) {
    const uint64_t ring = grid(k) + lateness(&seed, 300000);
    if (k >= 1000)
      in_window += (unsigned)pb_anticipate_in_window(&a, ring);
    pb_anticipate_arrival(&a, ring);
  }
  /* Most rings come while the thread spins (94 % here, with the timers
   * on time; their lateness, learnt, opens the window earlier still). */
  assert_true(in_window >= 900);
  assert_true(pb_anticipate_steady(&a));
  const int64_t off = (int64_t)(a.due_ns - grid(k));
  assert_true(off > -20000 && off < 100000);
  assert_true(pb_anticipate_in_window(&a, grid(k)));
  assert_true(pb_anticipate_in_window(&a, grid(k) + 250000));
  const int64_t drift = (int64_t)a.period_ns - PERIOD;
  assert_true(drift > -5000 && drift < 5000);
  assert_true(a.trail_ns <= PERIOD / 4u);
}

/* One ring far off the grid (the host held up once) keeps the grid and
 * the steadiness: the next ring on the grid is expected. */
static void
one_late_ring_keeps_the_grid(void** state)
{
  (void)state;
  pb_anticipate_t a;
  uint64_t k = rings_on_the_grid(&a, 10);
  pb_anticipate_arrival(&a, grid(k) + 600000); /* beyond a quarter period */
  assert_true(pb_anticipate_steady(&a));
  assert_int_equal(a.due_ns, grid(k + 1));
  ++k;
  pb_anticipate_arrival(&a, grid(k));
  assert_true(pb_anticipate_steady(&a));
  assert_int_equal(a.due_ns, grid(k + 1));
  /* A whole period later the miss is forgotten. */
  ++k;
  pb_anticipate_arrival(&a, grid(k));
  assert_int_equal(a.misses, 0);
}

/* A host whose period changed to 1.5 times the old one (every other ring
 * lands on the old grid) is learnt anew. */
static void
a_run_of_misses_relearns(void** state)
{
  (void)state;
  pb_anticipate_t a;
  uint64_t t = grid(rings_on_the_grid(&a, 11) - 1);
  assert_true(pb_anticipate_steady(&a));
  const uint64_t other = PERIOD * 3u / 2u + 12345u;
  int relearnt = 0;
  for (int i = 0; i < 12; ++i) {
    pb_anticipate_arrival(&a, t += other);
    relearnt |= !pb_anticipate_steady(&a);
  }
  assert_true(relearnt);
  assert_true(pb_anticipate_steady(&a));
  const int64_t drift = (int64_t)a.period_ns - (int64_t)other;
  assert_true(drift > -1000 && drift < 1000);
}

/* The same period at a new phase (a host that restarted its stream)
 * moves the expected time at once and stays steady. */
static void
a_new_phase_is_taken_at_once(void** state)
{
  (void)state;
  pb_anticipate_t a;
  uint64_t k = rings_on_the_grid(&a, 10);
  const uint64_t shift = PERIOD / 2u;
  pb_anticipate_arrival(&a, grid(k) + shift); /* off the grid: a miss */
  ++k;
  pb_anticipate_arrival(&a, grid(k) + shift); /* same period: new phase */
  assert_true(pb_anticipate_steady(&a));
  assert_int_equal(a.due_ns, grid(k + 1) + shift);
}

/* A host held up for two periods that catches up (a late ring, then
 * rings back to back until it is on its grid again, as one paced by an
 * absolute timer does) keeps the grid: those rings are not misses, the
 * ring after them is expected, and the period stays.  Before, the
 * catch-up's short intervals made three misses in a row: the period was
 * relearnt from them, 142 µs short here, and for the next 400 rings half
 * rang after the window. */
static void
a_stall_and_its_catch_up_keep_the_grid(void** state)
{
  (void)state;
  pb_anticipate_t a;
  uint32_t seed = 7;
  pb_anticipate_init(&a, grid(0));
  uint64_t k = 1;
  for (; k < 500; ++k)
    pb_anticipate_arrival(&a, grid(k) + 50000u + lateness(&seed, 100000));
  assert_true(pb_anticipate_steady(&a));
  const uint64_t period = a.period_ns;
  /* Held up 2.67 ms, then each call takes 20 µs until on the grid. */
  uint64_t t = grid(k) + 2670000u;
  pb_anticipate_arrival(&a, t);
  for (++k; grid(k) < t + 20000u; ++k) {
    pb_anticipate_arrival(&a, t += 20000u);
    assert_true(pb_anticipate_steady(&a));
    assert_int_equal(a.period_ns, period);
  }
  assert_true(a.due_ns >= grid(k) && a.due_ns < grid(k) + 100000u);
  unsigned in_window = 0;
  for (uint64_t end = k + 100; k < end; ++k) {
    const uint64_t ring = grid(k) + 50000u + lateness(&seed, 100000);
    in_window += (unsigned)pb_anticipate_in_window(&a, ring);
    pb_anticipate_arrival(&a, ring);
  }
  assert_true(in_window >= 95);
  const int64_t drift = (int64_t)a.period_ns - PERIOD;
  assert_true(drift > -5000 && drift < 5000);
}

/* A host held up for longer than MAX_OWED periods gets no more catch-up
 * rings than that (10 µs apart here, all before the next grid point):
 * past them, rings before the grid are misses again, and a run of them
 * relearns. */
static void
a_catch_up_is_bounded(void** state)
{
  (void)state;
  pb_anticipate_t a;
  uint64_t k = rings_on_the_grid(&a, 10);
  uint64_t t = grid(k) + (PB_ANT_MAX_OWED + 10u) * (uint64_t)PERIOD;
  pb_anticipate_arrival(&a, t);
  assert_int_equal(a.owed, PB_ANT_MAX_OWED);
  for (unsigned i = 0; i < PB_ANT_MAX_OWED; ++i) {
    pb_anticipate_arrival(&a, t += 10000u);
    assert_true(pb_anticipate_steady(&a));
  }
  assert_int_equal(a.owed, 0);
  int relearnt = 0;
  for (unsigned i = 0; i < PB_ANT_MISS_RUN; ++i) {
    pb_anticipate_arrival(&a, t += 10000u);
    relearnt |= !pb_anticipate_steady(&a);
  }
  assert_true(relearnt);
}

/* A period learnt 142 µs short from one interval (the first ring came
 * that late): each ring then comes later against the expected time, and
 * a late ring teaches the period only a 512th of that, so for hundreds
 * of rings half came after the window.  The early edge's slope corrects
 * it within a few runs of EDGE_RUN. */
static void
a_period_learnt_short_is_corrected_soon(void** state)
{
  (void)state;
  pb_anticipate_t a;
  uint32_t seed = 3;
  pb_anticipate_init(&a, grid(0) + 142000u);
  pb_anticipate_arrival(&a, grid(1));
  assert_int_equal(a.period_ns, PERIOD - 142000u);
  unsigned in_window = 0;
  for (uint64_t k = 2; k < 300; ++k) {
    const uint64_t ring = grid(k) + 50000u + lateness(&seed, 100000);
    if (k >= 100)
      in_window += (unsigned)pb_anticipate_in_window(&a, ring);
    pb_anticipate_arrival(&a, ring);
  }
  assert_true(in_window >= 195); /* of 200 */
  const int64_t drift = (int64_t)a.period_ns - PERIOD;
  assert_true(drift > -5000 && drift < 5000);
}

/* A host whose lateness steps up by 200 µs for good (within the
 * tolerance, so its rings stay on the grid): one run's earliest arrival
 * moves, the next runs' do not, and the period is not taken for short. */
static void
a_step_in_lateness_leaves_the_period_alone(void** state)
{
  (void)state;
  pb_anticipate_t a;
  uint32_t seed = 11;
  pb_anticipate_init(&a, grid(0));
  uint64_t k = 1;
  for (; k < 300; ++k)
    pb_anticipate_arrival(&a, grid(k) + 50000u + lateness(&seed, 100000));
  assert_true(pb_anticipate_steady(&a));
  for (; k < 600; ++k) {
    pb_anticipate_arrival(&a, grid(k) + 250000u + lateness(&seed, 100000));
    const int64_t drift = (int64_t)a.period_ns - PERIOD;
    assert_true(drift > -5000 && drift < 5000);
  }
  assert_true(pb_anticipate_steady(&a));
}

/* Too long or too short a period is never anticipated. */
static void
extreme_periods_are_not_steady(void** state)
{
  (void)state;
  static const uint64_t periods[] = {
    PB_ANT_STEADY_MAX_NS + 1000u,
    4u * (PB_ANT_LEAD_NS + PB_ANT_TRAIL_NS),
  };
  for (size_t i = 0; i < sizeof periods / sizeof periods[0]; ++i) {
    pb_anticipate_t a;
    uint64_t t = START;
    pb_anticipate_init(&a, t);
    for (int n = 0; n < 10; ++n)
      pb_anticipate_arrival(&a, t += periods[i]);
    assert_int_equal(a.period_ns, periods[i]);
    assert_false(pb_anticipate_steady(&a));
  }
}

/* The timers' lateness: up by half at once, down by a 32nd, capped, and
 * a lateness past MAX_LATE_NS ignored. */
static void
timer_lateness_follows_the_slow_ends(void** state)
{
  (void)state;
  pb_anticipate_t a;
  pb_anticipate_init(&a, START);
  pb_anticipate_timer(&a, 1000000, 1000000 + 80000);
  assert_int_equal(a.late_ns, 40000);
  pb_anticipate_timer(&a, 1000000, 1000000 + 80000);
  assert_int_equal(a.late_ns, 60000);
  pb_anticipate_timer(&a, 1000000, 1000000); /* on time */
  assert_int_equal(a.late_ns, 60000 - 60000 / 32);
  pb_anticipate_timer(&a, 1000000, 1000000 + PB_ANT_MAX_LATE_NS);
  assert_int_equal(a.late_ns, 60000 - 60000 / 32);
  for (int i = 0; i < 20; ++i)
    pb_anticipate_timer(&a, 1000000, 1000000 + PB_ANT_MAX_LATE_NS - 1);
  assert_int_equal(a.late_ns, PB_ANT_MAX_LEAD_NS);
  /* Early is on time. */
  pb_anticipate_timer(&a, 2000000, 1000000);
  assert_int_equal(a.late_ns, PB_ANT_MAX_LEAD_NS - PB_ANT_MAX_LEAD_NS / 32);
}

/* The trail never drops under TRAIL_NS and never passes its caps. */
static void
trail_stays_within_its_bounds(void** state)
{
  (void)state;
  pb_anticipate_t a;
  uint64_t k = rings_on_the_grid(&a, 200);
  assert_int_equal(a.trail_ns, PB_ANT_TRAIL_NS);
  /* Late by just under a quarter period, again and again: the trail
   * rises to its cap at once, then eases as the expected time follows
   * (a host always that late has a new phase). */
  uint64_t highest = 0;
  for (; k < 400; ++k) {
    pb_anticipate_arrival(&a, grid(k) + PERIOD / 4u - 1000u);
    assert_true(a.trail_ns >= PB_ANT_TRAIL_NS);
    assert_true(a.trail_ns <= PERIOD / 4u);
    highest = a.trail_ns > highest ? a.trail_ns : highest;
  }
  assert_true(highest > PERIOD / 4u - 5000u);
  assert_true(pb_anticipate_steady(&a));
  /* A long period: capped at MAX_TRAIL_NS. */
  const uint64_t slow = 10000000; /* 10 ms */
  uint64_t t = START;
  pb_anticipate_init(&a, t);
  for (int n = 0; n < 200; ++n)
    pb_anticipate_arrival(&a, (t += slow) + (n > 10 ? 2000000u : 0u));
  assert_true(a.trail_ns <= PB_ANT_MAX_TRAIL_NS);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(steady_after_three_rings_on_the_grid),
    cmocka_unit_test(expected_time_follows_the_early_edge),
    cmocka_unit_test(one_late_ring_keeps_the_grid),
    cmocka_unit_test(a_run_of_misses_relearns),
    cmocka_unit_test(a_new_phase_is_taken_at_once),
    cmocka_unit_test(a_stall_and_its_catch_up_keep_the_grid),
    cmocka_unit_test(a_catch_up_is_bounded),
    cmocka_unit_test(a_period_learnt_short_is_corrected_soon),
    cmocka_unit_test(a_step_in_lateness_leaves_the_period_alone),
    cmocka_unit_test(extreme_periods_are_not_steady),
    cmocka_unit_test(timer_lateness_follows_the_slow_ends),
    cmocka_unit_test(trail_stays_within_its_bounds),
  };
  return cmocka_run_group_tests_name("anticipate", tests, NULL, NULL);
}
