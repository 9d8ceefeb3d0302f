# The independent JavaScript verifier (Node's own crypto only) against bundles from the C++ library.
add_executable(receipts_make_bundles ${CMAKE_CURRENT_LIST_DIR}/tools/make_bundles.cc)
target_link_libraries(receipts_make_bundles PRIVATE clawjail_receipts)
add_test(NAME receipts_js_independent_verifier
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/js_verify.sh $<TARGET_FILE:receipts_make_bundles>
                 ${CMAKE_CURRENT_LIST_DIR}/verify_bundle.mjs)
set_tests_properties(receipts_js_independent_verifier PROPERTIES LABELS js TIMEOUT 120)

# The evidence commands of the real binary on a state directory written by the library.
add_test(NAME receipts_cli_evidence
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cli_evidence.sh $<TARGET_FILE:receipts_make_bundles>
                 $<TARGET_FILE:clawjail>)
set_tests_properties(receipts_cli_evidence PROPERTIES LABELS cli TIMEOUT 300)
