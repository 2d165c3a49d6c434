/* Audio files for plugbox process, through libsndfile: the input read in
 * blocks, the output format chosen from the command line, and an output
 * written under a temporary name and renamed only once it is complete. */
#ifndef PB_HOST_CLI_PROCESS_IO_H
#define PB_HOST_CLI_PROCESS_IO_H

#include <sndfile.h>
#include <stdint.h>

/** Sample rates a file may have (a wider one is a damaged header). */
#define PB_CLI_RATE_MIN 8000
#define PB_CLI_RATE_MAX 384000

/** An input file open for reading. */
typedef struct
{
  SNDFILE* file;
  SF_INFO info; /**< frames, samplerate, channels, format */
} pb_cli_audio_in_t;

/** Open `path` for reading.  Returns 0, or an exit code after reporting
 *  the problem (libsndfile's message, or a rate out of range). */
int pb_cli_audio_in_open(pb_cli_audio_in_t* in, const char* path);

/** Read up to `n_frames` interleaved frames into `buf`; fewer only at the
 *  end of the file.  Returns the number read, or -1 after a read error. */
int64_t pb_cli_audio_in_read(pb_cli_audio_in_t* in,
                             double* buf,
                             uint32_t n_frames);

/** Close the input.  Accepts a closed one. */
void pb_cli_audio_in_close(pb_cli_audio_in_t* in);

/** The libsndfile format of the output: the container from `format`
 *  ("wav", "flac", "aiff", "ogg") or, when NULL, from the extension of
 *  `path`; the subtype from `subtype` ("pcm16", "pcm24", "float") or, when
 *  NULL, derived from `in_format`.  Returns 0, or -1 after reporting a
 *  usage error. */
int pb_cli_audio_out_format(const char* path,
                            const char* format,
                            const char* subtype,
                            int in_format,
                            int* out_format);

/** Check that `format` names a container and `subtype` a subtype this
 *  command writes (either may be NULL).  Returns 0, or -1 after
 *  reporting a usage error. */
int pb_cli_audio_names_check(const char* format, const char* subtype);

/** An output being written to "PATH.partial-XXXXXX" beside PATH. */
typedef struct
{
  SNDFILE* file;
  const char* path; /**< the final name; borrowed */
  char* temp_path;  /**< owned */
  int channels;
} pb_cli_audio_out_t;

/** Create the temporary file and open it for `format`.  Returns 0, or an
 *  exit code after reporting the problem. */
int pb_cli_audio_out_open(pb_cli_audio_out_t* out,
                          const char* path,
                          int format,
                          int channels,
                          int sample_rate);

/** Write `n_frames` interleaved frames.  Returns 0, or -1 after reporting
 *  the error. */
int pb_cli_audio_out_write(pb_cli_audio_out_t* out,
                           const double* buf,
                           uint32_t n_frames);

/** Close the file and rename it to its final name.  Returns 0, or an exit
 *  code after reporting the problem (the temporary file is then gone). */
int pb_cli_audio_out_commit(pb_cli_audio_out_t* out);

/** Close and remove the temporary file.  Accepts a closed output. */
void pb_cli_audio_out_abort(pb_cli_audio_out_t* out);

#endif /* PB_HOST_CLI_PROCESS_IO_H */
