/* Shared fixture of the libplugbox tests (test_host.c,
 * test_host_plugins.c): a host per test, a scratch folder, and a teardown
 * that fails the test if any fd, thread or child process is left. */
#ifndef PB_TESTS_HOST_FIXTURE_H
#define PB_TESTS_HOST_FIXTURE_H

#include "plugbox.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/types.h>

#define MVERB "/usr/lib/vst/MVerb-vst.so"
#define LSP_LIBRARY "/usr/lib/vst/lsp-plugins/lsp-plugins-vst2-1.2.5.so"

typedef struct
{
  int n_fds;     /* at setup, before the host */
  int n_threads; /* idem (sanitizers may run threads of their own) */
  pb_host_t* host;
  char dir[64];   /* scratch folder for files and fake bridges */
  char path[256]; /* last file made with fx_make_file() */
  pb_open_opts_t opts;
} fixture_t;

/* Skip the test unless `path` names a readable file. */
#define FX_NEED(path)                                                          \
  do {                                                                         \
    const char* need_path_ = (path);                                           \
    if (!need_path_ || !fx_readable(need_path_))                               \
      skip();                                                                  \
  } while (0)

/** cmocka group setup: warm libuv up before fds are counted. */
int fx_group_setup(void** state);

/** Per-test setup and teardown; teardown frees the host and checks that
 *  no fd, thread or child is left. */
int fx_setup(void** state);
int fx_teardown(void** state);

/** Entries of a /proc folder (fds, tasks), or -1. */
int fx_count_dir(const char* path);

/** Open fds of this process. */
int fx_count_fds(void);

int fx_readable(const char* path);

/** Write `len` bytes to `name` in the scratch folder; returns its path
 *  (f->path). */
const char* fx_make_file(fixture_t* f,
                         const char* name,
                         const void* data,
                         size_t len,
                         mode_t mode);

/** A fake bridge: a shell script that writes `frame` to fd 3, then runs
 *  the shell commands `then`. */
const char* fx_make_bridge(fixture_t* f,
                           const unsigned char* frame,
                           size_t len,
                           const char* then);

/** 1 if `haystack` contains `needle`; prints both otherwise. */
int fx_contains(const char* haystack, const char* needle);

/** Open `path` with f->opts. */
pb_status_t fx_open(fixture_t* f, const char* path, pb_plugin_t** p);

/** Path of test plugin `name` in $PB_TEST_PLUGIN_DIR, or NULL. */
const char* fx_test_plugin(const char* name);

/** 1 if this process holds capability `cap` (its CapEff in /proc). */
int fx_has_cap(int cap);

#define FX_CAP_SYS_NICE 23
#define FX_CAP_SYS_RESOURCE 24

/* One block of stereo audio: its buffers and the pb_process_t that points
 * at them. */
#define FX_FRAMES 64u

typedef struct
{
  float in[2][FX_FRAMES], out[2][FX_FRAMES];
  const float* ins[2];
  float* outs[2];
  pb_process_t block;
} fx_audio_t;

/** Zero `a`, set every input sample to `level`, and return a->block:
 *  FX_FRAMES frames, 2 inputs, 2 outputs, no parameter changes. */
pb_process_t* fx_audio_block(fx_audio_t* a, float level);

void fx_sleep_ms(long ms);

/** SIGSTOP the bridge of `p` and wait until every thread of it stopped
 *  (asserted). */
void fx_stop_bridge(pb_plugin_t* p);

double fx_now_ms(void);

#endif /* PB_TESTS_HOST_FIXTURE_H */
