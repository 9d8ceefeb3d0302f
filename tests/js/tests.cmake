# Interoperability with an independent JOSE implementation: tokens minted by the npm package
# `jose` (Ed25519) must verify with `clawjail cst verify`, and its forgeries must be refused.
# npm installs jose into the build tree, never the source tree.
add_test(NAME js_jose_interop
         COMMAND ${CMAKE_SOURCE_DIR}/tests/js/jose_interop.sh $<TARGET_FILE:clawjail> ${CMAKE_BINARY_DIR}/js-cache)
set_tests_properties(js_jose_interop PROPERTIES LABELS js TIMEOUT 600)
# Tokens that renew: `cst issue --out` under concurrent reads by the plugin, real calls and
# `cst verify`, and an expired token's one clear error, against a real supervisor (needs root).
# Always registered: without Node it fails saying so (scripts/install-deps.sh installs nodejs).
find_program(CLAWJAIL_SYSTEM_NODE NAMES node nodejs)
add_test(NAME js_cst_renew
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/js/cst_renew_test.sh ${CMAKE_SOURCE_DIR} $<TARGET_FILE:clawjail>
                 ${CLAWJAIL_SYSTEM_NODE})
set_tests_properties(js_cst_renew PROPERTIES LABELS js TIMEOUT 600 SKIP_RETURN_CODE 77)
