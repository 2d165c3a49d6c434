/* The crash note (see crash.h).  Everything the signal handler touches is
 * set up beforehand: the alternate stack, the module range (through
 * dl_iterate_phdr at load time; dladdr is not async-signal-safe), a
 * read-only view of the shared block's header.  The handler formats the
 * line by hand into a stack buffer and write()s it. */
#define _GNU_SOURCE /* dl_iterate_phdr, REG_RIP, gettid */

#include "bridge/crash.h"

#include "common/shm.h"

#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ALT_STACK_BYTES (64u * 1024u)
#define MODULE_PATH_BYTES 512u
#define NOTE_BYTES 1024u

static char alt_stack[ALT_STACK_BYTES];
static char audio_alt_stack[2][ALT_STACK_BYTES];
static const char* volatile current_call;
static pid_t main_tid;
static const struct pb_shm_header* volatile shm_header;
static uintptr_t module_lo, module_hi, module_base;
static char module_path[MODULE_PATH_BYTES];

/* Not SIGSYS: the seccomp layer owns it (bridge/sandbox_seccomp.c). */
static const int fault_signals[] = { SIGSEGV, SIGBUS,  SIGFPE,
                                     SIGILL,  SIGABRT, SIGTRAP };

/* ------------------------------------------------- async-signal-safe */

typedef struct
{
  char* buf;
  size_t len, cap;
} line_t;

static void
put(line_t* l, const char* s)
{
  while (*s && l->len + 1 < l->cap)
    l->buf[l->len++] = *s++;
}

static void
put_hex(line_t* l, uintptr_t v)
{
  char digits[2 + 2 * sizeof v + 1];
  size_t n = sizeof digits - 1;
  digits[n] = '\0';
  do {
    digits[--n] = "0123456789abcdef"[v & 15u];
    v >>= 4;
  } while (v && n > 2);
  digits[--n] = 'x';
  digits[--n] = '0';
  put(l, digits + n);
}

static void
put_dec(line_t* l, long v)
{
  char digits[24];
  size_t n = sizeof digits - 1;
  const int neg = v < 0;
  unsigned long u = neg ? 0ul - (unsigned long)v : (unsigned long)v;
  digits[n] = '\0';
  do {
    digits[--n] = (char)('0' + u % 10u);
    u /= 10u;
  } while (u && n > 1);
  if (neg)
    digits[--n] = '-';
  put(l, digits + n);
}

static const char*
sig_name(int sig)
{
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGABRT:
      return "SIGABRT";
    default:
      return "SIGTRAP";
  }
}

static uintptr_t
context_pc(const void* context)
{
  const ucontext_t* uc = (const ucontext_t*)context;
  if (!uc)
    return 0;
#if defined(__x86_64__)
  return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__i386__)
  return (uintptr_t)uc->uc_mcontext.gregs[REG_EIP];
#else
  return 0;
#endif
}

/* Which call the faulting thread was in: the main thread's current one;
 * on another thread, "process" while a block is outstanding; "-" when
 * no plugin call is known (the host's own idea stands then). */
static const char*
call_of_thread(void)
{
  if ((pid_t)syscall(SYS_gettid) == main_tid) {
    const char* call = current_call;
    return call ? call : "-";
  }
  const struct pb_shm_header* h = shm_header;
  if (h && __atomic_load_n(&h->request_seq, __ATOMIC_RELAXED) !=
             __atomic_load_n(&h->done_seq, __ATOMIC_RELAXED))
    return "process";
  return "-";
}

static void
put_module(line_t* l, uintptr_t pc)
{
  put(l, " module=");
  if (module_path[0] && pc >= module_lo && pc < module_hi) {
    put(l, module_path);
    put(l, "+");
    put_hex(l, pc - module_base);
  } else {
    put(l, "?");
  }
}

static void
write_all(const char* buf, size_t len)
{
  while (len > 0) {
    const ssize_t n = write(STDERR_FILENO, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    buf += n;
    len -= (size_t)n;
  }
}

static void
on_fault(int sig, siginfo_t* info, void* context)
{
  const int saved_errno = errno;
  char buf[NOTE_BYTES];
  line_t l = { buf, 0, sizeof buf };
  const uintptr_t pc = context_pc(context);
  put(&l, "\n" PB_CRASH_NOTE_PREFIX "sig=");
  put(&l, sig_name(sig));
  put(&l, " addr=");
  put_hex(&l, info ? (uintptr_t)info->si_addr : 0u);
  put(&l, " pc=");
  put_hex(&l, pc);
  put(&l, " call=");
  put(&l, call_of_thread());
  put_module(&l, pc);
  put(&l, " code=");
  put_dec(&l, info ? info->si_code : 0);
  put(&l, "\n");
  write_all(buf, l.len);
  /* Default action from now on; the re-raised signal is delivered when
   * the handler returns (a hardware fault also recurs on return). */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  (void)sigaction(sig, &dfl, NULL);
  (void)raise(sig);
  errno = saved_errno;
}

/* The bridge leaves with _exit(); only plugin code calls exit(). */
static void
on_exit_call(void)
{
  if (!module_path[0])
    return;
  char buf[NOTE_BYTES];
  line_t l = { buf, 0, sizeof buf };
  put(&l, "\n" PB_CRASH_NOTE_PREFIX "sig=exit addr=0x0 pc=0x0 call=");
  put(&l, call_of_thread());
  put(&l, " module=? code=0\n");
  write_all(buf, l.len);
}

/* ------------------------------------------------------------ set-up */

static void
map_header(int shm_fd)
{
  if (shm_fd < 0)
    return;
  void* p =
    mmap(NULL, sizeof(struct pb_shm_header), PROT_READ, MAP_SHARED, shm_fd, 0);
  if (p != MAP_FAILED)
    shm_header = (const struct pb_shm_header*)p;
}

/* An alternate stack is per thread: each thread that may overflow its
 * own needs one for the handler to run at all. */
static int
use_alt_stack(char* stack, size_t size)
{
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = stack;
  ss.ss_size = size;
  return sigaltstack(&ss, NULL) < 0 ? -errno : 0;
}

int
pb_crash_audio_stack(unsigned thread)
{
  if (thread >= 2)
    return -EINVAL;
  return use_alt_stack(audio_alt_stack[thread], sizeof audio_alt_stack[0]);
}

int
pb_crash_install(int shm_fd)
{
  main_tid = (pid_t)syscall(SYS_gettid);
  map_header(shm_fd);
  const int err = use_alt_stack(alt_stack, sizeof alt_stack);
  if (err)
    return err;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof fault_signals / sizeof fault_signals[0]; ++i)
    if (sigaction(fault_signals[i], &sa, NULL) < 0)
      return -errno;
  return atexit(on_exit_call) ? -ENOMEM : 0;
}

void
pb_crash_set_main_thread(void)
{
  main_tid = (pid_t)syscall(SYS_gettid);
}

void
pb_crash_set_call(const char* call)
{
  current_call = call;
}

typedef struct
{
  uintptr_t symbol;
  int found;
} find_t;

static int
find_object(struct dl_phdr_info* info, size_t size, void* data)
{
  (void)size;
  find_t* f = (find_t*)data;
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD)
      continue;
    const uintptr_t start = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
    if (start < lo)
      lo = start;
    if (start + ph->p_memsz > hi)
      hi = start + ph->p_memsz;
  }
  if (f->symbol < lo || f->symbol >= hi)
    return 0;
  module_lo = lo;
  module_hi = hi;
  module_base = (uintptr_t)info->dlpi_addr;
  const char* name = info->dlpi_name ? info->dlpi_name : "";
  size_t n = strlen(name);
  if (n >= sizeof module_path)
    n = sizeof module_path - 1;
  memcpy(module_path, name, n);
  module_path[n] = '\0';
  f->found = 1;
  return 1;
}

void
pb_crash_note_module(const void* symbol)
{
  find_t f = { (uintptr_t)symbol, 0 };
  (void)dl_iterate_phdr(find_object, &f);
}
