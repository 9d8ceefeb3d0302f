# The benchmarks are run by hand (docs/performance.md); scripts/dev.sh test compiles clawjail_bench
# and ctest runs the gateway benchmark only as a short smoke.
#   cmake --build build --target clawjail_bench && ./build/clawjail_bench
#   tests/bench/gateway/run.sh build/clawjail --rounds 6 --json gateway-bench.json
add_executable(clawjail_bench EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/bench.cc)
target_link_libraries(clawjail_bench PRIVATE clawjail_supervisor)
target_include_directories(clawjail_bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(clawjail_bench PRIVATE CLAWJAIL_BINARY="${CMAKE_CURRENT_BINARY_DIR}/clawjail"
                                                  CLAWJAIL_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(clawjail_bench clawjail)

# The gateway benchmark, one round of one call per tool in each of its three modes (a real OpenClaw
# gateway, a real supervisor, bwrap): it fails when a mode's tool calls fail or its JSON lacks a
# figure, so that the benchmark cannot break unseen. It reports speed and never asserts it.
# Alone: it starts a gateway and a supervisor, and its calls would slow the suites beside it.
add_test(NAME gateway_bench_smoke
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/gateway/run.sh $<TARGET_FILE:clawjail> --rounds 1 --calls 1
                 --json ${CMAKE_CURRENT_BINARY_DIR}/gateway-bench-smoke.json)
set_tests_properties(gateway_bench_smoke PROPERTIES LABELS bench TIMEOUT 600 RUN_SERIAL TRUE
                     ENVIRONMENT CLAWJAIL_E2E_TIMEOUT=540)
