pb_add_test(test_message SOURCES test_message.c LIBS pb_proto)
pb_add_test(test_frame SOURCES test_frame.c LIBS pb_proto)
