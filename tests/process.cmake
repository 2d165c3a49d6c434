# plugbox process: the built binary renders files through the test plugins
# (and MVerb, if installed).  The test writes and reads audio files with
# libsndfile.
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pb_add_test(test_cli_process SOURCES test_cli_process.c
  LIBS PkgConfig::SNDFILE m TIMEOUT 120)
add_dependencies(test_cli_process plugbox-cli pb_test_plugins)
