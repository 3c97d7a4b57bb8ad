# How test code is compiled. Test sources were about 60 % of a cold build's compile time,
# almost all of it spent optimising them at -O3, the release level then (GoogleTest's
# assertion macros expand to a lot of code). Tests gain nothing from that: what they test —
# the platform and the services' libraries — is compiled as always; only the test files
# themselves, and the shared test helpers, are compiled with SALES_TEST_OPT (the last -O on
# the line wins). -Og still optimises (tests run at a normal speed, -Wmaybe-uninitialized
# still works) and compiled a test file in about half the time of -O3. Debug builds keep
# their -O0.
set(SALES_TEST_OPT "-Og" CACHE STRING "Optimisation of test code in optimised builds (empty: as the build type)")

# Every test file parses GoogleTest, most of them Boost.JSON too: about a second each. One
# precompiled header (built with sales_test_support, reused by every test executable: they
# all have the same flags) parses them once. Only stable third-party headers go in, so it
# is rebuilt only when those or the flags change. SALES_PCH=OFF checks the includes.
option(SALES_PCH "Precompile GoogleTest and Boost.JSON for the test code" ON)
set(SALES_TEST_PCH <gtest/gtest.h> <boost/json.hpp> <atomic> <chrono> <cstdint> <functional> <map> <memory>
  <mutex> <optional> <set> <string> <string_view> <thread> <vector>)

# Test files are compiled in unity batches (SALES_TEST_UNITY_BATCH files per translation unit):
# a test file's own code is small beside the GoogleTest, Boost.JSON and platform templates it
# instantiates, which a batch instantiates and optimises once. This took test code from ~300 s
# to ~100 s of a cold build's CPU. The files of a batch share one translation unit, so: keep a
# test file's helpers inside its own namespace (`namespace <suite> { namespace {`) and their
# names unique within its executable (a same-typed clash is a compile error, a same-named
# function with other parameters would silently overload); a `using` directive at file scope
# reaches the files after it; and a missing include can hide behind an earlier file's.
# SALES_TEST_UNITY_BATCH=0 builds file by file, which checks the last two. Editing one test
# file recompiles its batch; adding one moves the files after it into other batches.
set(SALES_TEST_UNITY_BATCH 8 CACHE STRING "Test files per unity translation unit (0: no unity build)")

# sales_test_target(<target>): a test executable or test helper library.
function(sales_test_target target)
  if(SALES_TEST_UNITY_BATCH GREATER 0)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${SALES_TEST_UNITY_BATCH})
  endif()
  if(SALES_TEST_OPT)
    target_compile_options(${target} PRIVATE $<$<NOT:$<CONFIG:Debug>>:${SALES_TEST_OPT}>)
  endif()
  if(SALES_PCH)
    if(target STREQUAL "sales_test_support")
      target_precompile_headers(${target} PRIVATE ${SALES_TEST_PCH})
    else()
      target_precompile_headers(${target} REUSE_FROM sales_test_support)
    endif()
    # ccache caches a file compiled with a precompiled header only with this sloppiness
    # (its manual, "Precompiled headers"); CMake passes the header with -include, the other
    # condition. Set here, not for the whole build, since only test code uses one.
    if(CMAKE_CXX_COMPILER_LAUNCHER MATCHES "ccache")
      set_property(TARGET ${target} PROPERTY CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros ${CMAKE_CXX_COMPILER_LAUNCHER})
    endif()
  endif()
endfunction()
