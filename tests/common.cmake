pb_add_test(test_elf SOURCES test_elf.c LIBS pb_common)
