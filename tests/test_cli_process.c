/* plugbox process, run as a separate process: audio files rendered
 * through the test plugins (and a real one, if installed), output formats,
 * block sizes, MIDI for synths, and errors that leave no output behind. */
#define _POSIX_C_SOURCE 200809L

#include "cli_json_check.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

enum
{
  EXIT_USAGE = 2,
  EXIT_CRASHED = 5,
};

#define MVERB "/usr/lib/vst/MVerb-vst.so"
#define PI 3.14159265358979323846
#define RATE 48000
#define FRAMES (RATE / 2) /* 0.5 s */
#define MAX_OUTPUT (1u << 20)

typedef struct
{
  int code; /* exit code, or -1 if it did not exit normally */
  char* out;
  char* err;
} run_t;

/* Each test gets a fresh folder for its files. */
typedef struct
{
  char dir[64];
  char in[128];
  char out[128];
} files_t;

static char*
read_all(FILE* file)
{
  char* buf = malloc(MAX_OUTPUT + 1);
  assert_non_null(buf);
  rewind(file);
  size_t n = fread(buf, 1, MAX_OUTPUT, file);
  assert_int_equal(ferror(file), 0);
  buf[n] = '\0';
  assert_int_equal(fclose(file), 0);
  return buf;
}

static void
bin_path(char* path, size_t cap, const char* env, const char* name)
{
  const char* dir = getenv(env);
  if (!dir)
    skip(); /* run through ctest, which says where things are */
  int n = snprintf(path, cap, "%s/%s", dir, name);
  assert_true(n > 0 && (size_t)n < cap);
}

static const char*
test_plugin(const char* name)
{
  static char path[2][4096];
  static int which;
  which ^= 1;
  bin_path(path[which], sizeof path[which], "PB_TEST_PLUGIN_DIR", name);
  return path[which];
}

/* In the child: the standard streams, then plugbox.  Only
 * async-signal-safe calls between fork() and exec. */
static void
exec_child(const char* path, char** argv, int out_fd, int err_fd)
{
  int in_fd = open("/dev/null", O_RDONLY);
  if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
      dup2(err_fd, 2) < 0)
    _exit(126);
  execv(path, argv);
  _exit(127);
}

/* Run `plugbox process ARGS...` (NULL-terminated) and collect its output.
 * fork() rather than posix_spawn(): the include path has host/, whose
 * spawn.h shadows the system's. */
static run_t
run_process(const char* first, ...)
{
  char path[4096];
  char* argv[32] = { path, "process" };
  bin_path(path, sizeof path, "PB_BIN_DIR", "plugbox");
  size_t n = 2;
  va_list ap;
  va_start(ap, first);
  for (const char* a = first; a; a = va_arg(ap, const char*)) {
    assert_true(n + 1 < sizeof argv / sizeof argv[0]);
    argv[n++] = (char*)(uintptr_t)a; /* exec takes char*const[] */
  }
  va_end(ap);
  run_t run = { 0, NULL, NULL };
  FILE* out = tmpfile();
  FILE* err = tmpfile();
  assert_non_null(out);
  assert_non_null(err);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    exec_child(path, argv, fileno(out), fileno(err));
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_all(out);
  run.err = read_all(err);
  return run;
}

static void
run_free(run_t* run)
{
  free(run->out);
  free(run->err);
}

static void
expect_ok(run_t* run)
{
  if (run->code != 0)
    fail_msg("plugbox process exited %d:\n%s", run->code, run->err);
}

/* A 440 Hz sine at `amplitude`, the second channel at half of it. */
static void
write_sine(const char* path, int channels, int format, double amplitude)
{
  SF_INFO info = { 0, RATE, channels, format, 0, 0 };
  SNDFILE* file = sf_open(path, SFM_WRITE, &info);
  assert_non_null(file);
  float* buf = calloc((size_t)FRAMES * (size_t)channels, sizeof(float));
  assert_non_null(buf);
  for (int i = 0; i < FRAMES; ++i)
    for (int c = 0; c < channels; ++c)
      buf[i * channels + c] =
        (float)(amplitude / (c + 1) * sin(2.0 * PI * 440.0 * i / RATE));
  assert_int_equal(sf_writef_float(file, buf, FRAMES), FRAMES);
  free(buf);
  assert_int_equal(sf_close(file), 0);
}

/* The samples of `path` (free() them), with its header in `*info`. */
static float*
read_samples(const char* path, SF_INFO* info)
{
  memset(info, 0, sizeof *info);
  SNDFILE* file = sf_open(path, SFM_READ, info);
  if (!file)
    fail_msg("cannot read %s: %s", path, sf_strerror(NULL));
  size_t n = (size_t)info->frames * (size_t)info->channels;
  float* buf = calloc(n + 1, sizeof(float));
  assert_non_null(buf);
  assert_int_equal(sf_readf_float(file, buf, info->frames), info->frames);
  assert_int_equal(sf_close(file), 0);
  return buf;
}

static int
setup_files(void** state)
{
  files_t* f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  strcpy(f->dir, "/tmp/pb_test_process_XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  (void)snprintf(f->in, sizeof f->in, "%s/in.wav", f->dir);
  (void)snprintf(f->out, sizeof f->out, "%s/out.wav", f->dir);
  *state = f;
  return 0;
}

static int
teardown_files(void** state)
{
  files_t* f = *state;
  DIR* dir = opendir(f->dir);
  for (struct dirent* e = dir ? readdir(dir) : NULL; e; e = readdir(dir)) {
    char path[512];
    (void)snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
    if (e->d_name[0] != '.')
      (void)unlink(path);
  }
  if (dir)
    (void)closedir(dir);
  (void)rmdir(f->dir);
  free(f);
  return 0;
}

/* Files in the test's folder besides the inputs (named "in.*"). */
static int
count_outputs(const files_t* f)
{
  int n = 0;
  DIR* dir = opendir(f->dir);
  assert_non_null(dir);
  for (struct dirent* e = readdir(dir); e; e = readdir(dir))
    n += e->d_name[0] != '.' && strncmp(e->d_name, "in.", 3) != 0;
  assert_int_equal(closedir(dir), 0);
  return n;
}

/* Render the input through the gain plugin and compare each output
 * sample with input × `factor`, within `tolerance`. */
static void
expect_gain(const files_t* f, double factor, double tolerance)
{
  SF_INFO in_info, out_info;
  float* in = read_samples(f->in, &in_info);
  float* out = read_samples(f->out, &out_info);
  assert_int_equal(out_info.channels, 2);
  assert_int_equal(out_info.frames, in_info.frames);
  assert_int_equal(out_info.samplerate, RATE);
  for (size_t i = 0; i < (size_t)in_info.frames * 2; ++i) {
    double want = (double)in[i] * factor;
    if (fabs((double)out[i] - want) > tolerance)
      fail_msg("sample %zu: %.9g, expected %.9g", i, (double)out[i], want);
  }
  free(in);
  free(out);
}

static void
unity_gain_gives_the_input_exactly(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.8);
  run_t run = run_process("--quiet",
                          "--param",
                          "Output Gain=0 dB",
                          test_plugin("pb_test_gain.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  assert_string_equal(run.out, "");
  assert_string_equal(run.err, "");
  expect_gain(f, 1.0, 0.0);
  assert_int_equal(count_outputs(f), 1); /* no temporary file left */
  run_free(&run);
}

/* 64-bit processing (queued with pb_plugin_submit_double()) at an odd
 * block size: unity gain still gives the input exactly. */
static void
double_processing_gives_the_input_exactly(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.8);
  run_t run = run_process("--quiet",
                          "--double",
                          "--block",
                          "333",
                          test_plugin("pb_test_gain.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  assert_string_equal(run.err, "");
  expect_gain(f, 1.0, 0.0);
  run_free(&run);
}

static void
strict_sandbox_renders_the_same(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.8);
  run_t run = run_process("--quiet",
                          "--sandbox",
                          "strict",
                          test_plugin("pb_test_gain.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  expect_gain(f, 1.0, 0.0);
  run_free(&run);
}

static void
sandbox_off_is_taken_and_reported(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.8);
  run_t run = run_process("--json",
                          "--sandbox",
                          "off",
                          test_plugin("pb_test_gain.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  assert_non_null(strstr(run.out, "\"sandbox\": \"off\""));
  expect_gain(f, 1.0, 0.0);
  run_free(&run);
}

static void
gain_in_db_scales_every_sample(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.8);
  run_t run = run_process("--quiet",
                          "--param=Output Gain=-6 dB",
                          test_plugin("pb_test_gain.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  /* The plugin stores 10^(-6/20) / 2 as a float and plays 2 × that. */
  expect_gain(f, 2.0 * (double)(float)(pow(10.0, -0.3) / 2.0), 1e-6);
  run_free(&run);
}

static void
param_by_index_takes_a_normalized_value(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.8);
  run_t run = run_process("--quiet",
                          "--param",
                          "0=0.25",
                          "--double",
                          test_plugin("pb_test_gain.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  expect_gain(f, 0.5, 0.0);
  run_free(&run);
}

static float*
render_with_block(const files_t* f, const char* block, SF_INFO* info)
{
  run_t run =
    block ? run_process("--quiet",
                        "--block",
                        block,
                        test_plugin("pb_test_gain.so"),
                        f->in,
                        f->out,
                        NULL)
          : run_process(
              "--quiet", test_plugin("pb_test_gain.so"), f->in, f->out, NULL);
  expect_ok(&run);
  run_free(&run);
  return read_samples(f->out, info);
}

static void
block_size_does_not_change_the_output(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  SF_INFO a, b, c;
  float* by_default = render_with_block(f, NULL, &a);
  float* by_1 = render_with_block(f, "1", &b);
  float* by_333 = render_with_block(f, "333", &c);
  assert_int_equal(a.frames, FRAMES);
  assert_int_equal(b.frames, FRAMES);
  assert_int_equal(c.frames, FRAMES);
  const size_t size = (size_t)FRAMES * 2 * sizeof(float);
  assert_memory_equal(by_default, by_1, size);
  assert_memory_equal(by_default, by_333, size);
  free(by_default);
  free(by_1);
  free(by_333);
}

static void
flac_output_is_readable(void** state)
{
  files_t* f = *state;
  char flac[160];
  (void)snprintf(flac, sizeof flac, "%s/out.flac", f->dir);
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 0.5);
  run_t run =
    run_process("--quiet", test_plugin("pb_test_gain.so"), f->in, flac, NULL);
  expect_ok(&run);
  SF_INFO info;
  float* out = read_samples(flac, &info);
  assert_int_equal(info.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  assert_int_equal(info.channels, 2);
  assert_int_equal(info.frames, FRAMES);
  SF_INFO in_info;
  float* in = read_samples(f->in, &in_info);
  assert_memory_equal(in, out, (size_t)FRAMES * 2 * sizeof(float));
  free(in);
  free(out);
  run_free(&run);
}

static void
mono_input_feeds_both_inputs(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  run_t run =
    run_process("--quiet", test_plugin("pb_test_gain.so"), f->in, f->out, NULL);
  expect_ok(&run);
  SF_INFO in_info, out_info;
  float* in = read_samples(f->in, &in_info);
  float* out = read_samples(f->out, &out_info);
  assert_int_equal(out_info.channels, 2);
  for (int i = 0; i < FRAMES; ++i) {
    assert_true(out[2 * i] == in[i]);
    assert_true(out[2 * i + 1] == in[i]);
  }
  free(in);
  free(out);
  run_free(&run);
}

static void
json_summary_counts_frames_and_blocks(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  run_t run = run_process("--json",
                          "--block",
                          "1000",
                          test_plugin("pb_test_gain.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  assert_true(json_check(run.out, strlen(run.out)));
  assert_non_null(strstr(run.out, "\"frames\": 24000"));
  assert_non_null(strstr(run.out, "\"blocks\": 24"));
  /* Untrusted plugins are confined fully unless the user says otherwise. */
  assert_non_null(strstr(run.out, "\"sandbox\": \"strict\""));
  assert_non_null(strstr(run.out, "\"peak\": ["));
  assert_non_null(strstr(run.out, "\"realtime_factor\": "));
  assert_string_equal(run.err, ""); /* no progress bar in a pipe */
  run_free(&run);
}

/* pb_test_delay delays by 100 frames and declares them as its latency. */
static void
compensated_latency_gives_the_input_back(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  run_t run = run_process("--json",
                          "--compensate-latency",
                          "--block",
                          "64",
                          test_plugin("pb_test_delay.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  assert_non_null(strstr(run.out, "\"latency_frames\": 100"));
  SF_INFO in_info, out_info;
  float* in = read_samples(f->in, &in_info);
  float* out = read_samples(f->out, &out_info);
  assert_int_equal(out_info.frames, FRAMES);
  assert_memory_equal(in, out, (size_t)FRAMES * 2 * sizeof(float));
  free(in);
  free(out);
  run_free(&run);
}

static void
uncompensated_latency_delays_the_output(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  run_t run = run_process(
    "--quiet", test_plugin("pb_test_delay.so"), f->in, f->out, NULL);
  expect_ok(&run);
  SF_INFO in_info, out_info;
  float* in = read_samples(f->in, &in_info);
  float* out = read_samples(f->out, &out_info);
  assert_int_equal(out_info.frames, FRAMES);
  for (int i = 0; i < 200; ++i)
    assert_true(out[i] == 0.0f);
  assert_memory_equal(
    in, out + 200, (size_t)(FRAMES - 100) * 2 * sizeof(float));
  free(in);
  free(out);
  run_free(&run);
}

/* Program 1 of the gain plugin, "Quiet", has its gain at 0.25: × 0.5. */
static void
program_is_selected_before_rendering(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.8);
  run_t run = run_process("--quiet",
                          "--program",
                          "1",
                          test_plugin("pb_test_gain.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  expect_gain(f, 0.5, 0.0);
  run_free(&run);
}

static void
put_u32(unsigned char* p, uint32_t v)
{
  for (int i = 0; i < 4; ++i)
    p[i] = (unsigned char)(v >> (8 * i));
}

static void
put_f32(unsigned char* p, float v)
{
  uint32_t bits = 0;
  memcpy(&bits, &v, sizeof bits);
  put_u32(p, bits);
}

/* A bank chunk in pb_test_gain's format (tests/plugins/gain.c): four
 * programs, each with its gain at 0.125 (× 0.25), pan centred. */
static void
write_bytes(const char* path, const void* data, size_t size)
{
  FILE* file = fopen(path, "wb");
  assert_non_null(file);
  assert_int_equal(fwrite(data, 1, size, file), size);
  assert_int_equal(fclose(file), 0);
}

static void
write_gain_bank(const char* path)
{
  enum
  {
    HEADER = 20,
    ENTRY = 24 + 3 * 4,
    SIZE = HEADER + 4 * ENTRY
  };
  unsigned char bank[SIZE];
  memset(bank, 0, sizeof bank);
  put_u32(bank, 0x50624763u); /* 'PbGc' */
  put_u32(bank + 4, 1);       /* version */
  put_u32(bank + 8, 0);       /* bank */
  put_u32(bank + 12, 4);      /* programs */
  put_u32(bank + 16, 2);      /* current */
  for (int i = 0; i < 4; ++i) {
    unsigned char* e = bank + HEADER + i * ENTRY;
    memcpy(e, "Restored", 9);
    put_f32(e + 24, 0.125f);
    put_f32(e + 28, 0.5f);
  }
  write_bytes(path, bank, sizeof bank);
}

static void
state_file_is_restored_before_rendering(void** state)
{
  files_t* f = *state;
  char bank[160];
  (void)snprintf(bank, sizeof bank, "%s/in.fxb", f->dir);
  write_gain_bank(bank);
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.8);
  run_t run = run_process("--quiet",
                          "--state",
                          bank,
                          test_plugin("pb_test_gain.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  expect_gain(f, 0.25, 0.0);
  run_free(&run);
}

static void
bad_midi_or_state_file_fails_without_output(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  run_t run = run_process(
    "--midi", f->in, test_plugin("pb_test_synth.so"), f->in, f->out, NULL);
  assert_int_equal(run.code, 1);
  assert_non_null(strstr(run.err, "not a Standard MIDI File"));
  assert_int_equal(count_outputs(f), 0);
  run_free(&run);
  run = run_process("--state",
                    "/nonexistent/bank.fxb",
                    test_plugin("pb_test_gain.so"),
                    f->in,
                    f->out,
                    NULL);
  assert_int_equal(run.code, 1);
  assert_non_null(strstr(run.err, "/nonexistent/bank.fxb"));
  assert_int_equal(count_outputs(f), 0);
  run_free(&run);
}

static void
missing_input_fails_without_output(void** state)
{
  files_t* f = *state;
  run_t run = run_process(
    test_plugin("pb_test_gain.so"), "/nonexistent/in.wav", f->out, NULL);
  assert_true(run.code != 0);
  assert_non_null(strstr(run.err, "/nonexistent/in.wav"));
  assert_int_equal(count_outputs(f), 0);
  run_free(&run);
}

static void
unknown_sandbox_profile_is_a_usage_error(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  run_t run = run_process(
    "--sandbox", "loose", test_plugin("pb_test_gain.so"), f->in, f->out, NULL);
  assert_int_equal(run.code, EXIT_USAGE);
  if (!strstr(run.err, "'loose' is not off, basic or strict"))
    fail_msg("unexpected message:\n%s", run.err);
  assert_int_equal(count_outputs(f), 0);
  run_free(&run);
}

static void
unknown_extension_is_a_usage_error(void** state)
{
  files_t* f = *state;
  char odd[160];
  (void)snprintf(odd, sizeof odd, "%s/out.xyz", f->dir);
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  run_t run = run_process(test_plugin("pb_test_gain.so"), f->in, odd, NULL);
  assert_int_equal(run.code, EXIT_USAGE);
  assert_non_null(strstr(run.err, "out.xyz"));
  assert_int_equal(count_outputs(f), 0);
  run_free(&run);
}

static void
unknown_parameter_is_a_usage_error(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  run_t run = run_process("--param",
                          "Loudness=0.5",
                          test_plugin("pb_test_gain.so"),
                          f->in,
                          f->out,
                          NULL);
  assert_int_equal(run.code, EXIT_USAGE);
  assert_non_null(strstr(run.err, "Loudness"));
  assert_int_equal(count_outputs(f), 0);
  run_free(&run);
  run = run_process("--param",
                    "Output Gain=loud",
                    test_plugin("pb_test_gain.so"),
                    f->in,
                    f->out,
                    NULL);
  assert_int_equal(run.code, EXIT_USAGE);
  assert_non_null(strstr(run.err, "loud"));
  assert_int_equal(count_outputs(f), 0);
  run_free(&run);
}

static void
crash_mid_file_names_the_frame_and_leaves_no_output(void** state)
{
  files_t* f = *state;
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  run_t run = run_process("--block",
                          "1000",
                          test_plugin("pb_test_crash_process.so"),
                          f->in,
                          f->out,
                          NULL);
  assert_int_equal(run.code, EXIT_CRASHED);
  /* It dies in the first block past 0.25 s: the one at frame 12000. */
  if (!strstr(run.err, "crashed at frame 12000 (0.250 s)"))
    fail_msg("unexpected message:\n%s", run.err);
  assert_non_null(strchr(run.err, '\n'));
  assert_ptr_equal(strchr(run.err, '\n') + 1, run.err + strlen(run.err));
  assert_int_equal(count_outputs(f), 0);
  run_free(&run);
}

/* A type-0 Standard MIDI File, 96 ticks per quarter note at the default
 * 120 BPM: middle C from 0 to 0.25 s. */
static void
write_midi(const char* path)
{
  static const unsigned char smf[] = {
    'M',  'T',  'h',  'd',  0, 0, 0, 6,  0, 0, 0, 1, 0, 96, /* header */
    'M',  'T',  'r',  'k',  0, 0, 0, 12,                    /* track */
    0x00, 0x90, 0x3c, 0x64,                                 /* note on */
    0x30, 0x80, 0x3c, 0x40,                                 /* note off */
    0x00, 0xff, 0x2f, 0x00,                                 /* end */
  };
  write_bytes(path, smf, sizeof smf);
}

static void
synth_plays_the_midi_file(void** state)
{
  files_t* f = *state;
  char mid[160];
  (void)snprintf(mid, sizeof mid, "%s/in.mid", f->dir);
  write_midi(mid);
  write_sine(f->in, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.0);
  run_t run = run_process("--quiet",
                          "--midi",
                          mid,
                          test_plugin("pb_test_synth.so"),
                          f->in,
                          f->out,
                          NULL);
  expect_ok(&run);
  SF_INFO info;
  float* out = read_samples(f->out, &info);
  assert_true(info.frames >= FRAMES);
  double peak = 0.0;
  for (size_t i = 0; i < (size_t)info.frames * (size_t)info.channels; ++i)
    peak = fmax(peak, fabs((double)out[i]));
  assert_true(peak > 0.01);
  free(out);
  run_free(&run);
}

static void
a_real_plugin_renders(void** state)
{
  files_t* f = *state;
  if (access(MVERB, R_OK) != 0)
    skip();
  write_sine(f->in, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5);
  run_t run =
    run_process("--quiet", "--tail", "0.5", MVERB, f->in, f->out, NULL);
  expect_ok(&run);
  SF_INFO info;
  float* out = read_samples(f->out, &info);
  assert_int_equal(info.channels, 2);
  assert_int_equal(info.frames, FRAMES + RATE / 2);
  free(out);
  run_free(&run);
}

#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(name, setup_files, teardown_files)

int
main(void)
{
  const struct CMUnitTest tests[] = {
    T(unity_gain_gives_the_input_exactly),
    T(double_processing_gives_the_input_exactly),
    T(strict_sandbox_renders_the_same),
    T(sandbox_off_is_taken_and_reported),
    T(gain_in_db_scales_every_sample),
    T(param_by_index_takes_a_normalized_value),
    T(block_size_does_not_change_the_output),
    T(flac_output_is_readable),
    T(mono_input_feeds_both_inputs),
    T(json_summary_counts_frames_and_blocks),
    T(compensated_latency_gives_the_input_back),
    T(uncompensated_latency_delays_the_output),
    T(program_is_selected_before_rendering),
    T(state_file_is_restored_before_rendering),
    T(bad_midi_or_state_file_fails_without_output),
    T(missing_input_fails_without_output),
    T(unknown_sandbox_profile_is_a_usage_error),
    T(unknown_extension_is_a_usage_error),
    T(unknown_parameter_is_a_usage_error),
    T(crash_mid_file_names_the_frame_and_leaves_no_output),
    T(synth_plays_the_midi_file),
    T(a_real_plugin_renders),
  };
  return cmocka_run_group_tests_name("cli_process", tests, NULL, NULL);
}
