/* Status codes and category names as text, and the matching free() for
 * memory the library hands out. */
#include "plugbox.h"

#include <stdlib.h>

typedef struct
{
  const char* name;
  const char* sentence;
} status_text_t;

/* Indexed by pb_status_t; the numbers are stable, so is this table. */
static const status_text_t status_texts[PB_STATUS_COUNT] = {
  { "ok", "Success." },
  { "invalid", "An argument passed by the caller is invalid." },
  { "nomem", "Out of memory." },
  { "not_found", "The plugin file does not exist." },
  { "not_elf", "The file is not an ELF shared object." },
  { "arch", "No bridge can run this plugin's architecture." },
  { "load", "The plugin could not be loaded (missing library or symbol)." },
  { "not_plugin",
    "The file is not a VST2 plugin (no entry point, no "
    "effect or bad magic)." },
  { "bridge", "The bridge executable is missing or could not start." },
  { "timeout", "The bridge did not answer before its deadline." },
  { "crashed", "The bridge process has died." },
  { "protocol", "The bridge sent a malformed or unexpected message." },
  { "range", "An index is out of range." },
  { "unsupported", "The plugin does not support this." },
  { "too_big", "The data is over a size limit." },
  { "refused", "The plugin refused the request." },
  { "io", "A system call failed." },
  { "access", "Permission denied reading the plugin file." },
};

/* Indexed by pb_category_t, numbered as in the VST 2.4 format. */
static const char* const category_names[] = {
  "unknown",     "effect",      "synth",   "analysis",
  "mastering",   "spatializer", "room_fx", "surround_fx",
  "restoration", "offline",     "shell",   "generator",
};

static int
status_known(pb_status_t status)
{
  return (int)status >= 0 && (int)status < PB_STATUS_COUNT;
}

const char*
pb_strerror(pb_status_t status)
{
  return status_known(status) ? status_texts[status].sentence
                              : "Unknown status.";
}

const char*
pb_status_name(pb_status_t status)
{
  return status_known(status) ? status_texts[status].name : "unknown";
}

const char*
pb_category_name(int32_t category)
{
  const int32_t n =
    (int32_t)(sizeof(category_names) / sizeof(category_names[0]));
  return category >= 0 && category < n ? category_names[category] : "unknown";
}

void
pb_free(void* ptr)
{
  free(ptr);
}
