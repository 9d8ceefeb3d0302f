# Load: many concurrent calls against a real supervisor (tests/load/load_test.cc). The count is
# CLAWJAIL_LOAD_CALLS (2,000 in the test suite, 20,000 for the recorded run in docs/reliability.md).
set(CLAWJAIL_LOAD_CALLS 2000 CACHE STRING "calls of the load test in ctest")
add_executable(reliability_load ${CMAKE_CURRENT_LIST_DIR}/load_test.cc ${CMAKE_SOURCE_DIR}/tests/supervisor/fixture.cc)
target_link_libraries(reliability_load PRIVATE clawjail_supervisor GTest::gtest GTest::gtest_main)
target_include_directories(reliability_load PRIVATE ${CMAKE_SOURCE_DIR})
target_compile_definitions(reliability_load PRIVATE CLAWJAIL_BINARY="$<TARGET_FILE:clawjail>")
add_dependencies(reliability_load clawjail)
set(load_env "CLAWJAIL_LOAD_CALLS=${CLAWJAIL_LOAD_CALLS}")
if(CLAWJAIL_SANITIZE)
  # The sanitized supervisor is several times slower, and its RSS is ASan's quarantine: fewer
  # calls, and every check but memory (descriptors, threads, children, receipts, bundles).
  set(load_env "CLAWJAIL_LOAD_CALLS=500;CLAWJAIL_LOAD_SKIP_RSS=1")
endif()
add_test(NAME load.concurrent_calls COMMAND reliability_load)
set_tests_properties(load.concurrent_calls PROPERTIES LABELS load TIMEOUT 600
                     ENVIRONMENT "${load_env}")
