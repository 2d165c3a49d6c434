/* plugbox doctor: which sandbox layers this machine supports. */
#ifndef PB_HOST_CLI_DOCTOR_H
#define PB_HOST_CLI_DOCTOR_H

extern const char pb_cli_doctor_help[];

/** Run `plugbox doctor`; argv[0] is "doctor".  Returns the exit code. */
int pb_cli_doctor_main(int argc, char** argv);

#endif /* PB_HOST_CLI_DOCTOR_H */
