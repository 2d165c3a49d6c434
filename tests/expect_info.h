/* What the test plugins are known to report, as cmocka assertions on a
 * pb_info_t: the same checks run on the bridged description (test_plugins)
 * and on the reference loader's (test_ref_vst2). */
#ifndef PB_TESTS_EXPECT_INFO_H
#define PB_TESTS_EXPECT_INFO_H

#include "plugbox.h"

/** The architecture the descriptions must name: "x86_64" unless a test
 *  of the i386 builds (test_bridge32) sets "i386". */
extern const char* pb_expect_arch;

/** The answer to canDo `name` among those the description holds, or 2 if
 *  it holds none for `name`. */
int32_t pb_expect_can_do_answer(const pb_info_t* info, const char* name);

/** Assert everything pb_test_gain.so reports right after opening. */
void pb_expect_gain(const pb_info_t* info);

/** Assert everything pb_test_synth.so reports right after opening. */
void pb_expect_synth(const pb_info_t* info);

/** Assert everything pb_test_odd.so reports right after opening. */
void pb_expect_odd(const pb_info_t* info);

#endif /* PB_TESTS_EXPECT_INFO_H */
