# plugbox-bridge-32: the bridge sources built again with -m32 against
# Debian's i386 libraries, as a sub-build of this same source tree
# (ExternalProject, toolchain-i386.cmake, PLUGBOX_BRIDGE_ONLY), so that
# pkg-config, the compiler checks and the flags are all i386 there.  It
# also builds the test plugins with -m32 (i386/test-plugins) and two
# helpers for the tests: pb_ref32 (the in-process reference loader) and
# pb_shm_layout_dump-32.  Everything lands in bin/ beside plugbox-bridge.
#
# Needs gcc-multilib, libuv1-dev:i386, libseccomp-dev:i386,
# libmsgpackc2:i386 and the unpacked libmsgpack-dev:i386 of
# scripts/fetch-i386.sh (all set up by scripts/install-deps.sh).
set(PLUGBOX_I386_DEPS "${PROJECT_SOURCE_DIR}/build-deps/i386" CACHE PATH
  "Folder scripts/fetch-i386.sh unpacked the i386 packages into")
set(PB_BRIDGE32 OFF)
set(PB_TEST_PLUGIN_DIR_32 ${CMAKE_BINARY_DIR}/i386/test-plugins)

if(PLUGBOX_BRIDGE32)
  set(pb_i386_missing "")
  file(GLOB pb_gcc32 /usr/lib/gcc/x86_64-linux-gnu/*/32/crtbegin.o)
  if(NOT pb_gcc32)
    list(APPEND pb_i386_missing "gcc-multilib")
  endif()
  foreach(f /usr/lib/i386-linux-gnu/pkgconfig/libuv.pc
            /usr/lib/i386-linux-gnu/pkgconfig/libseccomp.pc
            /usr/lib/i386-linux-gnu/libmsgpackc.so.2
            ${PLUGBOX_I386_DEPS}/pkgconfig/msgpack.pc)
    if(NOT EXISTS ${f})
      list(APPEND pb_i386_missing ${f})
    endif()
  endforeach()
  if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
    set(pb_i386_missing "an x86_64 host")
  endif()
  if(pb_i386_missing)
    string(REPLACE ";" ", " pb_i386_missing "${pb_i386_missing}")
    message(STATUS "plugbox-bridge-32: not built, the i386 libraries are "
      "absent (missing: ${pb_i386_missing}); run scripts/install-deps.sh. "
      "The 32-bit tests will skip.")
  else()
    set(PB_BRIDGE32 ON)
  endif()
else()
  message(STATUS "plugbox-bridge-32: not built (PLUGBOX_BRIDGE32=OFF)")
endif()

if(PB_BRIDGE32)
  message(STATUS "plugbox-bridge-32: building (i386 libraries found)")
  include(ExternalProject)
  ExternalProject_Add(plugbox_i386
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${CMAKE_BINARY_DIR}/i386
    CMAKE_ARGS
      -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/toolchain-i386.cmake
      -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}
      -DPLUGBOX_BRIDGE_ONLY=ON
      -DPLUGBOX_I386_DEPS=${PLUGBOX_I386_DEPS}
      -DPLUGBOX_OUTPUT_DIR=${CMAKE_BINARY_DIR}/bin
      -DPLUGBOX_WERROR=${PLUGBOX_WERROR}
      -DPLUGBOX_SANITIZE=${PLUGBOX_SANITIZE}
      -DPLUGBOX_TESTS=${PLUGBOX_TESTS}
    INSTALL_COMMAND ""
    BUILD_ALWAYS ON
    BUILD_BYPRODUCTS ${CMAKE_BINARY_DIR}/bin/plugbox-bridge-32
    USES_TERMINAL_BUILD ON)
  # The library finds plugbox-bridge-32 the way it finds plugbox-bridge.
  add_dependencies(plugbox plugbox_i386)
  install(PROGRAMS ${CMAKE_BINARY_DIR}/bin/plugbox-bridge-32
    DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/plugbox)
endif()
