# The 32-bit sub-build (cmake/bridge32.cmake): the native compiler with -m32
# against Debian's i386 multiarch libraries.  pkg-config is pointed at the
# i386 .pc files by the top-level CMakeLists.txt (PLUGBOX_BRIDGE_ONLY).
set(CMAKE_C_FLAGS_INIT "-m32")
set(CMAKE_CXX_FLAGS_INIT "-m32")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-m32")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_LIBRARY_ARCHITECTURE i386-linux-gnu)
