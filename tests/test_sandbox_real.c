/* Real plugins keep working under the strict sandbox: every .so under
 * /usr/lib/vst and /usr/lib/lxvst is opened through the bridge under
 * `strict` and under `off`; both must open (or fail) alike, describe
 * themselves identically (every field of pb_info_t), and turn the seeded
 * test signal of ref_process.c (1 s at 48 kHz, blocks of 512 frames) into
 * bit-identical output.  A plugin whose output differs between two runs
 * under `off` is nondeterministic and its audio is not compared.
 *
 * The files are split between two forked workers, each with its own host,
 * forked before any host (and its I/O thread) exists. */
#define _POSIX_C_SOURCE 200809L

#include "plugbox.h"
#include "ref_list.h"
#include "ref_process.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#define RATE 48000.0
#define BLOCK 512u
#define N_FRAMES 48000u
#define N_WORKERS 2

static const char* const real_dirs[] = { "/usr/lib/vst",
                                         "/usr/lib/lxvst",
                                         NULL };

/* What one file gave; written by a worker to its pipe as is. */
typedef struct
{
  uint32_t index;    /* in the list */
  int32_t opened;    /* 1 both, 0 neither; -1 only one of them */
  int32_t info_same; /* 1 if every field matched */
  int32_t audio;     /* AUDIO_* */
  char why[200];     /* the first difference, for the log */
} outcome_t;

enum
{
  AUDIO_NONE = 0,  /* not processable (no pins to match, a failed call) */
  AUDIO_SAME = 1,  /* strict == off, off deterministic */
  AUDIO_DIFF = 2,  /* strict != off, off deterministic */
  AUDIO_NONDET = 3 /* off != off */
};

/* ------------------------------------------------------------ info */

static int
str_same(const char* a, const char* b)
{
  return !strcmp(a ? a : "", b ? b : "") && !a == !b;
}

static int
float_same(float a, float b)
{
  return !memcmp(&a, &b, sizeof a);
}

#define SAME_INT(field)                                                        \
  do {                                                                         \
    if (a->field != b->field)                                                  \
      return #field;                                                           \
  } while (0)
#define SAME_STR(field)                                                        \
  do {                                                                         \
    if (!str_same(a->field, b->field))                                         \
      return #field;                                                           \
  } while (0)
#define SAME_FLOAT(field)                                                      \
  do {                                                                         \
    if (!float_same(a->field, b->field))                                       \
      return #field;                                                           \
  } while (0)

static const char*
param_diff(const pb_param_info_t* a, const pb_param_info_t* b)
{
  SAME_STR(name);
  SAME_STR(label);
  SAME_STR(display);
  SAME_FLOAT(value);
  SAME_INT(automatable);
  SAME_INT(has_properties);
  SAME_INT(prop_flags);
  SAME_FLOAT(step);
  SAME_FLOAT(small_step);
  SAME_FLOAT(large_step);
  SAME_INT(min_int);
  SAME_INT(max_int);
  SAME_INT(step_int);
  SAME_INT(large_step_int);
  SAME_INT(display_index);
  SAME_INT(category);
  SAME_INT(n_in_category);
  SAME_STR(prop_label);
  SAME_STR(short_label);
  SAME_STR(category_label);
  return NULL;
}

static const char*
pin_diff(const pb_pin_info_t* a, const pb_pin_info_t* b)
{
  SAME_STR(label);
  SAME_STR(short_label);
  SAME_INT(flags);
  SAME_INT(arrangement);
  return NULL;
}

static const char*
scalar_diff(const pb_info_t* a, const pb_info_t* b)
{
  SAME_STR(path);
  SAME_STR(arch);
  SAME_STR(name);
  SAME_STR(vendor);
  SAME_STR(product);
  SAME_INT(vendor_version);
  SAME_INT(unique_id);
  SAME_STR(unique_id_text);
  SAME_INT(plugin_version);
  SAME_INT(vst_version);
  SAME_INT(category);
  SAME_INT(flags);
  SAME_INT(n_inputs);
  SAME_INT(n_outputs);
  SAME_INT(initial_delay);
  SAME_INT(n_midi_in_channels);
  SAME_INT(n_midi_out_channels);
  SAME_INT(tail_size);
  SAME_INT(n_params);
  SAME_INT(n_programs);
  SAME_INT(current_program);
  SAME_INT(n_can_do);
  return NULL;
}

/* The first field that differs, written to `why`; 1 if none does. */
static int
info_same(const pb_info_t* a, const pb_info_t* b, char* why, size_t cap)
{
  const char* field = scalar_diff(a, b);
  for (int32_t i = 0; !field && i < a->n_params; ++i)
    if ((field = param_diff(&a->params[i], &b->params[i])) != NULL)
      (void)snprintf(why, cap, "param %d: ", (int)i);
  for (int32_t i = 0; !field && i < a->n_programs; ++i)
    if (!str_same(a->program_names[i], b->program_names[i]))
      field = "program name";
  for (int32_t i = 0; !field && i < a->n_inputs; ++i)
    field = pin_diff(&a->inputs[i], &b->inputs[i]);
  for (int32_t i = 0; !field && i < a->n_outputs; ++i)
    field = pin_diff(&a->outputs[i], &b->outputs[i]);
  for (int32_t i = 0; !field && i < a->n_can_do; ++i)
    if (!str_same(a->can_do[i].name, b->can_do[i].name) ||
        a->can_do[i].answer != b->can_do[i].answer)
      field = "can_do";
  if (!field)
    return 1;
  const size_t used = strlen(why);
  (void)snprintf(why + used, cap - used, "info differs in %s", field);
  return 0;
}

/* ----------------------------------------------------------- audio */

/* The signal through the open plugin `p` in blocks of BLOCK frames; the
 * hash of the planar outputs, or 0 when the plugin cannot run it. */
static uint64_t
hash_output(pb_plugin_t* p)
{
  const pb_info_t* info = pb_plugin_info(p);
  if (info->n_inputs > PB_REF_MAX_CHANNELS ||
      info->n_outputs > PB_REF_MAX_CHANNELS || info->n_outputs < 1 ||
      pb_plugin_set_active(p, 1) != PB_OK ||
      pb_plugin_set_processing(p, 1) != PB_OK)
    return 0;
  const uint32_t n_in = (uint32_t)info->n_inputs;
  const uint32_t n_out = (uint32_t)info->n_outputs;
  static float in[PB_REF_MAX_CHANNELS][BLOCK];
  static float out[PB_REF_MAX_CHANNELS][BLOCK];
  float* ins[PB_REF_MAX_CHANNELS];
  float* outs[PB_REF_MAX_CHANNELS];
  for (uint32_t c = 0; c < PB_REF_MAX_CHANNELS; ++c) {
    ins[c] = in[c];
    outs[c] = out[c];
  }
  pb_process_t b;
  memset(&b, 0, sizeof b);
  b.n_inputs = n_in;
  b.n_outputs = n_out;
  b.inputs = (const float* const*)ins;
  b.outputs = (float* const*)outs;
  uint64_t hash = PB_REF_HASH_SEED;
  for (uint32_t at = 0; at < N_FRAMES; at += BLOCK) {
    b.n_frames = N_FRAMES - at < BLOCK ? N_FRAMES - at : BLOCK;
    for (uint32_t c = 0; c < n_in; ++c)
      for (uint32_t i = 0; i < b.n_frames; ++i)
        in[c][i] = (float)pb_ref_signal(c, at + i, (float)RATE);
    if (pb_plugin_process(p, &b) != PB_OK)
      return 0;
    for (uint32_t c = 0; c < n_out; ++c)
      hash = pb_ref_hash(out[c], b.n_frames * sizeof(float), hash);
  }
  return hash ? hash : 1;
}

static pb_plugin_t*
open_under(pb_host_t* host, const char* path, int profile)
{
  pb_open_opts_t opts;
  pb_plugin_t* p = NULL;
  pb_open_opts_init(&opts);
  opts.sample_rate = RATE;
  opts.max_block_frames = BLOCK;
  opts.sandbox = profile;
  return pb_plugin_open(host, path, &opts, &p) == PB_OK ? p : NULL;
}

/* The hash of a second run under `off`, to tell nondeterminism apart. */
static uint64_t
hash_again(pb_host_t* host, const char* path)
{
  pb_plugin_t* p = open_under(host, path, PB_SANDBOX_OFF);
  const uint64_t hash = p ? hash_output(p) : 0;
  pb_plugin_close(p);
  return hash;
}

static void
compare_file(pb_host_t* host, const char* path, outcome_t* o)
{
  pb_plugin_t* off = open_under(host, path, PB_SANDBOX_OFF);
  pb_plugin_t* strict = open_under(host, path, PB_SANDBOX_STRICT);
  o->opened = off && strict ? 1 : !off && !strict ? 0 : -1;
  if (o->opened == -1)
    (void)snprintf(o->why,
                   sizeof o->why,
                   "opens under %s only: %s",
                   off ? "off" : "strict",
                   pb_host_last_error(host));
  if (o->opened == 1) {
    o->info_same = info_same(
      pb_plugin_info(off), pb_plugin_info(strict), o->why, sizeof o->why);
    const uint64_t h_off = hash_output(off);
    const uint64_t h_strict = hash_output(strict);
    if (h_off && h_off != hash_again(host, path))
      o->audio = AUDIO_NONDET;
    else if (h_off)
      o->audio = h_off == h_strict ? AUDIO_SAME : AUDIO_DIFF;
    if (o->audio == AUDIO_DIFF)
      (void)snprintf(o->why, sizeof o->why, "audio differs");
  }
  pb_plugin_close(strict);
  pb_plugin_close(off);
}

/* ---------------------------------------------------------- workers */

static void
worker(const pb_ref_list_t* list, int k, int fd)
{
  pb_host_t* host = NULL;
  if (pb_host_new(&host) != PB_OK)
    _exit(2);
  for (size_t i = (size_t)k; i < list->n_paths; i += N_WORKERS) {
    outcome_t o;
    memset(&o, 0, sizeof o);
    o.index = (uint32_t)i;
    compare_file(host, list->paths[i], &o);
    if (write(fd, &o, sizeof o) != (ssize_t)sizeof o)
      _exit(3);
  }
  pb_host_free(host);
  _exit(0);
}

typedef struct
{
  unsigned files, opened, one_sided, info_equal, identical, different, nondet;
} counts_t;

static void
count(const pb_ref_list_t* list, const outcome_t* o, counts_t* n)
{
  ++n->files;
  n->opened += o->opened == 1;
  n->one_sided += o->opened == -1;
  n->info_equal += o->opened == 1 && o->info_same;
  n->identical += o->audio == AUDIO_SAME;
  n->different += o->audio == AUDIO_DIFF;
  n->nondet += o->audio == AUDIO_NONDET;
  if (o->why[0])
    print_message("sandbox real: %s: %s\n", list->paths[o->index], o->why);
}

/* Read every worker's outcomes and reap them; 1 if all ended well. */
static int
collect(const pb_ref_list_t* list,
        const int* fds,
        const pid_t* pids,
        counts_t* n)
{
  int ok = 1;
  for (int k = 0; k < N_WORKERS; ++k) {
    outcome_t o;
    while (read(fds[k], &o, sizeof o) == (ssize_t)sizeof o)
      count(list, &o, n);
    (void)close(fds[k]);
    int status = 0;
    ok &= waitpid(pids[k], &status, 0) == pids[k] && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0;
  }
  return ok;
}

static void
real_plugins_same_under_strict_and_off(void** state)
{
  (void)state;
  pb_ref_list_t list;
  assert_int_equal(pb_ref_list_init(&list, real_dirs), 0);
  if (list.n_dirs_found == 0 || list.n_paths == 0) {
    pb_ref_list_fini(&list);
    skip();
  }
  int fds[N_WORKERS];
  pid_t pids[N_WORKERS];
  for (int k = 0; k < N_WORKERS; ++k) {
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    pids[k] = fork();
    assert_true(pids[k] >= 0);
    if (pids[k] == 0) {
      for (int j = 0; j < k; ++j)
        (void)close(fds[j]);
      (void)close(pipe_fds[0]);
      worker(&list, k, pipe_fds[1]);
    }
    (void)close(pipe_fds[1]);
    fds[k] = pipe_fds[0];
  }
  counts_t n;
  memset(&n, 0, sizeof n);
  const int workers_ok = collect(&list, fds, pids, &n);
  print_message("sandbox real plugins: %u files, %u info equal, %u audio "
                "bit-identical, %u nondeterministic (%u open under both, "
                "%u under one only, %u audio different)\n",
                n.files,
                n.info_equal,
                n.identical,
                n.nondet,
                n.opened,
                n.one_sided,
                n.different);
  const size_t n_paths = list.n_paths;
  pb_ref_list_fini(&list);
  assert_true(workers_ok);
  assert_int_equal(n.files, n_paths);
  assert_true(n.opened > 0);
  assert_int_equal(n.one_sided, 0);
  assert_int_equal(n.info_equal, n.opened);
  assert_true(n.identical > 0);
  assert_int_equal(n.different, 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(real_plugins_same_under_strict_and_off),
  };
  return cmocka_run_group_tests_name("sandbox_real", tests, NULL, NULL);
}
