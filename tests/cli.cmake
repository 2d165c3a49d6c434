# The plugbox command line (host/cli/).
set(PB_CLI_DIR ${PROJECT_SOURCE_DIR}/host/cli)

# The JSON writer and the terminal-safe text, compiled alone.
pb_add_test(test_cli_json SOURCES test_cli_json.c ${PB_CLI_DIR}/json.c
  ${PB_CLI_DIR}/text.c)

# A plugin description from a pb_info_t filled by hand (no bridge).
pb_add_test(test_cli_describe SOURCES test_cli_describe.c
  ${PB_CLI_DIR}/describe.c ${PB_CLI_DIR}/json.c ${PB_CLI_DIR}/text.c
  LIBS plugbox)

# The built binary, run as a process; real plugins are skipped if absent.
pb_add_test(test_cli SOURCES test_cli.c LIBS plugbox TIMEOUT 120)
add_dependencies(test_cli plugbox-cli pb_test_plugins)
