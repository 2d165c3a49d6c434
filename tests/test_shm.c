/* The shared block: sizes, seals, the checks of the mapping side and the
 * futex doorbells. */
#define _GNU_SOURCE /* memfd_create */

#include "common/shm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
size_counts_every_channel_and_refuses_huge_blocks(void** state)
{
  (void)state;
  /* Every slot has its own buffers. */
  assert_int_equal(pb_shm_size(512, 2, 2),
                   PB_SHM_AUDIO_OFFSET + PB_SHM_SLOTS * 4 * 512 * 8);
  assert_int_equal(pb_shm_size(0, 2, 2), 0);
  assert_int_equal(pb_shm_size(512, PB_SHM_MAX_CHANNELS + 1, 2), 0);
  assert_int_equal(pb_shm_size(UINT32_MAX, 32, 32), 0);
}

static void
created_block_is_sealed_and_maps_back(void** state)
{
  (void)state;
  pb_shm_t host;
  assert_int_equal(pb_shm_create(&host, 256, 3, 5), 0);
  assert_int_equal(ftruncate(host.fd, 16), -1);
  assert_int_equal(errno, EPERM);
  assert_int_equal(fcntl(host.fd, F_GET_SEALS) &
                     (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
                   F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  pb_shm_t bridge;
  assert_int_equal(pb_shm_map(&bridge, dup(host.fd)), 0);
  assert_int_equal(bridge.max_frames, 256);
  assert_int_equal(bridge.n_in_channels, 3);
  assert_int_equal(bridge.n_out_channels, 5);
  /* The same memory on both sides, channels back to back, the slots
   * after each other: request numbers 0 and 2 share slot 0. */
  float* in2 = (float*)pb_shm_channel(&host, 0, 0, 2);
  in2[7] = 0.25f;
  assert_true(((float*)pb_shm_channel(&bridge, 2, 0, 2))[7] == 0.25f);
  assert_true(((float*)pb_shm_channel(&bridge, 1, 0, 2))[7] == 0.0f);
  assert_ptr_equal((uint8_t*)pb_shm_channel(&host, 0, 1, 0),
                   (uint8_t*)pb_shm_channel(&host, 0, 0, 2) + 256 * 8);
  assert_ptr_equal((uint8_t*)pb_shm_channel(&host, 1, 0, 0),
                   (uint8_t*)pb_shm_channel(&host, 0, 1, 4) + 256 * 8);
  assert_ptr_equal((uint8_t*)pb_shm_channel(&host, 1, 1, 4) + 256 * 8,
                   host.base + host.size_bytes);
  assert_ptr_equal(pb_shm_slot(&host, 3), &host.block->slot[1]);
  assert_null(pb_shm_channel(&host, 0, 1, 5));
  assert_null(pb_shm_channel(&host, 1, 0, 3));
  pb_shm_close(&bridge);
  pb_shm_close(&host);
  pb_shm_close(&host); /* twice is harmless */
}

static void
new_block_says_neither_side_runs_anywhere(void** state)
{
  (void)state;
  pb_shm_t host;
  assert_int_equal(pb_shm_create(&host, 64, 2, 2), 0);
  const struct pb_shm_header* h = &host.block->header;
  assert_int_equal(h->layout_version, PB_SHM_LAYOUT_VERSION);
  assert_int_equal(h->host_cpu, PB_SHM_NO_CPU);
  assert_int_equal(h->bridge_cpu, PB_SHM_NO_CPU);
  assert_int_equal(h->host_state, PB_SHM_HOST_IDLE);
  assert_int_equal(h->bridge_state, PB_SHM_BRIDGE_SLEEPING);
  assert_int_equal(h->hot_mode, 0);
  /* No standby thread is known until one says where it waits. */
  assert_int_equal(h->standby_cpu, PB_SHM_NO_CPU);
  assert_int_equal(h->one_thread, 0);
  /* The CPU of this thread is known and in range. */
  const uint32_t cpu = pb_shm_cpu();
  assert_true(cpu != PB_SHM_NO_CPU && cpu < 4096u);
  pb_shm_close(&host);
}

static void
map_rejects_unsealed_and_corrupt_blocks(void** state)
{
  (void)state;
  pb_shm_t shm;
  const int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)pb_shm_size(64, 2, 2)), 0);
  assert_int_equal(pb_shm_map(&shm, fd), -EINVAL); /* fd taken */
  pb_shm_t host;
  assert_int_equal(pb_shm_create(&host, 64, 2, 2), 0);
  host.block->header.magic = 0;
  assert_int_equal(pb_shm_map(&shm, dup(host.fd)), -EPROTO);
  host.block->header.magic = PB_SHM_MAGIC;
  host.block->header.n_in_channels = 7; /* does not match the size */
  assert_int_equal(pb_shm_map(&shm, dup(host.fd)), -EPROTO);
  host.block->header.n_in_channels = 2;
  assert_int_equal(pb_shm_map(&shm, dup(host.fd)), 0);
  pb_shm_close(&shm);
  pb_shm_close(&host);
}

static void
futex_wait_times_out_or_returns_at_once(void** state)
{
  (void)state;
  pb_shm_t shm;
  assert_int_equal(pb_shm_create(&shm, 64, 1, 1), 0);
  uint32_t* done = &shm.block->header.done_seq;
  uint64_t t0 = now_ns();
  assert_int_equal(pb_shm_futex_wait(done, 0, 2000000), -ETIMEDOUT);
  assert_true(now_ns() - t0 >= 1500000);
  pb_shm_store(done, 5);
  assert_int_equal(pb_shm_futex_wait(done, 4, 0), 0);
  assert_int_equal(pb_shm_is_dead(&shm), 0);
  pb_shm_mark_dead(&shm);
  assert_int_equal(pb_shm_is_dead(&shm), 1);
  assert_int_not_equal(pb_shm_load(done), 5);
  pb_shm_close(&shm);
  pb_shm_mark_dead(NULL);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(size_counts_every_channel_and_refuses_huge_blocks),
    cmocka_unit_test(created_block_is_sealed_and_maps_back),
    cmocka_unit_test(new_block_says_neither_side_runs_anywhere),
    cmocka_unit_test(map_rejects_unsealed_and_corrupt_blocks),
    cmocka_unit_test(futex_wait_times_out_or_returns_at_once),
  };
  return cmocka_run_group_tests_name("shm", tests, NULL, NULL);
}
