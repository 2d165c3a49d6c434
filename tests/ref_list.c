/* The plugin files the real-plugin tests walk; see ref_list.h. */
#define _POSIX_C_SOURCE 200809L

#include "ref_list.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
add(pb_ref_list_t* list, const char* path)
{
  char** paths = realloc(list->paths, (list->n_paths + 1) * sizeof(char*));
  if (!paths)
    return -1;
  list->paths = paths;
  if (!(paths[list->n_paths] = strdup(path)))
    return -1;
  ++list->n_paths;
  return 0;
}

static int
ends_with(const char* text, const char* tail)
{
  const size_t n = strlen(text);
  const size_t m = strlen(tail);
  return n >= m && strcmp(text + n - m, tail) == 0;
}

/* Depth-limited so that a symlink loop cannot recurse forever. */
static int
walk(pb_ref_list_t* list, const char* dir, int depth)
{
  DIR* d = opendir(dir);
  if (!d)
    return 0;
  int err = 0;
  const struct dirent* entry;
  while (!err && (entry = readdir(d))) {
    if (entry->d_name[0] == '.')
      continue;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name) >=
        (int)sizeof(path))
      continue;
    struct stat st;
    if (stat(path, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode) && depth < 8)
      err = walk(list, path, depth + 1);
    else if (S_ISREG(st.st_mode) && ends_with(entry->d_name, ".so"))
      err = add(list, path);
  }
  closedir(d);
  return err;
}

static int
compare_paths(const void* a, const void* b)
{
  return strcmp(*(char* const*)a, *(char* const*)b);
}

int
pb_ref_list_init(pb_ref_list_t* list, const char* const* dirs)
{
  memset(list, 0, sizeof(*list));
  for (; *dirs; ++dirs) {
    struct stat st;
    if (stat(*dirs, &st) != 0 || !S_ISDIR(st.st_mode))
      continue;
    ++list->n_dirs_found;
    if (walk(list, *dirs, 0) != 0)
      return -1;
  }
  if (list->n_paths > 1)
    qsort(list->paths, list->n_paths, sizeof(char*), compare_paths);
  return 0;
}

void
pb_ref_list_fini(pb_ref_list_t* list)
{
  for (size_t i = 0; i < list->n_paths; ++i)
    free(list->paths[i]);
  free(list->paths);
  memset(list, 0, sizeof(*list));
}

int
pb_ref_list_name_starts(const char* path, const char* prefix)
{
  const char* slash = strrchr(path, '/');
  const char* name = slash ? slash + 1 : path;
  return strncmp(name, prefix, strlen(prefix)) == 0;
}
