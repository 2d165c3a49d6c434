/* The seccomp allow list compiled at build time (bridge/
 * sandbox_seccomp_gen.c) is the program libseccomp builds from the list
 * now, and it loads and answers as the list says. */
#define _GNU_SOURCE /* syscall */

#include "bridge/sandbox.h"

#include "sandbox_seccomp_allow_bpf.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void
prebuilt_program_is_what_libseccomp_builds(void** state)
{
  (void)state;
  void* ctx = NULL;
  assert_int_equal(pb_sandbox_seccomp_allow_build(&ctx), 0);
  FILE* f = tmpfile();
  assert_non_null(f);
  assert_int_equal(seccomp_export_bpf(ctx, fileno(f)), 0);
  seccomp_release(ctx);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  const long size = ftell(f);
  assert_int_equal(size, (long)sizeof pb_allow_bpf);
  rewind(f);
  unsigned char* now = malloc((size_t)size);
  assert_non_null(now);
  assert_int_equal(fread(now, 1, (size_t)size, f), (size_t)size);
  (void)fclose(f);
  assert_memory_equal(now, pb_allow_bpf, sizeof pb_allow_bpf);
  free(now);
}

/* In a child: load the program, then an unlisted call answers ENOSYS and
 * a listed one works.  Exit status 0 if so. */
static int
child_checks_the_filter(void)
{
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
      pb_sandbox_seccomp_allow() != 0)
    return 1;
  errno = 0;
  if (syscall(SYS_mq_getsetattr, -1, NULL, NULL) != -1 || errno != ENOSYS)
    return 2;
  return getppid() > 0 ? 0 : 3;
}

static void
prebuilt_program_closes_unlisted_calls(void** state)
{
  (void)state;
  const pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(child_checks_the_filter());
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(prebuilt_program_is_what_libseccomp_builds),
    cmocka_unit_test(prebuilt_program_closes_unlisted_calls),
  };
  return cmocka_run_group_tests_name("sandbox_bpf", tests, NULL, NULL);
}
