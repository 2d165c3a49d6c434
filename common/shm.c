/* The shared block: memfd creation and sealing, mapping with checks, and
 * the futex doorbells.
 *
 * memfd_create, the seals and the futex call are Linux interfaces. */
#define _GNU_SOURCE

#include "common/shm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

void
pb_shm_init(pb_shm_t* shm)
{
  memset(shm, 0, sizeof(*shm));
  shm->fd = -1;
}

size_t
pb_shm_size(uint32_t max_frames, uint32_t n_in, uint32_t n_out)
{
  const uint64_t per_channel = (uint64_t)max_frames * PB_SHM_SAMPLE_BYTES;
  const uint64_t total =
    PB_SHM_AUDIO_OFFSET + per_channel * ((uint64_t)n_in + n_out) * PB_SHM_SLOTS;
  if (max_frames == 0 || n_in > PB_SHM_MAX_CHANNELS ||
      n_out > PB_SHM_MAX_CHANNELS || total > PB_SHM_MAX_BYTES)
    return 0;
  return (size_t)total;
}

static void
write_header(pb_shm_t* shm)
{
  struct pb_shm_header* h = &shm->block->header;
  h->magic = PB_SHM_MAGIC;
  h->layout_version = PB_SHM_LAYOUT_VERSION;
  h->header_size = (uint16_t)sizeof(*h);
  h->total_size = shm->size_bytes;
  h->max_frames = shm->max_frames;
  h->n_in_channels = shm->n_in_channels;
  h->n_out_channels = shm->n_out_channels;
  h->sample_bytes = PB_SHM_SAMPLE_BYTES;
  h->audio_offset = PB_SHM_AUDIO_OFFSET;
  h->host_cpu = PB_SHM_NO_CPU;
  h->bridge_cpu = PB_SHM_NO_CPU;
  h->standby_cpu = PB_SHM_NO_CPU;
}

static int
map_fd(pb_shm_t* shm, int fd, size_t size)
{
  void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    return -errno;
  shm->fd = fd;
  shm->base = (uint8_t*)p;
  shm->block = (struct pb_shm_block*)p;
  shm->size_bytes = size;
  return 0;
}

int
pb_shm_create(pb_shm_t* shm, uint32_t max_frames, uint32_t n_in, uint32_t n_out)
{
  pb_shm_init(shm);
  const size_t size = pb_shm_size(max_frames, n_in, n_out);
  if (!size)
    return -E2BIG;
  const int fd = memfd_create("plugbox-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return -errno;
  int err = 0;
  /* Sealed before the bridge sees it: a plugin that shrank the file would
   * make the host die of SIGBUS on its next access. */
  if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, SEALS) < 0)
    goto fail;
  err = map_fd(shm, fd, size);
  if (err)
    goto fail_err;
  shm->max_frames = max_frames;
  shm->n_in_channels = n_in;
  shm->n_out_channels = n_out;
  write_header(shm);
  return 0;

fail:
  err = -errno;
fail_err:
  (void)close(fd);
  pb_shm_init(shm);
  return err;
}

static int
check_fd(int fd, size_t* size)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  const int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0)
    return -errno;
  if ((seals & SEALS) != SEALS || st.st_size <= 0 ||
      (uint64_t)st.st_size > PB_SHM_MAX_BYTES)
    return -EINVAL;
  *size = (size_t)st.st_size;
  return 0;
}

static int
check_header(pb_shm_t* shm)
{
  const struct pb_shm_header* h = &shm->block->header;
  if (h->magic != PB_SHM_MAGIC || h->layout_version != PB_SHM_LAYOUT_VERSION ||
      h->header_size != sizeof(*h) || h->sample_bytes != PB_SHM_SAMPLE_BYTES ||
      h->audio_offset != PB_SHM_AUDIO_OFFSET ||
      h->total_size != shm->size_bytes)
    return -EPROTO;
  const uint32_t frames = h->max_frames;
  const uint32_t n_in = h->n_in_channels;
  const uint32_t n_out = h->n_out_channels;
  if (pb_shm_size(frames, n_in, n_out) != shm->size_bytes)
    return -EPROTO;
  shm->max_frames = frames;
  shm->n_in_channels = n_in;
  shm->n_out_channels = n_out;
  return 0;
}

int
pb_shm_map(pb_shm_t* shm, int fd)
{
  pb_shm_init(shm);
  size_t size = 0;
  int err = check_fd(fd, &size);
  if (!err && size < sizeof(struct pb_shm_block))
    err = -EINVAL;
  if (!err)
    err = map_fd(shm, fd, size);
  if (err) {
    (void)close(fd);
    return err;
  }
  err = check_header(shm);
  if (err)
    pb_shm_close(shm); /* closes fd */
  return err;
}

void
pb_shm_close(pb_shm_t* shm)
{
  if (!shm)
    return;
  const int fd = shm->fd;
  if (shm->base)
    (void)munmap(shm->base, shm->size_bytes);
  pb_shm_init(shm);
  if (fd >= 0)
    (void)close(fd);
}

struct pb_shm_slot*
pb_shm_slot(const pb_shm_t* shm, uint32_t seq)
{
  return &shm->block->slot[seq % PB_SHM_SLOTS];
}

void*
pb_shm_channel(const pb_shm_t* shm, uint32_t seq, int out, uint32_t ch)
{
  const uint32_t n = out ? shm->n_out_channels : shm->n_in_channels;
  if (!shm->base || ch >= n)
    return NULL;
  const size_t per = (size_t)shm->max_frames * PB_SHM_SAMPLE_BYTES;
  const size_t slot =
    (seq % PB_SHM_SLOTS) * ((size_t)shm->n_in_channels + shm->n_out_channels);
  const size_t first = out ? shm->n_in_channels : 0u;
  return shm->base + PB_SHM_AUDIO_OFFSET + per * (slot + first + ch);
}

uint32_t
pb_shm_load(const uint32_t* word)
{
  return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

void
pb_shm_store(uint32_t* word, uint32_t value)
{
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

uint32_t
pb_shm_load_sc(const uint32_t* word)
{
  return __atomic_load_n(word, __ATOMIC_SEQ_CST);
}

void
pb_shm_store_sc(uint32_t* word, uint32_t value)
{
  __atomic_store_n(word, value, __ATOMIC_SEQ_CST);
}

uint32_t
pb_shm_cpu(void)
{
  const int cpu = sched_getcpu();
  return cpu < 0 ? PB_SHM_NO_CPU : (uint32_t)cpu;
}

void
pb_shm_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

int
pb_shm_futex_wait(uint32_t* word, uint32_t expected, uint64_t timeout_ns)
{
  struct timespec ts = { (time_t)(timeout_ns / 1000000000u),
                         (long)(timeout_ns % 1000000000u) };
  /* Not FUTEX_PRIVATE_FLAG: the word is shared with another process. */
  const long rc = syscall(
    SYS_futex, word, FUTEX_WAIT, expected, timeout_ns ? &ts : NULL, NULL, 0);
  if (rc == 0 || errno == EAGAIN)
    return 0;
  return -errno;
}

void
pb_shm_futex_wake(uint32_t* word)
{
  (void)syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

void
pb_shm_mark_dead(pb_shm_t* shm)
{
  if (!shm || !shm->block)
    return;
  __atomic_store_n(&shm->dead, 1, __ATOMIC_RELEASE);
  uint32_t* done = &shm->block->header.done_seq;
  __atomic_fetch_add(done, 0x40000000u, __ATOMIC_ACQ_REL);
  pb_shm_futex_wake(done);
}

int
pb_shm_is_dead(const pb_shm_t* shm)
{
  return __atomic_load_n(&shm->dead, __ATOMIC_ACQUIRE);
}
