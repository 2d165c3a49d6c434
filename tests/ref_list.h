/* The plugin files the real-plugin tests walk: every .so under some
 * folders, recursively, sorted. */
#ifndef PB_TESTS_REF_LIST_H
#define PB_TESTS_REF_LIST_H

#include <stddef.h>

typedef struct
{
  char** paths; /* owned */
  size_t n_paths;
  size_t n_dirs_found; /* how many of the folders exist */
} pb_ref_list_t;

/** Collect the .so files under each folder of the NULL-terminated `dirs`
 *  (missing folders are skipped).  Returns 0, or -1 when out of memory;
 *  `*list` is initialized either way. */
int pb_ref_list_init(pb_ref_list_t* list, const char* const* dirs);

/** Release what `list` owns. */
void pb_ref_list_fini(pb_ref_list_t* list);

/** 1 if the file name of `path` starts with `prefix`. */
int pb_ref_list_name_starts(const char* path, const char* prefix);

#endif /* PB_TESTS_REF_LIST_H */
