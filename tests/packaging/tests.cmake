# Packaging tests: the systemd units as systemd sees them, and the .deb built by CPack, installed
# into a scratch root. Both run the real tools (systemd-analyze, cpack, dpkg).
add_test(NAME packaging.units
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/packaging/units_test.sh
                 ${CMAKE_CURRENT_SOURCE_DIR} $<TARGET_FILE:clawjail>)
add_test(NAME packaging.deb
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/packaging/deb_test.sh
                 ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME packaging.lintian
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/packaging/lintian_test.sh
                 ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(packaging.units packaging.deb packaging.lintian PROPERTIES LABELS packaging TIMEOUT 600)
# The supervisor under exactly the unit's CapabilityBoundingSet (setpriv), on this machine.
add_test(NAME packaging.unit_caps
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/packaging/unit_caps_test.sh
                 ${CMAKE_CURRENT_SOURCE_DIR} $<TARGET_FILE:clawjail>)
set_tests_properties(packaging.unit_caps PROPERTIES LABELS packaging TIMEOUT 300 SKIP_RETURN_CODE 77)
# The CST renewal service under exactly its unit's CapabilityBoundingSet, and one capability fewer.
add_test(NAME packaging.cst_unit_caps
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/packaging/cst_unit_caps_test.sh
                 ${CMAKE_CURRENT_SOURCE_DIR} $<TARGET_FILE:clawjail>)
set_tests_properties(packaging.cst_unit_caps PROPERTIES LABELS packaging TIMEOUT 120 SKIP_RETURN_CODE 77)
