/* libpb_test_gone: a library pb_test_missingdep needs and the loader
 * cannot find (it is built where no search path leads). */
__attribute__((visibility("default"))) int pb_test_gone_value(void);

int
pb_test_gone_value(void)
{
  return 7;
}
