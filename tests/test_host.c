/* libplugbox without a real bridge: the host context, status texts, and
 * every way pb_plugin_open() can fail before and during the load, the
 * latter with fake bridges written as shell scripts.  Every test ends with
 * no fd, thread or child process left over (host_fixture.c). */
#define _XOPEN_SOURCE 700 /* realpath */

#include "host_fixture.h"

#include "proto/message.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------- host and statuses */

static void
host_new_starts_one_thread_and_free_joins_it(void** state)
{
  (void)state;
  const int before = fx_count_dir("/proc/self/task");
  pb_host_t* host = NULL;
  assert_int_equal(pb_host_new(&host), PB_OK);
  assert_non_null(host);
  assert_int_equal(fx_count_dir("/proc/self/task"), before + 1);
  assert_string_equal(pb_host_last_error(host), "");
  pb_host_free(host);
  assert_int_equal(fx_count_dir("/proc/self/task"), before);
}

static void
free_and_close_accept_null(void** state)
{
  (void)state;
  pb_crash_t crash;
  char buf[8] = "x";
  pb_host_free(NULL);
  pb_plugin_close(NULL);
  pb_free(NULL);
  pb_plugin_crash(NULL, &crash);
  assert_int_equal(crash.crashed, 0);
  assert_int_equal(crash.exit_code, -1);
  assert_int_equal(pb_plugin_log(NULL, buf, sizeof(buf)), 0);
  assert_int_equal(pb_plugin_pid(NULL), 0);
  assert_null(pb_plugin_info(NULL));
  assert_string_equal(pb_plugin_last_error(NULL), "");
  assert_string_equal(pb_host_last_error(NULL), "");
  assert_int_equal(pb_host_new(NULL), PB_ERR_INVALID);
}

static void
every_status_has_a_sentence_and_a_unique_name(void** state)
{
  (void)state;
  for (int i = 0; i < PB_STATUS_COUNT; ++i) {
    const char* sentence = pb_strerror((pb_status_t)i);
    assert_non_null(sentence);
    assert_true(strlen(sentence) > 3);
    assert_true(strlen(pb_status_name((pb_status_t)i)) > 0);
    for (int j = 0; j < i; ++j)
      assert_string_not_equal(pb_status_name((pb_status_t)i),
                              pb_status_name((pb_status_t)j));
  }
  assert_string_equal(pb_status_name(PB_OK), "ok");
  assert_string_equal(pb_status_name(PB_ERR_NOT_FOUND), "not_found");
  assert_string_equal(pb_status_name((pb_status_t)PB_STATUS_COUNT), "unknown");
  assert_non_null(pb_strerror((pb_status_t)-1));
}

static void
category_names_follow_the_vst_numbering(void** state)
{
  (void)state;
  assert_string_equal(pb_category_name(PB_CATEGORY_EFFECT), "effect");
  assert_string_equal(pb_category_name(PB_CATEGORY_SYNTH), "synth");
  assert_string_equal(pb_category_name(PB_CATEGORY_GENERATOR), "generator");
  assert_string_equal(pb_category_name(12), "unknown");
  assert_string_equal(pb_category_name(-1), "unknown");
}

static void
opts_init_sets_the_documented_defaults(void** state)
{
  (void)state;
  pb_open_opts_t o;
  memset(&o, 0xab, sizeof(o));
  pb_open_opts_init(&o);
  assert_int_equal(o.struct_size, sizeof(o));
  assert_true(o.sample_rate == 48000.0);
  assert_int_equal(o.max_block_frames, 512);
  assert_int_equal(o.load_timeout_ms, 10000);
  assert_int_equal(o.call_timeout_ms, 5000);
  assert_null(o.bridge_path);
  assert_int_equal(o.log_capacity_bytes, 65536);
}

/* ----------------------------------------------- open: bad files */

static void
open_rejects_missing_arguments(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = (pb_plugin_t*)&p; /* must be reset to NULL */
  assert_int_equal(pb_plugin_open(f->host, NULL, NULL, &p), PB_ERR_INVALID);
  assert_null(p);
  assert_int_equal(pb_plugin_open(NULL, MVERB, NULL, &p), PB_ERR_INVALID);
  assert_int_equal(pb_plugin_open(f->host, MVERB, NULL, NULL), PB_ERR_INVALID);
  f->opts.sample_rate = -1.0;
  assert_int_equal(fx_open(f, MVERB, &p), PB_ERR_INVALID);
  assert_true(fx_contains(pb_host_last_error(f->host), "sample rate"));
}

static void
open_missing_file_is_not_found(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  char path[128];
  (void)snprintf(path, sizeof(path), "%s/nothing-here.so", f->dir);
  assert_int_equal(fx_open(f, path, &p), PB_ERR_NOT_FOUND);
  assert_null(p);
  assert_true(fx_contains(pb_host_last_error(f->host), "no such file"));
  assert_true(fx_contains(pb_host_last_error(f->host), path));
}

static void
open_text_file_is_not_elf(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  const char text[] = "this is not a plugin\n";
  const char* path = fx_make_file(f, "text.so", text, sizeof(text) - 1, 0644);
  assert_int_equal(fx_open(f, path, &p), PB_ERR_NOT_ELF);
  assert_null(p);
  assert_true(fx_contains(pb_host_last_error(f->host), path));
  assert_true(fx_contains(pb_host_last_error(f->host), "not an ELF"));
}

static void
open_directory_is_not_elf(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  assert_int_equal(fx_open(f, f->dir, &p), PB_ERR_NOT_ELF);
}

static void
write_elf(fixture_t* f, const char* name, uint8_t elf_class, uint16_t machine)
{
  unsigned char h[64] = { 0x7f, 'E', 'L', 'F', elf_class, 1, 1 };
  h[16] = 3; /* ET_DYN */
  h[18] = (unsigned char)(machine & 0xffu);
  h[19] = (unsigned char)(machine >> 8);
  (void)fx_make_file(f, name, h, sizeof(h), 0644);
}

static void
open_aarch64_elf_is_wrong_arch(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  write_elf(f, "arm.so", 2, 183 /* EM_AARCH64 */);
  assert_int_equal(fx_open(f, f->path, &p), PB_ERR_ARCH);
  assert_null(p);
  assert_true(fx_contains(pb_host_last_error(f->host), "aarch64"));
  assert_true(fx_contains(pb_host_last_error(f->host), f->path));
}

/* With plugbox-bridge-32 installed, test_bridge32 opens i386 plugins. */
static void
open_i386_elf_without_bridge32_is_wrong_arch(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  write_elf(f, "x86.so", 1, 3 /* EM_386 */);
  assert_int_equal(setenv("PLUGBOX_BRIDGE_32", "/nowhere/bridge-32", 1), 0);
  assert_int_equal(fx_open(f, f->path, &p), PB_ERR_ARCH);
  assert_int_equal(unsetenv("PLUGBOX_BRIDGE_32"), 0);
  assert_null(p);
  const char* e = pb_host_last_error(f->host);
  assert_true(fx_contains(e, "i386 plugin"));
  assert_true(fx_contains(e, "plugbox-bridge-32 is not installed"));
  assert_true(fx_contains(e, "/nowhere/bridge-32"));
}

static void
open_windows_dll_is_wrong_arch(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  unsigned char dll[256] = { 'M', 'Z' };
  dll[0x3c] = 0x80;
  memcpy(dll + 0x80, "PE\0\0\x64\x86", 6); /* machine 0x8664 */
  (void)fx_make_file(f, "plugin.dll", dll, sizeof(dll), 0644);
  assert_int_equal(fx_open(f, f->path, &p), PB_ERR_ARCH);
  assert_true(fx_contains(pb_host_last_error(f->host), "Windows PE"));
}

static void
open_unreadable_file_is_access(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  if (geteuid() == 0)
    skip(); /* root reads everything */
  write_elf(f, "secret.so", 2, 62);
  assert_int_equal(chmod(f->path, 0), 0);
  assert_int_equal(fx_open(f, f->path, &p), PB_ERR_ACCESS);
}

/* ----------------------------------------- open: bridge problems */

/* A file that passes every check the host makes before starting a bridge:
 * the fake bridges below never load it. */
static const char*
fake_plugin(fixture_t* f)
{
  static char path[256];
  write_elf(f, "fake.so", 2, 62 /* EM_X86_64 */);
  (void)snprintf(path, sizeof(path), "%s", f->path);
  return path;
}

static void
open_with_missing_bridge_names_it(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  const char* plugin = fake_plugin(f);
  f->opts.bridge_path = "/nonexistent/plugbox-bridge";
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_BRIDGE);
  assert_null(p);
  assert_true(fx_contains(pb_host_last_error(f->host), f->opts.bridge_path));
}

static void
open_with_missing_env_bridge_names_it(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  const char* plugin = fake_plugin(f);
  assert_int_equal(setenv("PLUGBOX_BRIDGE", "/nowhere/bridge", 1), 0);
  const pb_status_t st = fx_open(f, plugin, &p);
  assert_int_equal(unsetenv("PLUGBOX_BRIDGE"), 0);
  assert_int_equal(st, PB_ERR_BRIDGE);
  assert_true(fx_contains(pb_host_last_error(f->host), "/nowhere/bridge"));
}

static void
open_with_non_executable_bridge_is_bridge_error(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  const char* plugin = fake_plugin(f);
  f->opts.bridge_path = fx_make_file(f, "plain", "#!/bin/sh\n", 10, 0644);
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_BRIDGE);
}

/* A hello: [1, 0, version, arch, pid] in a length-prefixed frame. */
static size_t
hello_frame(unsigned char* out, unsigned version, const char* arch)
{
  const size_t n_arch = strlen(arch);
  const size_t body = 5 + n_arch + 1;
  size_t i = 0;
  out[i++] = (unsigned char)body;
  out[i++] = 0;
  out[i++] = 0;
  out[i++] = 0;
  out[i++] = 0x95;
  out[i++] = 0x01;
  out[i++] = 0x00;
  out[i++] = (unsigned char)version;
  out[i++] = (unsigned char)(0xa0 | n_arch);
  memcpy(out + i, arch, n_arch);
  i += n_arch;
  out[i++] = 0x01;
  return i;
}

static void
open_refuses_other_protocol_version(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  unsigned char frame[32];
  const char* plugin = fake_plugin(f);
  const size_t n = hello_frame(frame, 99, "x86_64");
  f->opts.bridge_path = fx_make_bridge(f, frame, n, "exec sleep 30");
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_PROTOCOL);
  assert_true(fx_contains(pb_host_last_error(f->host), "protocol version 99"));
}

static void
open_refuses_bridge_of_other_arch(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  unsigned char frame[32];
  const char* plugin = fake_plugin(f);
  const size_t n = hello_frame(frame, PB_PROTO_VERSION, "i386");
  f->opts.bridge_path = fx_make_bridge(f, frame, n, "exec sleep 30");
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_PROTOCOL);
  assert_true(fx_contains(pb_host_last_error(f->host), "i386"));
}

static void
open_kills_bridge_sending_garbage(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  const unsigned char junk[] = { 3, 0, 0, 0, 0xc1, 0xc1, 0xc1 };
  const char* plugin = fake_plugin(f);
  f->opts.bridge_path = fx_make_bridge(f, junk, sizeof(junk), "exec sleep 30");
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_PROTOCOL);
  assert_true(fx_contains(pb_host_last_error(f->host), "protocol error"));
}

static void
open_kills_bridge_announcing_huge_frame(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  const unsigned char huge[] = { 0xff, 0xff, 0xff, 0x7f };
  const char* plugin = fake_plugin(f);
  f->opts.bridge_path = fx_make_bridge(f, huge, sizeof(huge), "exec sleep 30");
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_PROTOCOL);
  assert_true(fx_contains(pb_host_last_error(f->host), "size limit"));
}

static void
open_times_out_on_silent_bridge(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  unsigned char frame[32];
  const char* plugin = fake_plugin(f);
  const size_t n = hello_frame(frame, PB_PROTO_VERSION, "x86_64");
  f->opts.bridge_path = fx_make_bridge(f, frame, n, "exec sleep 30");
  f->opts.load_timeout_ms = 300;
  const double t0 = fx_now_ms();
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_TIMEOUT);
  const double took = fx_now_ms() - t0;
  assert_true(took >= 290 && took < 3000);
  assert_true(fx_contains(pb_host_last_error(f->host), "within 300 ms"));
  assert_true(fx_contains(pb_host_last_error(f->host), plugin));
}

/* The bridge prints a lot, then exits: the error says how it ended and
 * quotes its newest output, whatever the log capacity. */
static void
open_reports_exit_code_and_last_output(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  const char* plugin = fake_plugin(f);
  f->opts.bridge_path = fx_make_bridge(
    f,
    (const unsigned char*)"",
    0,
    "i=0; while [ $i -lt 2000 ]; do echo \"line $i\"; i=$((i+1)); done\n"
    "echo 'bridge says goodbye' >&2\nexit 3");
  f->opts.log_capacity_bytes = 64;
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_CRASHED);
  const char* msg = pb_host_last_error(f->host);
  assert_true(fx_contains(msg, "exited with code 3 while loading"));
  assert_true(fx_contains(msg, "bridge says goodbye"));
  assert_true(fx_contains(msg, "line 1999"));
  assert_null(strstr(msg, "line 1000"));
}

static void
open_reports_signal_of_bridge(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  pb_plugin_t* p = NULL;
  const char* plugin = fake_plugin(f);
  f->opts.bridge_path =
    fx_make_bridge(f, (const unsigned char*)"", 0, "kill -ABRT $$");
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_CRASHED);
  assert_true(fx_contains(pb_host_last_error(f->host), "died of SIGABRT"));
}

/* Same, reaping with the waitpid timer as on kernels without pidfd. */
static void
open_reports_signal_without_pidfd(void** state)
{
  assert_int_equal(setenv("PLUGBOX_NO_PIDFD", "1", 1), 0);
  open_reports_signal_of_bridge(state);
  assert_int_equal(unsetenv("PLUGBOX_NO_PIDFD"), 0);
}

/* ------------------------------------------- fake bridge conversations */

/* A fake bridge that answers each request in turn: the frames are built
 * with the protocol's own writer, and the script reads each request
 * (its size is known) before it answers, so the ids line up. */
typedef struct
{
  char text[32768];
  size_t n;
  pb_wr_t w;
} script_t;

static void
sc_append(script_t* s, const char* text)
{
  const size_t len = strlen(text);
  assert_true(s->n + len < sizeof(s->text));
  memcpy(s->text + s->n, text, len + 1);
  s->n += len;
}

/* Send the finished frame in s->w `times` times. */
static void
sc_send_frame(script_t* s, int times)
{
  char byte[8];
  (void)snprintf(byte, sizeof(byte), "%d", times);
  sc_append(s, "i=0; while [ $i -lt ");
  sc_append(s, byte);
  sc_append(s, " ]; do printf '");
  for (size_t i = 0; i < pb_wr_size(&s->w); ++i) {
    (void)snprintf(byte, sizeof(byte), "\\%03o", pb_wr_data(&s->w)[i]);
    sc_append(s, byte);
  }
  sc_append(s, "' >&3; i=$((i+1)); done\n");
}

/* Finish the frame in s->w and send it `times` times. */
static void
sc_send(script_t* s, int times)
{
  assert_int_equal(pb_wr_end(&s->w), 0);
  sc_send_frame(s, times);
}

/* Read the request the host sends next: a frame of `kind` and `id`
 * whose arguments the caller has already put into s->w. */
static void
sc_consume(script_t* s)
{
  char cmd[64];
  assert_int_equal(pb_wr_end(&s->w), 0);
  (void)snprintf(
    cmd, sizeof(cmd), "head -c %zu <&3 >/dev/null\n", pb_wr_size(&s->w));
  sc_append(s, cmd);
}

static void
sc_hello(script_t* s)
{
  pb_wr_begin(&s->w, PB_MSG_HELLO, 0);
  pb_wr_u(&s->w, PB_PROTO_VERSION);
  pb_wr_s(&s->w, "x86_64");
  pb_wr_u(&s->w, 4242);
  sc_send(s, 1);
}

/* Read the OPEN request (id 1) for `plugin` with the default options. */
static void
sc_read_open(script_t* s, const char* plugin)
{
  char abs[PATH_MAX];
  assert_non_null(realpath(plugin, abs));
  pb_wr_begin(&s->w, PB_MSG_OPEN, 1);
  pb_wr_s(&s->w, abs);
  pb_wr_f(&s->w, 48000.0);
  pb_wr_u(&s->w, 512);
  sc_consume(s);
}

static void
sc_read_empty(script_t* s, uint32_t kind, uint32_t id)
{
  pb_wr_begin(&s->w, kind, id);
  sc_consume(s);
}

static void
sc_reply_empty(script_t* s, uint32_t kind, uint32_t id)
{
  pb_wr_begin(&s->w, kind | PB_MSG_REPLY, id);
  sc_send(s, 1);
}

static void
sc_error(script_t* s, uint32_t id, int32_t status, const char* message)
{
  assert_int_equal(pb_wr_error(&s->w, id, status, message), 0);
  sc_send_frame(s, 1);
}

static void
wr_pin(pb_wr_t* w, const char* label, const char* short_label)
{
  pb_wr_row(w, 4);
  pb_wr_s(w, label);
  pb_wr_s(w, short_label);
  pb_wr_u(w, 1);
  pb_wr_i(w, 0);
}

static void
wr_param(pb_wr_t* w, int r)
{
  pb_wr_row(w, PB_PCOL_COUNT);
  pb_wr_s(w, r ? "Resonance" : "Cutoff Frequency");
  pb_wr_s(w, r ? "" : "Hz");
  pb_wr_s(w, r ? "0.50" : "440");
  pb_wr_f(w, r ? 0.5 : 0.25);
  pb_wr_b(w, 1);
  pb_wr_b(w, r == 0);
  pb_wr_u(w, 3);
  pb_wr_f(w, 0.1);
  pb_wr_f(w, 0.01);
  pb_wr_f(w, 0.5);
  for (int i = 0; i < 7; ++i)
    pb_wr_i(w, i == 1 ? 127 : r);
  pb_wr_s(w, "Cut");
  pb_wr_s(w, "Ct");
  pb_wr_s(w, "Filter");
}

/* The INFO reply (id 2) of a fake synth with two parameters, claiming
 * `n_params` of them. */
static void
sc_info(script_t* s, uint32_t n_params)
{
  pb_wr_t* w = &s->w;
  const int32_t ints1[] = { 7, 0x41420001, 3, 2400, PB_CATEGORY_SYNTH };
  const int32_t ints2[] = { 1, 2, 64, 16, 0, 100, 0 };
  pb_wr_begin(w, PB_MSG_INFO | PB_MSG_REPLY, 2);
  pb_wr_s(w, "Fake");
  pb_wr_s(w, "Fake Vendor");
  pb_wr_s(w, "Fake Product");
  for (size_t i = 0; i < 5; ++i)
    pb_wr_i(w, ints1[i]);
  pb_wr_u(w, PB_FLAG_SYNTH | PB_FLAG_REPLACING);
  for (size_t i = 0; i < 7; ++i)
    pb_wr_i(w, ints2[i]);
  pb_wr_u(w, n_params);
  pb_wr_u(w, 1);
  pb_wr_array(w, 1);
  wr_pin(w, "Input", "In");
  pb_wr_array(w, 2);
  wr_pin(w, "Output Left", "OutL");
  wr_pin(w, "Output Right", "OutR");
  pb_wr_array(w, 2);
  wr_param(w, 0);
  wr_param(w, 1);
  pb_wr_array(w, 1);
  pb_wr_row(w, 1);
  pb_wr_s(w, "Init");
  pb_wr_array(w, 1);
  pb_wr_row(w, 2);
  pb_wr_s(w, "receiveVstEvents");
  pb_wr_i(w, 1);
  sc_send(s, 1);
}

static script_t*
sc_new(void)
{
  script_t* s = (script_t*)calloc(1, sizeof(*s));
  assert_non_null(s);
  pb_wr_init(&s->w);
  sc_append(s, "#!/bin/sh\n");
  return s;
}

static const char*
sc_install(fixture_t* f, script_t* s)
{
  const char* path = fx_make_file(f, "bridge.sh", s->text, s->n, 0755);
  pb_wr_fini(&s->w);
  free(s);
  return path;
}

static void
fake_conversation_builds_the_description(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* plugin = fake_plugin(f);
  char marker[128];
  (void)snprintf(marker, sizeof(marker), "%s/closed", f->dir);
  script_t* s = sc_new();
  sc_hello(s);
  sc_read_open(s, plugin);
  /* Events (more than the host keeps) and a stale reply come first. */
  pb_wr_begin(&s->w, PB_MSG_EV_AUTOMATE, 0);
  pb_wr_u(&s->w, 1);
  pb_wr_f(&s->w, 0.75);
  sc_send(s, 300);
  sc_reply_empty(s, PB_MSG_PING, 9);
  sc_reply_empty(s, PB_MSG_OPEN, 1);
  sc_read_empty(s, PB_MSG_INFO, 2);
  sc_info(s, 2);
  sc_read_empty(s, PB_MSG_CLOSE, 3);
  sc_reply_empty(s, PB_MSG_CLOSE, 3);
  sc_append(s, "echo closed > ");
  sc_append(s, marker);
  sc_append(s, "\nexit 0\n");
  f->opts.bridge_path = sc_install(f, s);

  pb_plugin_t* p = NULL;
  assert_int_equal(fx_open(f, plugin, &p), PB_OK);
  const pb_info_t* info = pb_plugin_info(p);
  assert_string_equal(info->name, "Fake");
  assert_string_equal(info->vendor, "Fake Vendor");
  assert_string_equal(info->product, "Fake Product");
  assert_string_equal(info->arch, "x86_64");
  assert_int_equal(info->unique_id, 0x41420001);
  assert_string_equal(info->unique_id_text, "AB..");
  assert_int_equal(info->category, PB_CATEGORY_SYNTH);
  assert_int_equal(info->flags, PB_FLAG_SYNTH | PB_FLAG_REPLACING);
  assert_int_equal(info->n_inputs, 1);
  assert_int_equal(info->n_outputs, 2);
  assert_string_equal(info->outputs[1].label, "Output Right");
  assert_string_equal(info->outputs[1].short_label, "OutR");
  assert_int_equal(info->initial_delay, 64);
  assert_int_equal(info->n_midi_in_channels, 16);
  assert_int_equal(info->tail_size, 100);
  assert_int_equal(info->n_params, 2);
  assert_string_equal(info->params[0].name, "Cutoff Frequency");
  assert_string_equal(info->params[0].label, "Hz");
  assert_string_equal(info->params[0].display, "440");
  assert_true(info->params[0].value == 0.25f);
  assert_int_equal(info->params[0].has_properties, 1);
  assert_int_equal(info->params[1].has_properties, 0);
  assert_int_equal(info->params[0].max_int, 127);
  assert_string_equal(info->params[0].category_label, "Filter");
  assert_int_equal(info->n_programs, 1);
  assert_string_equal(info->program_names[0], "Init");
  assert_int_equal(info->n_can_do, 1);
  assert_string_equal(info->can_do[0].name, "receiveVstEvents");
  assert_int_equal(info->can_do[0].answer, 1);
  /* Indexes are checked against these counts without asking the bridge. */
  float v = 0.0f;
  assert_int_equal(pb_plugin_param_get(p, 2, &v, NULL, 0), PB_ERR_RANGE);
  pb_plugin_close(p);
  assert_true(fx_readable(marker)); /* it got the CLOSE and left */
}

static void
fake_info_with_wrong_counts_is_a_protocol_error(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* plugin = fake_plugin(f);
  script_t* s = sc_new();
  sc_hello(s);
  sc_read_open(s, plugin);
  sc_reply_empty(s, PB_MSG_OPEN, 1);
  sc_read_empty(s, PB_MSG_INFO, 2);
  sc_info(s, 5);
  sc_append(s, "exec sleep 30\n");
  f->opts.bridge_path = sc_install(f, s);
  pb_plugin_t* p = NULL;
  const double t0 = fx_now_ms();
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_PROTOCOL);
  assert_true(fx_now_ms() - t0 < 1500.0); /* killed, not asked to close */
  assert_true(fx_contains(pb_host_last_error(f->host),
                          "2 parameter rows for a count of 5"));
}

static void
fake_error_reply_gives_its_status_and_message(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* plugin = fake_plugin(f);
  const char* why = "libfoo.so: cannot open shared object file";
  script_t* s = sc_new();
  sc_hello(s);
  sc_read_open(s, plugin);
  sc_error(s, 1, PB_ERR_LOAD, why);
  sc_read_empty(s, PB_MSG_CLOSE, 2);
  sc_reply_empty(s, PB_MSG_CLOSE, 2);
  f->opts.bridge_path = sc_install(f, s);
  pb_plugin_t* p = NULL;
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_LOAD);
  assert_string_equal(pb_host_last_error(f->host), why);
}

static void
fake_error_reply_with_bad_status_is_a_protocol_error(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* plugin = fake_plugin(f);
  script_t* s = sc_new();
  sc_hello(s);
  sc_read_open(s, plugin);
  sc_error(s, 1, 99, "no such status");
  sc_append(s, "exec sleep 30\n");
  f->opts.bridge_path = sc_install(f, s);
  pb_plugin_t* p = NULL;
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_PROTOCOL);
  assert_true(
    fx_contains(pb_host_last_error(f->host), "malformed error reply"));
}

static void
fake_reply_of_wrong_kind_is_a_protocol_error(void** state)
{
  fixture_t* f = (fixture_t*)*state;
  const char* plugin = fake_plugin(f);
  script_t* s = sc_new();
  sc_hello(s);
  sc_read_open(s, plugin);
  sc_reply_empty(s, PB_MSG_PING, 1);
  sc_append(s, "exec sleep 30\n");
  f->opts.bridge_path = sc_install(f, s);
  pb_plugin_t* p = NULL;
  assert_int_equal(fx_open(f, plugin, &p), PB_ERR_PROTOCOL);
  assert_true(fx_contains(pb_host_last_error(f->host),
                          "expected open reply, got ping reply"));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    T(host_new_starts_one_thread_and_free_joins_it),
    T(free_and_close_accept_null),
    T(every_status_has_a_sentence_and_a_unique_name),
    T(category_names_follow_the_vst_numbering),
    T(opts_init_sets_the_documented_defaults),
    T(open_rejects_missing_arguments),
    T(open_missing_file_is_not_found),
    T(open_text_file_is_not_elf),
    T(open_directory_is_not_elf),
    T(open_aarch64_elf_is_wrong_arch),
    T(open_i386_elf_without_bridge32_is_wrong_arch),
    T(open_windows_dll_is_wrong_arch),
    T(open_unreadable_file_is_access),
    T(open_with_missing_bridge_names_it),
    T(open_with_missing_env_bridge_names_it),
    T(open_with_non_executable_bridge_is_bridge_error),
    T(open_refuses_other_protocol_version),
    T(open_refuses_bridge_of_other_arch),
    T(open_kills_bridge_sending_garbage),
    T(open_kills_bridge_announcing_huge_frame),
    T(open_times_out_on_silent_bridge),
    T(open_reports_exit_code_and_last_output),
    T(open_reports_signal_of_bridge),
    T(open_reports_signal_without_pidfd),
    T(fake_conversation_builds_the_description),
    T(fake_info_with_wrong_counts_is_a_protocol_error),
    T(fake_error_reply_gives_its_status_and_message),
    T(fake_error_reply_with_bad_status_is_a_protocol_error),
    T(fake_reply_of_wrong_kind_is_a_protocol_error),
#undef T
  };
  return cmocka_run_group_tests_name("host", tests, fx_group_setup, NULL);
}
