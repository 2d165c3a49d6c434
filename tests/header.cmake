# The public header alone, as C11 and as C++ (built and run, so a missing
# extern "C" shows up as a link error).
add_executable(test_header_c header_c.c)
target_link_libraries(test_header_c PRIVATE plugbox pb_warnings)
add_test(NAME test_header_c COMMAND test_header_c)

if(CMAKE_CXX_COMPILER_LOADED)
  add_executable(test_header_cxx header_cxx.cpp)
  set_target_properties(test_header_cxx PROPERTIES CXX_STANDARD 11
    CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  target_compile_options(test_header_cxx PRIVATE -Wall -Wextra -Wpedantic
    -Werror)
  target_link_libraries(test_header_cxx PRIVATE plugbox)
  add_test(NAME test_header_cxx COMMAND test_header_cxx)
else()
  message(STATUS "plugbox: no C++ compiler; the C++ header check is skipped")
endif()
