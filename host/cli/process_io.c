/* Audio files for plugbox process.  Samples travel as interleaved doubles
 * between libsndfile and the render loop: every format converts to and
 * from them without loss, whichever precision the plugin runs at. */
#define _POSIX_C_SOURCE 200809L

#include "process_io.h"

#include "args.h"
#include "main.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct
{
  const char* name;
  int format;
} name_t;

/* Containers, by --format value and by file extension. */
static const name_t containers[] = {
  { "wav", SF_FORMAT_WAV },   { "wave", SF_FORMAT_WAV },
  { "flac", SF_FORMAT_FLAC }, { "aiff", SF_FORMAT_AIFF },
  { "aif", SF_FORMAT_AIFF },  { "ogg", SF_FORMAT_OGG },
  { "oga", SF_FORMAT_OGG },   { NULL, 0 },
};

static const name_t subtypes[] = {
  { "pcm16", SF_FORMAT_PCM_16 },
  { "pcm24", SF_FORMAT_PCM_24 },
  { "float", SF_FORMAT_FLOAT },
  { NULL, 0 },
};

static int
lookup(const name_t* names, const char* name)
{
  for (const name_t* n = names; n->name; ++n)
    if (strcasecmp(n->name, name) == 0)
      return n->format;
  return 0;
}

int
pb_cli_audio_in_open(pb_cli_audio_in_t* in, const char* path)
{
  memset(&in->info, 0, sizeof in->info);
  in->file = sf_open(path, SFM_READ, &in->info);
  if (!in->file) {
    pb_cli_error(path, sf_strerror(NULL));
    return PB_CLI_EXIT_FAILURE;
  }
  const int rate = in->info.samplerate;
  if (rate < PB_CLI_RATE_MIN || rate > PB_CLI_RATE_MAX) {
    char message[128];
    (void)snprintf(message,
                   sizeof message,
                   "sample rate %d Hz is outside %d..%d Hz",
                   rate,
                   PB_CLI_RATE_MIN,
                   PB_CLI_RATE_MAX);
    pb_cli_error(path, message);
    pb_cli_audio_in_close(in);
    return PB_CLI_EXIT_FAILURE;
  }
  return 0;
}

int64_t
pb_cli_audio_in_read(pb_cli_audio_in_t* in, double* buf, uint32_t n_frames)
{
  sf_count_t n = sf_readf_double(in->file, buf, (sf_count_t)n_frames);
  if (n < (sf_count_t)n_frames && sf_error(in->file) != SF_ERR_NO_ERROR)
    return -1;
  return (int64_t)n;
}

void
pb_cli_audio_in_close(pb_cli_audio_in_t* in)
{
  if (in->file)
    (void)sf_close(in->file); /* read-only: nothing can be lost */
  in->file = NULL;
}

/* A usage error, worded like the option errors of the command. */
static int
usage(const char* subject, const char* message)
{
  pb_args_t args;
  pb_args_init(&args, "process", 0, NULL);
  pb_args_error(&args, "'%s': %s", subject, message);
  return -1;
}

int
pb_cli_audio_names_check(const char* format, const char* subtype)
{
  if (format && !lookup(containers, format))
    return usage(format, "unknown --format (wav, flac, aiff or ogg)");
  if (subtype && !lookup(subtypes, subtype))
    return usage(subtype, "unknown --subtype (pcm16, pcm24 or float)");
  return 0;
}

/* The container named by the extension of `path`, or 0. */
static int
container_of_path(const char* path)
{
  const char* slash = strrchr(path, '/');
  const char* dot = strrchr(slash ? slash : path, '.');
  return dot ? lookup(containers, dot + 1) : 0;
}

/* The input's subtype if the container holds it, else a lossless one. */
static int
default_subtype(int container, int in_format)
{
  const int in_sub = in_format & SF_FORMAT_SUBMASK;
  SF_INFO probe = { 0, 48000, 2, container | in_sub, 0, 0 };
  if (container == SF_FORMAT_OGG)
    return SF_FORMAT_VORBIS;
  if (in_sub != SF_FORMAT_VORBIS && in_sub != SF_FORMAT_OPUS &&
      sf_format_check(&probe))
    return in_sub;
  return container == SF_FORMAT_FLAC ? SF_FORMAT_PCM_24 : SF_FORMAT_FLOAT;
}

static int
explicit_subtype(int container, const char* subtype, int* out)
{
  const int sub = lookup(subtypes, subtype);
  if (container == SF_FORMAT_OGG)
    return usage(subtype, "--subtype does not apply to ogg (Vorbis)");
  if (container == SF_FORMAT_FLAC && sub == SF_FORMAT_FLOAT)
    return usage(subtype, "FLAC cannot hold float samples; use pcm16 or pcm24");
  *out = sub;
  return 0;
}

int
pb_cli_audio_out_format(const char* path,
                        const char* format,
                        const char* subtype,
                        int in_format,
                        int* out_format)
{
  if (pb_cli_audio_names_check(format, subtype) != 0)
    return -1;
  const int container =
    format ? lookup(containers, format) : container_of_path(path);
  if (!container)
    return usage(path,
                 "unknown extension (.wav, .flac, .aiff, .ogg); "
                 "use --format");
  int sub = 0;
  if (!subtype)
    sub = default_subtype(container, in_format);
  else if (explicit_subtype(container, subtype, &sub) != 0)
    return -1;
  *out_format = container | sub;
  return 0;
}

/* New files get 0666 less the umask, as fopen() would have made them. */
static int
create_temp(pb_cli_audio_out_t* out)
{
  static const char suffix[] = ".partial-XXXXXX";
  const size_t len = strlen(out->path);
  out->temp_path = malloc(len + sizeof suffix);
  if (!out->temp_path)
    return -ENOMEM;
  memcpy(out->temp_path, out->path, len);
  memcpy(out->temp_path + len, suffix, sizeof suffix);
  int fd = mkstemp(out->temp_path);
  if (fd < 0)
    return -errno;
  mode_t mask = umask(0);
  (void)umask(mask);
  int err = fchmod(fd, 0666 & ~mask) == 0 ? 0 : -errno;
  if (close(fd) != 0 && err == 0)
    err = -errno;
  return err;
}

static void
free_temp(pb_cli_audio_out_t* out)
{
  free(out->temp_path);
  out->temp_path = NULL;
}

int
pb_cli_audio_out_open(pb_cli_audio_out_t* out,
                      const char* path,
                      int format,
                      int channels,
                      int sample_rate)
{
  memset(out, 0, sizeof *out);
  out->path = path;
  out->channels = channels;
  int err = create_temp(out);
  if (err != 0) {
    if (out->temp_path && err != -ENOMEM)
      (void)unlink(out->temp_path);
    free_temp(out);
    pb_cli_error(path, strerror(-err));
    return PB_CLI_EXIT_FAILURE;
  }
  SF_INFO info = { 0, sample_rate, channels, format, 0, 0 };
  out->file = sf_open(out->temp_path, SFM_WRITE, &info);
  if (!out->file) {
    pb_cli_error(path, sf_strerror(NULL));
    pb_cli_audio_out_abort(out);
    return PB_CLI_EXIT_FAILURE;
  }
  /* Saturate PCM rather than wrap around on samples past full scale. */
  (void)sf_command(out->file, SFC_SET_CLIPPING, NULL, SF_TRUE);
  return 0;
}

int
pb_cli_audio_out_write(pb_cli_audio_out_t* out,
                       const double* buf,
                       uint32_t n_frames)
{
  if (n_frames == 0)
    return 0;
  sf_count_t n = sf_writef_double(out->file, buf, (sf_count_t)n_frames);
  if (n == (sf_count_t)n_frames)
    return 0;
  pb_cli_error(out->path, sf_strerror(out->file));
  return -1;
}

int
pb_cli_audio_out_commit(pb_cli_audio_out_t* out)
{
  int failed = sf_close(out->file) != 0;
  out->file = NULL;
  if (failed) {
    pb_cli_error(out->path, "could not finish writing the file");
    pb_cli_audio_out_abort(out);
    return PB_CLI_EXIT_FAILURE;
  }
  if (rename(out->temp_path, out->path) != 0) {
    pb_cli_error(out->path, strerror(errno));
    pb_cli_audio_out_abort(out);
    return PB_CLI_EXIT_FAILURE;
  }
  free_temp(out);
  return 0;
}

void
pb_cli_audio_out_abort(pb_cli_audio_out_t* out)
{
  if (out->file)
    (void)sf_close(out->file); /* the file is removed below */
  out->file = NULL;
  if (out->temp_path)
    (void)unlink(out->temp_path);
  free_temp(out);
}
