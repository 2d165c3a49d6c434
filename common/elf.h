/* What kind of binary a plugin file is, read from its header alone.
 * Pure code; no libuv. */
#ifndef PB_COMMON_ELF_H
#define PB_COMMON_ELF_H

#include <stdint.h>

typedef enum
{
  PB_ARCH_UNKNOWN = 0, /* an ELF machine we do not run */
  PB_ARCH_X86_64 = 1,
  PB_ARCH_I386 = 2,
} pb_arch_t;

typedef struct
{
  pb_arch_t arch;
  int elf_class;      /* 1: 32-bit, 2: 64-bit; 0 for non-ELF formats */
  uint16_t machine;   /* e_machine */
  uint16_t type;      /* e_type (3: shared object) */
  char arch_name[48]; /* "x86_64", "i386", "aarch64", "Windows PE (x86_64)" */
} pb_elf_info_t;

/** Read the header of `path`.  Returns 0 for an ELF file (any machine; see
 *  `arch`), -ENOEXEC if the file is not ELF (then arch_name may still name
 *  a Windows PE file), or -errno from open/read (-ENOENT, -EACCES,
 *  -EISDIR...). */
int pb_elf_probe(const char* path, pb_elf_info_t* out);

/** Name of `arch` ("x86_64", "i386", "unknown"). */
const char* pb_arch_name(pb_arch_t arch);

/** The architecture this code was compiled for. */
pb_arch_t pb_arch_native(void);

#endif /* PB_COMMON_ELF_H */
