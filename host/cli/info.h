/* plugbox info: load a plugin and print what it declares. */
#ifndef PB_HOST_CLI_INFO_H
#define PB_HOST_CLI_INFO_H

/** The help of `plugbox info`. */
extern const char pb_cli_info_help[];

/** Run `plugbox info`; `argv[0]` is "info".  Returns the exit code. */
int pb_cli_info_main(int argc, char** argv);

#endif /* PB_HOST_CLI_INFO_H */
