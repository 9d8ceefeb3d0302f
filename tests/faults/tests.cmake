# Faults and hostile peers against a real supervisor (tests/faults/): kill -9 mid-load and
# restart, a full state directory, journald stopped, a client killed mid-call, bad frames,
# 1,000 idle connections and an unauthorized uid.
add_executable(reliability_faults ${CMAKE_CURRENT_LIST_DIR}/faults_test.cc ${CMAKE_CURRENT_LIST_DIR}/socket_test.cc
               ${CMAKE_SOURCE_DIR}/tests/supervisor/fixture.cc)
target_link_libraries(reliability_faults PRIVATE clawjail_supervisor GTest::gtest GTest::gtest_main)
target_include_directories(reliability_faults PRIVATE ${CMAKE_SOURCE_DIR})
target_compile_definitions(reliability_faults PRIVATE CLAWJAIL_BINARY="$<TARGET_FILE:clawjail>"
                           CLAWJAIL_JS_VERIFIER="${CMAKE_SOURCE_DIR}/tests/receipts/verify_bundle.mjs")
add_dependencies(reliability_faults clawjail)
gtest_discover_tests(reliability_faults DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60 TEST_PREFIX faults.
                     PROPERTIES LABELS faults TIMEOUT 300)
