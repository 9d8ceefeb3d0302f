# The Claw Bureau form of proof bundles (docs/claw-bundles.md), checked by Claw's own verifier,
# clawverify-core, which the tests build (npm ci + tsc, cached outside the source tree) from the
# shared copy of Claw Bureau's material beside the source tree (CLAWJAIL_CLAWBUREAU_DIR). The tests
# skip (77) only when that material is absent.
set(_claw_default "")
foreach(_dir ${CMAKE_SOURCE_DIR}/../shared/clawbureau ${CMAKE_SOURCE_DIR}/../../shared/clawbureau)
  if(NOT _claw_default AND EXISTS ${_dir}/clawverify-core/package.json)
    get_filename_component(_claw_default ${_dir} ABSOLUTE)
  endif()
endforeach()
if(NOT _claw_default)
  set(_claw_default ${CMAKE_SOURCE_DIR}/../shared/clawbureau)
endif()
set(CLAWJAIL_CLAWBUREAU_DIR ${_claw_default} CACHE PATH "Claw Bureau's material (clawverify-core, conformance vectors)")
# Always registered: without a Node here clawverify_env.sh fetches the e2e suite's, or fails.
find_program(CLAWJAIL_CLAW_NODE NAMES node nodejs)
add_test(NAME claw_bundle_clawverify
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/claw/claw_bundle_test.sh ${CMAKE_SOURCE_DIR} $<TARGET_FILE:clawjail>
                 ${CLAWJAIL_CLAWBUREAU_DIR} ${CLAWJAIL_CLAW_NODE})
set_tests_properties(claw_bundle_clawverify PROPERTIES LABELS js TIMEOUT 600 SKIP_RETURN_CODE 77)
add_executable(claw_make_long_job ${CMAKE_CURRENT_LIST_DIR}/make_long_job.cc)
target_link_libraries(claw_make_long_job PRIVATE clawjail_receipts)
add_test(NAME claw_bundle_parts
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/claw/claw_parts_test.sh ${CMAKE_SOURCE_DIR} $<TARGET_FILE:clawjail>
                 $<TARGET_FILE:claw_make_long_job> ${CLAWJAIL_CLAWBUREAU_DIR} ${CLAWJAIL_CLAW_NODE})
set_tests_properties(claw_bundle_parts PROPERTIES LABELS js TIMEOUT 600 SKIP_RETURN_CODE 77)
add_test(NAME claw_conformance_vectors
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/claw/claw_conformance_test.sh $<TARGET_FILE:clawjail>
                 ${CLAWJAIL_CLAWBUREAU_DIR} ${CLAWJAIL_CLAW_NODE})
set_tests_properties(claw_conformance_vectors PROPERTIES LABELS cli TIMEOUT 120 SKIP_RETURN_CODE 77)
add_test(NAME claw_model_calls
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/claw/claw_model_calls_test.sh ${CMAKE_SOURCE_DIR} $<TARGET_FILE:clawjail>
                 ${CLAWJAIL_CLAWBUREAU_DIR} ${CLAWJAIL_CLAW_NODE})
set_tests_properties(claw_model_calls PROPERTIES LABELS js TIMEOUT 600 SKIP_RETURN_CODE 77)
