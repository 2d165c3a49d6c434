/* The bridge's crash note: when the plugin kills the bridge with a fault
 * signal (or calls exit()), one line goes to stderr, which the host reads
 * from the log pipe and parses into its crash record:
 *
 *   plugbox-crash: sig=SIGSEGV addr=0x0 pc=0x7f.. call=param_display
 *     module=/path/plugin.so+0x1234 tid=main
 *
 * (one line).  The handler runs on an alternate stack, so a stack
 * overflow is reported too, and uses only write(): everything it needs
 * (the plugin's load range and path) is worked out at load time.  It then
 * re-raises the signal with the default action, so the host still sees
 * the real cause of death.  [main-thread] unless noted. */
#ifndef PB_BRIDGE_CRASH_H
#define PB_BRIDGE_CRASH_H

#include <stdint.h>

/** The prefix of every note; the host looks for it. */
#define PB_CRASH_NOTE_PREFIX "plugbox-crash: "

/** Install the handlers (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
 *  SIGTRAP) on an alternate stack, and a note for exit().
 *  `shm_fd` (or -1): the shared audio block, mapped read-only here so the
 *  handler can tell a fault during a process call.  Returns 0 or -errno. */
int pb_crash_install(int shm_fd);

/** Give the calling thread an alternate stack of its own, so that a stack
 *  overflow there still leaves a note.  For the bridge's audio thread
 *  (`thread` 0) and its standby thread (1): one static stack each.
 *  Returns 0 or -errno.  [audio-thread] */
int pb_crash_audio_stack(unsigned thread);

/** Take the calling thread as the main thread again: after the sandbox
 *  moved the bridge into a pid namespace (a new process whose thread ids
 *  are the namespace's).  [main-thread] */
void pb_crash_set_main_thread(void);

/** Name the plugin call the main thread is about to make (static
 *  storage), or NULL when it is back in the bridge.  [main-thread] */
void pb_crash_set_call(const char* call);

/** Remember the load range and path of the object that holds `symbol`
 *  (the plugin's entry point), for module offsets in the note. */
void pb_crash_note_module(const void* symbol);

#endif /* PB_BRIDGE_CRASH_H */
