# Lean linking: every service must stay under 12 MB RSS when idle (issue 5). Most of a
# service's RSS is file-backed pages of the shared libraries it loads, and every loaded
# library costs pages for its relocations and constructors however little of it we call;
# the kernel also maps 64 KB around each touched page of a file. So the C++ dependencies
# (libstdc++, Boost.JSON, spdlog, fmt) and rabbitmq-c are built in statically: only the
# code we use comes along, packed into our binary, and no shared libstdc++ is loaded.
# libpq stays shared (Debian ships no static libpgcommon/libpgport).
# Startup touches nearly every 64 KB of our own text, so all of it is resident: code we link
# but never run still costs RSS. That is why the services use no iostreams and fmt no
# std::locale (below), and Boost.JSON is compiled here (platform/src/json/boost_json_lib.cpp):
# either would bring libstdc++'s locale facets, about 400 kB of code, into every binary.
# For the same reason Release builds are -O2, not -O3 (the top-level CMakeLists.txt).

# Sections per function and data object, so --gc-sections drops what nothing calls.
add_compile_options(-ffunction-sections -fdata-sections)

# sales_lean_executable(<target>): the service binaries, and the tools that ship in their
# image (sales-dlq: the runtime image has no libstdc++). Tests and the bench tools keep the
# shared libstdc++ (they may link other shared C++ libraries, e.g. Google Benchmark).
# --as-needed drops a shared library nothing in the binary refers to (the gateway: libpq).
# With the tests, each writes a link map (build/link-maps/, ~4 MB each), which the
# lean_link_<target> test reads: at most 128 KiB of its code may come from libstdc++ (about
# 70 kB now; iostreams and the locale facets would add about 320 kB), and no libm (~300 kB
# of RSS for one llround once): cmake/check_lean_link.py.
set(SALES_LINK_MAP_DIR ${CMAKE_BINARY_DIR}/link-maps)
function(sales_lean_executable target)
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc LINKER:--gc-sections LINKER:--as-needed
    LINKER:-O1)
  if(SALES_TESTS)
    file(MAKE_DIRECTORY ${SALES_LINK_MAP_DIR})
    target_link_options(${target} PRIVATE LINKER:-Map=${SALES_LINK_MAP_DIR}/${target}.map)
    add_test(NAME lean_link_${target}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/cmake/check_lean_link.py
                     ${SALES_LINK_MAP_DIR}/${target}.map 131072 $<TARGET_FILE:${target}>)
    set_tests_properties(lean_link_${target} PROPERTIES LABELS "build" TIMEOUT 60)
  endif()
endfunction()

set(Boost_USE_STATIC_LIBS ON)

# rabbitmq-c from its static archive; its TLS socket (OpenSSL) is only pulled in if used.
find_library(SALES_RABBITMQ_STATIC NAMES librabbitmq.a REQUIRED)
add_library(sales_rabbitmq STATIC IMPORTED)
set_target_properties(sales_rabbitmq PROPERTIES IMPORTED_LOCATION ${SALES_RABBITMQ_STATIC})
target_include_directories(sales_rabbitmq INTERFACE ${RABBITMQ_INCLUDE_DIRS})
target_link_libraries(sales_rabbitmq INTERFACE Threads::Threads)

# spdlog and fmt as compiled libraries whose implementation is built here
# (platform/src/log/spdlog_lib.cpp, fmt_lib.cpp) instead of Debian's shared objects, which
# would bring the shared libstdc++ back. Same headers, same "compiled library" mode.
add_library(sales_spdlog INTERFACE)
# FMT_STATIC_THOUSANDS_SEPARATOR: fmt never consults std::locale (we format nothing with "{:L}").
target_compile_definitions(sales_spdlog INTERFACE SPDLOG_COMPILED_LIB SPDLOG_FMT_EXTERNAL
  "FMT_STATIC_THOUSANDS_SEPARATOR=','")
foreach(dep spdlog::spdlog fmt::fmt)
  get_target_property(_inc ${dep} INTERFACE_INCLUDE_DIRECTORIES)
  if(_inc)
    target_include_directories(sales_spdlog SYSTEM INTERFACE ${_inc})
  endif()
endforeach()
