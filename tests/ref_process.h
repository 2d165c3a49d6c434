/* The in-process reference for audio: runs a VST 2.4 plugin over a known
 * test signal in this process (or in a forked child), with the call order
 * of a bridged instance: entry, effOpen, sample rate, block size, mains
 * on, start process, then the blocks (outputs zeroed before each, inputs
 * copied fresh), and the same answers to the plugin's host callbacks
 * (GET_TIME: a stopped transport at 0, 120 BPM 4/4; realtime level while
 * processing). */
#ifndef PB_TESTS_REF_PROCESS_H
#define PB_TESTS_REF_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#define PB_REF_MAX_CHANNELS 32

typedef struct
{
  const char* path;
  float sample_rate;
  int32_t max_block; /* given to effSetBlockSize */
  uint32_t block;    /* frames per process call; the last may be shorter */
  uint32_t n_frames; /* of the whole signal */
  int dbl;           /* processDoubleReplacing instead of processReplacing */
} pb_ref_job_t;

typedef struct
{
  int ok;
  char message[256]; /* why not ok */
  int32_t n_in, n_out;
  uint64_t hash; /* pb_ref_hash() of the planar outputs */
} pb_ref_result_t;

/** The test signal: a 20 Hz..20 kHz exponential sweep over one second,
 *  with a seeded noise burst from 0.5 s to 0.6 s, a little different on
 *  each channel. */
double pb_ref_signal(uint32_t channel, uint32_t frame, float sample_rate);

/** Write the signal's first `n_frames` frames of PB_REF_MAX_CHANNELS
 *  channels (doubles, native order) to `path`; pb_ref_signal_load() there
 *  makes pb_ref_signal() answer from the file, so that an i386 reference
 *  (whose libm and x87 arithmetic differ) feeds exactly the samples this
 *  process does.  Return 0 or -1. */
int pb_ref_signal_save(const char* path, uint32_t n_frames, float sample_rate);
int pb_ref_signal_load(const char* path);

/** FNV-1a over `len` bytes, continuing from `hash` (start with
 *  PB_REF_HASH_SEED). */
#define PB_REF_HASH_SEED 0xcbf29ce484222325ull
uint64_t pb_ref_hash(const void* data, size_t len, uint64_t hash);

/** Run the job in this process.  `out` (may be NULL) receives n_out ×
 *  n_frames samples, planar, of float or double as the job says, if
 *  `out_samples` is large enough.  Returns result->ok. */
int pb_ref_process(const pb_ref_job_t* job,
                   void* out,
                   size_t out_samples,
                   pb_ref_result_t* result);

/** The same in a forked child (hash only), killed past `timeout_ms`. */
int pb_ref_process_in_child(const pb_ref_job_t* job,
                            uint32_t timeout_ms,
                            pb_ref_result_t* result);

/** The same through `helper` (pb_ref32, the 32-bit build of this
 *  reference): a forked child runs `helper process PATH RATE MAX_BLOCK
 *  BLOCK N_FRAMES DBL FD`, which writes the result on FD. */
int pb_ref_process_exec(const char* helper,
                        const pb_ref_job_t* job,
                        uint32_t timeout_ms,
                        pb_ref_result_t* result);

/** Run `job` in this process and write the result to `fd` in the form
 *  pb_ref_process_exec() reads.  Returns 0, or -1 on a write failure. */
int pb_ref_process_write(const pb_ref_job_t* job, int fd);

#endif /* PB_TESTS_REF_PROCESS_H */
