# libFuzzer targets for every parser that takes outside bytes. Built only in a clang build with
# -DCLAWJAIL_FUZZ=ON (scripts/dev.sh test does that in build-fuzz). A setup test writes seed
# corpora in the real formats (make_seeds.cc); each target then runs for a bounded time, and any
# crash, leak or sanitizer report fails the test.
if(CLAWJAIL_FUZZ)
  set(CLAWJAIL_FUZZ_SECONDS 40 CACHE STRING "seconds each fuzz target runs in the test suite")
  set(seeds ${CMAKE_CURRENT_BINARY_DIR}/fuzz-seeds)
  add_executable(make_seeds tests/fuzz/make_seeds.cc)
  target_include_directories(make_seeds PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(make_seeds PRIVATE clawjail_proto clawjail_receipts clawjail_policy)
  add_test(NAME fuzz.seeds COMMAND make_seeds ${seeds})
  set_tests_properties(fuzz.seeds PROPERTIES LABELS fuzz FIXTURES_SETUP fuzz_seeds)
  add_custom_target(fuzzers DEPENDS make_seeds)
  foreach(target wpc_fuzz cst_fuzz bundle_fuzz protocol_fuzz bytes_fuzz egress_fuzz)
    # The egress policy is the one part of sandbox/ with outside bytes; the rest of the library
    # (seccomp, namespaces) is not built with the fuzzing compiler.
    set(extra)
    if(target STREQUAL egress_fuzz)
      set(extra sandbox/egress_policy.cc)
    endif()
    add_executable(${target} tests/fuzz/${target}.cc ${extra})
    target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(${target} PRIVATE clawjail_proto clawjail_receipts clawjail_policy)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    add_dependencies(fuzzers ${target})
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus/${target})
    file(MAKE_DIRECTORY ${work})
    add_test(NAME fuzz.${target}
             COMMAND ${target} -max_total_time=${CLAWJAIL_FUZZ_SECONDS} -rss_limit_mb=2048
                     -timeout=10 -print_final_stats=1 ${work} ${seeds}/${target})
    set_tests_properties(fuzz.${target} PROPERTIES LABELS fuzz TIMEOUT 600
                         FIXTURES_REQUIRED fuzz_seeds ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1")
  endforeach()
endif()
