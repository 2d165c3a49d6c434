/* Reads just enough of a binary's header to tell which bridge can load it:
 * the ELF class and machine, or the machine of a Windows PE file so the
 * error can name what the user gave us. */
#define _POSIX_C_SOURCE 200809L

#include "common/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum
{
  ELF_HEADER_BYTES = 64,
  EM_386_ = 3,
  EM_ARM_ = 40,
  EM_X86_64_ = 62,
  EM_AARCH64_ = 183,
  EM_RISCV_ = 243,
  PE_OFFSET_FIELD = 0x3c,
};

static uint16_t
read_u16(const unsigned char* p, int big_endian)
{
  const unsigned hi = big_endian ? p[0] : p[1];
  const unsigned lo = big_endian ? p[1] : p[0];
  return (uint16_t)(hi << 8 | lo);
}

static uint32_t
read_u32_le(const unsigned char* p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static const char*
machine_name(uint16_t machine)
{
  switch (machine) {
    case EM_386_:
      return "i386";
    case EM_X86_64_:
      return "x86_64";
    case EM_ARM_:
      return "arm";
    case EM_AARCH64_:
      return "aarch64";
    case EM_RISCV_:
      return "riscv";
    default:
      return NULL;
  }
}

static void
describe_elf(const unsigned char* h, pb_elf_info_t* out)
{
  const int big_endian = h[5] == 2;
  out->elf_class = h[4];
  out->type = read_u16(h + 16, big_endian);
  out->machine = read_u16(h + 18, big_endian);
  if (out->elf_class == 2 && out->machine == EM_X86_64_) {
    out->arch = PB_ARCH_X86_64;
  } else if (out->elf_class == 1 && out->machine == EM_386_) {
    out->arch = PB_ARCH_I386;
  }
  const char* name = machine_name(out->machine);
  if (name) {
    snprintf(out->arch_name,
             sizeof(out->arch_name),
             "%s%s",
             name,
             out->arch == PB_ARCH_UNKNOWN && out->elf_class == 1 ? " (32-bit)"
                                                                 : "");
  } else {
    snprintf(out->arch_name,
             sizeof(out->arch_name),
             "ELF machine %u",
             (unsigned)out->machine);
  }
}

/* A Windows DLL starts with "MZ"; the PE header it points to names the
 * machine.  We only name it: no bridge runs Windows code. */
static void
describe_pe(int fd, const unsigned char* h, size_t n, pb_elf_info_t* out)
{
  unsigned char pe[6];
  const char* machine = "unknown machine";
  if (n >= PE_OFFSET_FIELD + 4) {
    const uint32_t off = read_u32_le(h + PE_OFFSET_FIELD);
    if (pread(fd, pe, sizeof(pe), (off_t)off) == (ssize_t)sizeof(pe) &&
        memcmp(pe, "PE\0\0", 4) == 0) {
      const uint16_t m = read_u16(pe + 4, 0);
      machine = m == 0x8664 ? "x86_64" : m == 0x14c ? "i386" : machine;
    }
  }
  snprintf(out->arch_name, sizeof(out->arch_name), "Windows PE (%s)", machine);
}

static int
read_header(int fd, unsigned char* h, size_t cap, size_t* n)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  if (S_ISDIR(st.st_mode))
    return -EISDIR;
  const ssize_t got = pread(fd, h, cap, 0);
  if (got < 0)
    return -errno;
  *n = (size_t)got;
  return 0;
}

int
pb_elf_probe(const char* path, pb_elf_info_t* out)
{
  unsigned char h[ELF_HEADER_BYTES];
  size_t n = 0;
  memset(out, 0, sizeof(*out));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = read_header(fd, h, sizeof(h), &n);
  if (rc == 0 && n >= 20 && memcmp(h, "\177ELF", 4) == 0) {
    describe_elf(h, out);
  } else if (rc == 0) {
    rc = -ENOEXEC;
    if (n >= 2 && h[0] == 'M' && h[1] == 'Z')
      describe_pe(fd, h, n, out);
  }
  close(fd);
  return rc;
}

const char*
pb_arch_name(pb_arch_t arch)
{
  switch (arch) {
    case PB_ARCH_X86_64:
      return "x86_64";
    case PB_ARCH_I386:
      return "i386";
    case PB_ARCH_UNKNOWN:
      break;
  }
  return "unknown";
}

pb_arch_t
pb_arch_native(void)
{
#if defined(__x86_64__)
  return PB_ARCH_X86_64;
#elif defined(__i386__)
  return PB_ARCH_I386;
#else
  return PB_ARCH_UNKNOWN;
#endif
}
