# Interoperability with an independent JOSE implementation: tokens minted by the npm package
# `jose` (Ed25519) must verify with `clawjail cst verify`, and its forgeries must be refused.
# npm installs jose into the build tree, never the source tree.
add_test(NAME js_jose_interop
         COMMAND ${CMAKE_SOURCE_DIR}/tests/js/jose_interop.sh $<TARGET_FILE:clawjail> ${CMAKE_BINARY_DIR}/js-cache)
set_tests_properties(js_jose_interop PROPERTIES LABELS js TIMEOUT 600)
