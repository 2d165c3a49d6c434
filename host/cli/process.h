/* plugbox process: render an audio file through a plugin. */
#ifndef PB_HOST_CLI_PROCESS_H
#define PB_HOST_CLI_PROCESS_H

extern const char pb_cli_process_help[];

/** Run `plugbox process`; argv[0] is "process".  Returns the exit code. */
int pb_cli_process_main(int argc, char** argv);

#endif /* PB_HOST_CLI_PROCESS_H */
