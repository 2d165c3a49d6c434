/* The plugbox command, run as a separate process: help, usage errors, exit
 * codes, one-line errors, checked output, and `info` on real plugins; and
 * the options of plugbox-bridge run directly. */
#define _POSIX_C_SOURCE 200809L

#include "cli_json_check.h"
#include "plugbox.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* Exit codes documented in `plugbox --help`; scripts depend on them. */
enum
{
  EXIT_USAGE = 2,
  EXIT_NOT_FOUND = 3,
  EXIT_NOT_PLUGIN = 4,
  EXIT_CRASHED = 5,
  EXIT_TIMEOUT = 6,
};

#define MVERB "/usr/lib/vst/MVerb-vst.so"
#define LSP_COMPRESSOR "/usr/lib/vst/lsp-plugins/compressor-mono.so"
#define MAX_OUTPUT (1u << 20)

typedef struct
{
  int code; /* exit code, or -1 if it did not exit normally */
  char* out;
  char* err;
  size_t out_size;
} run_t;

static char*
read_all(FILE* file, size_t* size)
{
  char* buf = malloc(MAX_OUTPUT + 1);
  assert_non_null(buf);
  rewind(file);
  *size = fread(buf, 1, MAX_OUTPUT, file);
  assert_int_equal(ferror(file), 0);
  buf[*size] = '\0';
  assert_int_equal(fclose(file), 0);
  return buf;
}

/* Path of the built program `name` (plugbox, plugbox-bridge). */
static void
bin_path(const char* name, char* path, size_t cap)
{
  const char* dir = getenv("PB_BIN_DIR");
  if (!dir)
    skip(); /* run through ctest, which says where the binary is */
  int n = snprintf(path, cap, "%s/%s", dir, name);
  assert_true(n > 0 && (size_t)n < cap);
}

/* Wait for `pid` and return its exit code (-1: killed by a signal). */
static int
wait_exit(pid_t pid)
{
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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

/* Run program `name` with `args` (NULL-terminated), stdout into
 * `out_file` (a temporary file when NULL), and collect what it wrote.
 * fork() rather than posix_spawn(): the test's include path has host/,
 * whose spawn.h shadows the system's. */
static run_t
run_program(const char* name, FILE* out_file, const char* const* args)
{
  char path[4096];
  char* argv[16] = { path };
  bin_path(name, path, sizeof path);
  for (size_t i = 0; args[i]; ++i) {
    assert_true(i + 2 < sizeof argv / sizeof argv[0]);
    argv[i + 1] = (char*)(uintptr_t)args[i]; /* exec takes char*const[] */
  }
  run_t run = { 0, NULL, NULL, 0 };
  FILE* out = out_file ? out_file : tmpfile();
  FILE* err = tmpfile();
  assert_non_null(out);
  assert_non_null(err);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    exec_child(path, argv, fileno(out), fileno(err));
  run.code = wait_exit(pid);
  size_t err_size = 0;
  run.err = read_all(err, &err_size);
  run.out = out_file ? NULL : read_all(out, &run.out_size);
  return run;
}

static run_t
run_to(FILE* out_file, const char* const* args)
{
  return run_program("plugbox", out_file, args);
}

static run_t
run_plugbox(const char* const* args)
{
  return run_to(NULL, args);
}

static void
run_free(run_t* run)
{
  free(run->out);
  free(run->err);
}

static size_t
count_lines(const char* s)
{
  size_t n = 0;
  for (; *s; ++s)
    n += *s == '\n';
  return n;
}

/* One line on stderr, naming `what`, and nothing on stdout. */
static void
assert_one_error_line(const run_t* run, const char* what)
{
  if (count_lines(run->err) != 1 || !strstr(run->err, what))
    fail_msg(
      "expected one line naming '%s' on stderr, got:\n%s", what, run->err);
  assert_non_null(strchr(run->err, '\n'));
  if (run->out)
    assert_string_equal(run->out, "");
}

static void
skip_without(const char* plugin)
{
  if (access(plugin, R_OK) != 0)
    skip();
}

static void
help_exits_0_and_lists_info_and_exit_codes(void** state)
{
  (void)state;
  const char* const args[] = { "--help", NULL };
  run_t run = run_plugbox(args);
  assert_int_equal(run.code, 0);
  assert_non_null(strstr(run.out, "Usage: plugbox"));
  assert_non_null(strstr(run.out, "  info "));
  assert_non_null(strstr(run.out, "Exit status:"));
  assert_non_null(strstr(run.out, "  3  the plugin file does not exist"));
  assert_string_equal(run.err, "");
  run_free(&run);
}

static void
version_prints_the_version(void** state)
{
  (void)state;
  const char* const args[] = { "--version", NULL };
  run_t run = run_plugbox(args);
  assert_int_equal(run.code, 0);
  assert_string_equal(run.out, "plugbox " PB_VERSION_STRING "\n");
  run_free(&run);
}

static void
help_info_and_info_help_print_the_same(void** state)
{
  (void)state;
  const char* const a1[] = { "help", "info", NULL };
  const char* const a2[] = { "info", "--help", NULL };
  run_t r1 = run_plugbox(a1);
  run_t r2 = run_plugbox(a2);
  assert_int_equal(r1.code, 0);
  assert_int_equal(r2.code, 0);
  assert_string_equal(r1.out, r2.out);
  assert_non_null(strstr(r1.out, "Usage: plugbox info"));
  assert_non_null(strstr(r1.out, "--json"));
  assert_non_null(strstr(r1.out, "--timeout-ms"));
  run_free(&r1);
  run_free(&r2);
}

static void
usage_errors_exit_2_naming_the_culprit(void** state)
{
  (void)state;
  static const struct
  {
    const char* args[5];
    const char* named;
  } cases[] = {
    { { "frobnicate", NULL }, "'frobnicate'" },
    { { "--frobnicate", NULL }, "'--frobnicate'" },
    { { NULL }, "missing command" },
    { { "help", "frobnicate", NULL }, "'frobnicate'" },
    { { "info", NULL }, "missing PLUGIN" },
    { { "info", "--frob", "x.so", NULL }, "'--frob'" },
    { { "info", "x.so", "--block", NULL }, "'--block' needs a value" },
    { { "info", "--block", "0", "x.so", NULL }, "'--block'" },
    { { "info", "--block", "12x", "x.so", NULL }, "'12x'" },
    { { "info", "--timeout-ms", "-5", "x.so", NULL }, "'-5'" },
    { { "info", "--sample-rate", "inf", "x.so", NULL }, "'inf'" },
    { { "info", "--json=yes", "x.so", NULL }, "'--json'" },
    { { "info", "a.so", "b.so", NULL }, "'b.so'" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    run_t run = run_plugbox(cases[i].args);
    assert_int_equal(run.code, EXIT_USAGE);
    assert_one_error_line(&run, cases[i].named);
    run_free(&run);
  }
}

/* plugbox-bridge, run directly, takes --rt-priority 1..99 and refuses
 * anything else with exit status 2 and one line naming the option.  Its
 * control fd is one end of a socket pair whose other end sends nothing:
 * a bridge that got past its options reads the end and exits 0. */
static void
bridge_rt_priority_takes_1_to_99(void** state)
{
  (void)state;
  static const struct
  {
    const char* value; /* NULL: the option is last, without a value */
    int code;
  } cases[] = {
    { "0", EXIT_USAGE },  { "100", EXIT_USAGE },
    { "-1", EXIT_USAGE }, { "abc", EXIT_USAGE },
    { "", EXIT_USAGE },   { NULL, EXIT_USAGE },
    { "1", 0 },           { "99", 0 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    int sv[2];
    char fd[16];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(fcntl(sv[0], F_SETFD, FD_CLOEXEC), 0);
    assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
    (void)snprintf(fd, sizeof fd, "%d", sv[1]);
    const char* const args[] = {
      "--control-fd", fd, "--rt-priority", cases[i].value, NULL
    };
    run_t run = run_program("plugbox-bridge", NULL, args);
    assert_int_equal(close(sv[0]), 0);
    assert_int_equal(close(sv[1]), 0);
    if (run.code != cases[i].code)
      fail_msg("--rt-priority '%s': exit %d, expected %d; stderr:\n%s",
               cases[i].value ? cases[i].value : "(none)",
               run.code,
               cases[i].code,
               run.err);
    if (cases[i].code)
      assert_one_error_line(&run, "--rt-priority");
    else
      assert_string_equal(run.err, "");
    run_free(&run);
  }
}

/* A bad --shm-fd (not a number, the control fd itself, not open) is a
 * usage error naming the option. */
static void
bridge_shm_fd_must_be_an_open_other_fd(void** state)
{
  (void)state;
  int sv[2];
  char fd[16];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(fcntl(sv[0], F_SETFD, FD_CLOEXEC), 0);
  (void)snprintf(fd, sizeof fd, "%d", sv[1]);
  const char* const values[] = { "abc", fd, "1000" };
  assert_int_equal(fcntl(1000, F_GETFD), -1);
  for (size_t i = 0; i < sizeof values / sizeof values[0]; ++i) {
    const char* const args[] = {
      "--control-fd", fd, "--shm-fd", values[i], NULL
    };
    run_t run = run_program("plugbox-bridge", NULL, args);
    if (run.code != EXIT_USAGE)
      fail_msg("--shm-fd '%s': exit %d, expected %d; stderr:\n%s",
               values[i],
               run.code,
               EXIT_USAGE,
               run.err);
    assert_one_error_line(&run, "--shm-fd");
    run_free(&run);
  }
  assert_int_equal(close(sv[0]), 0);
  assert_int_equal(close(sv[1]), 0);
}

/* plugbox-bridge run with `fd` as its control fd refuses it up front: exit
 * status 2 (not a signal, as libuv's abort was), one line naming the
 * option and `why`. */
static void
assert_bridge_refuses_control_fd(int fd, const char* why)
{
  char text[16];
  (void)snprintf(text, sizeof text, "%d", fd);
  const char* const args[] = { "--control-fd", text, NULL };
  run_t run = run_program("plugbox-bridge", NULL, args);
  if (run.code != EXIT_USAGE)
    fail_msg("--control-fd on %s: exit %d, expected %d; stderr:\n%s",
             why,
             run.code,
             EXIT_USAGE,
             run.err);
  assert_one_error_line(&run, "--control-fd");
  if (!strstr(run.err, why))
    fail_msg("expected '%s' on stderr, got:\n%s", why, run.err);
  run_free(&run);
}

/* The control fd must be a stream socket: the bridge refuses a character
 * device, a regular file, a pipe (one way only), a datagram socket (it
 * would cut frames) and an fd that is not open.  The
 * fds are opened without close-on-exec, so the bridge inherits them. */
static void
bridge_control_fd_must_be_an_open_socket(void** state)
{
  (void)state;
  const int null_fd = open("/dev/null", O_RDWR);
  assert_true(null_fd > STDERR_FILENO);
  assert_bridge_refuses_control_fd(null_fd, "a character device");
  assert_int_equal(close(null_fd), 0);

  FILE* file = tmpfile();
  assert_non_null(file);
  assert_bridge_refuses_control_fd(fileno(file), "a regular file");
  assert_int_equal(fclose(file), 0);

  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(fcntl(p[1], F_SETFD, FD_CLOEXEC), 0);
  assert_bridge_refuses_control_fd(p[0], "a pipe");
  assert_int_equal(close(p[0]), 0);
  assert_int_equal(close(p[1]), 0);

  int dgram[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram), 0);
  assert_int_equal(fcntl(dgram[1], F_SETFD, FD_CLOEXEC), 0);
  assert_bridge_refuses_control_fd(dgram[0], "not a stream socket");
  assert_int_equal(close(dgram[0]), 0);
  assert_int_equal(close(dgram[1]), 0);

  /* Far above the fds the test and the child open. */
  const int closed_fd = 1000;
  assert_int_equal(fcntl(closed_fd, F_GETFD), -1);
  assert_bridge_refuses_control_fd(closed_fd, "not open");
}

static void
info_on_a_missing_file_exits_3_naming_it(void** state)
{
  (void)state;
  const char* path = "/nonexistent/plugbox-test/missing.so";
  const char* const args[] = { "info", path, NULL };
  run_t run = run_plugbox(args);
  assert_int_equal(run.code, EXIT_NOT_FOUND);
  assert_one_error_line(&run, path);
  assert_int_equal(strncmp(run.err, "plugbox: ", 9), 0);
  run_free(&run);
}

static void
info_on_a_text_file_exits_4_not_elf(void** state)
{
  (void)state;
  const char* const args[] = { "info", "--json", "/etc/passwd", NULL };
  run_t run = run_plugbox(args);
  assert_int_equal(run.code, EXIT_NOT_PLUGIN);
  assert_one_error_line(&run, "plugbox: /etc/passwd is not an ELF");
  run_free(&run);
}

static void
write_error_on_stdout_exits_nonzero(void** state)
{
  (void)state;
  FILE* full = fopen("/dev/full", "w");
  if (!full)
    skip();
  const char* const args[] = { "--help", NULL };
  run_t run = run_to(full, args);
  assert_int_equal(fclose(full), 0);
  assert_int_equal(run.code, 1);
  assert_one_error_line(&run, "error writing output");
  run_free(&run);
}

static void
info_json_of_mverb_is_one_valid_object(void** state)
{
  (void)state;
  skip_without(MVERB);
  const char* const args[] = { "info", "--json", MVERB, NULL };
  run_t run = run_plugbox(args);
  if (run.code != 0)
    fail_msg("exit %d: %s", run.code, run.err);
  if (!json_check(run.out, run.out_size))
    fail_msg("not JSON:\n%s", run.out);
  assert_int_equal(run.out[0], '{');
  assert_non_null(strstr(run.out, "\"name\""));
  assert_non_null(strstr(run.out, "\"params\": ["));
  assert_non_null(strstr(run.out, "\"path\": \"" MVERB "\""));
  run_free(&run);
}

static void
info_lists_lsp_compressor_parameters(void** state)
{
  (void)state;
  skip_without(LSP_COMPRESSOR);
  const char* const args[] = { "info", LSP_COMPRESSOR, NULL };
  run_t run = run_plugbox(args);
  if (run.code != 0)
    fail_msg("exit %d: %s", run.code, run.err);
  assert_int_equal(strncmp(run.out, "Plugin name: ", 13), 0);
  assert_non_null(strstr(run.out, "\nnumParams = "));
  assert_non_null(strstr(run.out, "\nParam 000: "));
  assert_non_null(strstr(run.out, "\nArchitecture: x86_64\n"));
  run_free(&run);
}

static void
info_log_brackets_the_plugin_output_on_stderr(void** state)
{
  (void)state;
  skip_without(MVERB);
  const char* const args[] = { "info", "--log", MVERB, NULL };
  run_t run = run_plugbox(args);
  if (run.code != 0)
    fail_msg("exit %d: %s", run.code, run.err);
  assert_non_null(strstr(run.err, "--- plugin output ("));
  assert_non_null(strstr(run.err, "--- end of plugin output ---\n"));
  assert_null(strstr(run.out, "--- plugin output"));
  run_free(&run);
}

/* The path of test plugin `name` (built into PB_TEST_PLUGIN_DIR). */
static void
test_plugin(char* path, size_t cap, const char* name)
{
  const char* dir = getenv("PB_TEST_PLUGIN_DIR");
  if (!dir)
    skip();
  int n = snprintf(path, cap, "%s/%s.so", dir, name);
  assert_true(n > 0 && (size_t)n < cap);
  skip_without(path);
}

static void
each_load_failure_has_its_exit_code_and_one_line(void** state)
{
  (void)state;
  static const struct
  {
    const char* plugin;
    int code;
  } cases[] = {
    { "pb_test_noentry", EXIT_NOT_PLUGIN },
    { "pb_test_nullentry", EXIT_NOT_PLUGIN },
    { "pb_test_badmagic", EXIT_NOT_PLUGIN },
    { "pb_test_missingdep", EXIT_NOT_PLUGIN },
    { "pb_test_crash_load", EXIT_CRASHED },
    { "pb_test_hang_load", EXIT_TIMEOUT },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    char path[4096];
    test_plugin(path, sizeof path, cases[i].plugin);
    const char* const args[] = { "info", "--timeout-ms", "1000", path, NULL };
    run_t run = run_plugbox(args);
    if (run.code != cases[i].code)
      fail_msg("%s: exit %d, not %d: %s",
               cases[i].plugin,
               run.code,
               cases[i].code,
               run.err);
    assert_one_error_line(&run, path);
    run_free(&run);
  }
}

static void
info_of_each_loadable_test_plugin_is_valid_json(void** state)
{
  (void)state;
  static const char* const plugins[] = { "pb_test_gain",
                                         "pb_test_synth",
                                         "pb_test_odd" };
  for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; ++i) {
    char path[4096];
    test_plugin(path, sizeof path, plugins[i]);
    const char* const args[] = { "info",  "--json",     "--sample-rate",
                                 "44100", "--block=64", path,
                                 NULL };
    run_t run = run_plugbox(args);
    if (run.code != 0 || !json_check(run.out, run.out_size))
      fail_msg(
        "%s: exit %d, output:\n%s\n%s", plugins[i], run.code, run.out, run.err);
    run_free(&run);
  }
}

static void
info_of_the_synth_lists_its_midi_and_flags(void** state)
{
  (void)state;
  char path[4096];
  test_plugin(path, sizeof path, "pb_test_synth");
  const char* const args[] = { "info", path, NULL };
  run_t run = run_plugbox(args);
  assert_int_equal(run.code, 0);
  assert_non_null(strstr(run.out, "\nCategory: synth\n"));
  assert_non_null(strstr(run.out, "\nFlags: "));
  assert_non_null(strstr(run.out, " synth"));
  assert_non_null(strstr(run.out, "\nMIDI inputs: 16 channels"));
  run_free(&run);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(help_exits_0_and_lists_info_and_exit_codes),
    cmocka_unit_test(version_prints_the_version),
    cmocka_unit_test(help_info_and_info_help_print_the_same),
    cmocka_unit_test(usage_errors_exit_2_naming_the_culprit),
    cmocka_unit_test(bridge_rt_priority_takes_1_to_99),
    cmocka_unit_test(bridge_control_fd_must_be_an_open_socket),
    cmocka_unit_test(bridge_shm_fd_must_be_an_open_other_fd),
    cmocka_unit_test(info_on_a_missing_file_exits_3_naming_it),
    cmocka_unit_test(info_on_a_text_file_exits_4_not_elf),
    cmocka_unit_test(write_error_on_stdout_exits_nonzero),
    cmocka_unit_test(info_json_of_mverb_is_one_valid_object),
    cmocka_unit_test(info_lists_lsp_compressor_parameters),
    cmocka_unit_test(info_log_brackets_the_plugin_output_on_stderr),
    cmocka_unit_test(each_load_failure_has_its_exit_code_and_one_line),
    cmocka_unit_test(info_of_each_loadable_test_plugin_is_valid_json),
    cmocka_unit_test(info_of_the_synth_lists_its_midi_and_flags),
  };
  return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
