/* pb_ref32: the tests' in-process reference loader (ref_vst2.c,
 * ref_process.c) built with -m32, so that a 64-bit test can compare what
 * plugbox-bridge-32 reports with what an i386 process sees.
 *
 *   pb_ref32 describe PLUGIN FD
 *   pb_ref32 process PLUGIN RATE MAX_BLOCK BLOCK N_FRAMES DBL FD
 *
 * The answer goes to FD; stdout and stderr go to /dev/null, since plugins
 * print there. */
#define _POSIX_C_SOURCE 200809L

#include "ref_process.h"
#include "ref_vst2.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
usage(void)
{
  fprintf(stderr,
          "usage: pb_ref32 describe PLUGIN FD\n"
          "       pb_ref32 process PLUGIN RATE MAX_BLOCK BLOCK N_FRAMES "
          "DBL FD\n");
  return 2;
}

static void
silence_stdio(void)
{
  const int null_fd = open("/dev/null", O_WRONLY);
  if (null_fd >= 0) {
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
  }
}

int
main(int argc, char** argv)
{
  /* The test signal as the 64-bit test computed it (test_bridge32). */
  const char* signal = getenv("PB_REF_SIGNAL");
  if (signal && signal[0] && pb_ref_signal_load(signal) != 0) {
    fprintf(stderr, "pb_ref32: cannot read %s\n", signal);
    return 1;
  }
  if (argc == 4 && strcmp(argv[1], "describe") == 0) {
    const int fd = atoi(argv[3]);
    silence_stdio();
    /* _exit: no atexit handlers, no plugin unloading. */
    _exit(pb_ref_describe_write(argv[2], fd) == 0 ? 0 : 3);
  }
  if (argc == 9 && strcmp(argv[1], "process") == 0) {
    const pb_ref_job_t job = {
      .path = argv[2],
      .sample_rate = strtof(argv[3], NULL),
      .max_block = (int32_t)atoi(argv[4]),
      .block = (uint32_t)strtoul(argv[5], NULL, 10),
      .n_frames = (uint32_t)strtoul(argv[6], NULL, 10),
      .dbl = atoi(argv[7]),
    };
    const int fd = atoi(argv[8]);
    silence_stdio();
    _exit(pb_ref_process_write(&job, fd) == 0 ? 0 : 3);
  }
  return usage();
}
