/* Tests of common/elf.c: which bridge a file needs, from its header. */
#define _POSIX_C_SOURCE 200809L

#include "common/elf.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char tmp_path[64];

static void
write_tmp(const void* data, size_t len)
{
  snprintf(tmp_path, sizeof(tmp_path), "/tmp/pb_test_elf_XXXXXX");
  const int fd = mkstemp(tmp_path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  assert_int_equal(close(fd), 0);
}

static void
elf_header(unsigned char* h, unsigned char elf_class, uint16_t machine)
{
  memset(h, 0, 64);
  memcpy(h, "\177ELF", 4);
  h[4] = elf_class;
  h[5] = 1; /* little-endian */
  h[6] = 1;
  h[16] = 3; /* shared object */
  h[18] = (unsigned char)(machine & 0xff);
  h[19] = (unsigned char)(machine >> 8);
}

static void
probe_reads_this_test_binary_as_native(void** state)
{
  (void)state;
  pb_elf_info_t info;
  assert_int_equal(pb_elf_probe("/proc/self/exe", &info), 0);
  assert_int_equal(info.arch, pb_arch_native());
  assert_string_equal(info.arch_name, pb_arch_name(pb_arch_native()));
}

static void
probe_names_i386(void** state)
{
  (void)state;
  unsigned char h[64];
  pb_elf_info_t info;
  elf_header(h, 1, 3);
  write_tmp(h, sizeof(h));
  assert_int_equal(pb_elf_probe(tmp_path, &info), 0);
  unlink(tmp_path);
  assert_int_equal(info.arch, PB_ARCH_I386);
  assert_int_equal(info.elf_class, 1);
  assert_string_equal(info.arch_name, "i386");
}

static void
probe_names_aarch64_as_unknown_arch(void** state)
{
  (void)state;
  unsigned char h[64];
  pb_elf_info_t info;
  elf_header(h, 2, 183);
  write_tmp(h, sizeof(h));
  assert_int_equal(pb_elf_probe(tmp_path, &info), 0);
  unlink(tmp_path);
  assert_int_equal(info.arch, PB_ARCH_UNKNOWN);
  assert_string_equal(info.arch_name, "aarch64");
}

static void
probe_rejects_text_file(void** state)
{
  (void)state;
  pb_elf_info_t info;
  const char text[] = "not a plugin at all\n";
  write_tmp(text, sizeof(text) - 1);
  assert_int_equal(pb_elf_probe(tmp_path, &info), -ENOEXEC);
  unlink(tmp_path);
  assert_string_equal(info.arch_name, "");
}

static void
probe_rejects_short_file(void** state)
{
  (void)state;
  pb_elf_info_t info;
  write_tmp("\177ELF", 4);
  assert_int_equal(pb_elf_probe(tmp_path, &info), -ENOEXEC);
  unlink(tmp_path);
}

static void
probe_names_windows_dll(void** state)
{
  (void)state;
  unsigned char h[256];
  pb_elf_info_t info;
  memset(h, 0, sizeof(h));
  h[0] = 'M';
  h[1] = 'Z';
  h[0x3c] = 0x80;
  memcpy(h + 0x80, "PE\0\0", 4);
  h[0x84] = 0x64;
  h[0x85] = 0x86;
  write_tmp(h, sizeof(h));
  assert_int_equal(pb_elf_probe(tmp_path, &info), -ENOEXEC);
  unlink(tmp_path);
  assert_string_equal(info.arch_name, "Windows PE (x86_64)");
}

static void
probe_reports_missing_file(void** state)
{
  (void)state;
  pb_elf_info_t info;
  assert_int_equal(pb_elf_probe("/nonexistent/plugin.so", &info), -ENOENT);
}

static void
probe_reports_directory(void** state)
{
  (void)state;
  pb_elf_info_t info;
  assert_int_equal(pb_elf_probe("/tmp", &info), -EISDIR);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(probe_reads_this_test_binary_as_native),
    cmocka_unit_test(probe_names_i386),
    cmocka_unit_test(probe_names_aarch64_as_unknown_arch),
    cmocka_unit_test(probe_rejects_text_file),
    cmocka_unit_test(probe_rejects_short_file),
    cmocka_unit_test(probe_names_windows_dll),
    cmocka_unit_test(probe_reports_missing_file),
    cmocka_unit_test(probe_reports_directory),
  };
  return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
