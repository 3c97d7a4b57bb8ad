# How test code is compiled. Test sources were about 60 % of a cold build's compile time,
# almost all of it spent optimising them at -O3 (GoogleTest's assertion macros expand to
# a lot of code). Tests gain nothing from that: what they test — the platform and the
# services' libraries — is compiled as always; only the test files themselves, and the
# shared test helpers, are compiled with SALES_TEST_OPT (the last -O on the line wins).
# -Og still optimises (tests run at a normal speed, -Wmaybe-uninitialized still works)
# and compiles a test file in about half the time of -O3. Debug builds keep their -O0.
set(SALES_TEST_OPT "-Og" CACHE STRING "Optimisation of test code in optimised builds (empty: as the build type)")

# sales_test_target(<target>): a test executable or test helper library.
function(sales_test_target target)
  if(SALES_TEST_OPT)
    target_compile_options(${target} PRIVATE $<$<NOT:$<CONFIG:Debug>>:${SALES_TEST_OPT}>)
  endif()
endfunction()
