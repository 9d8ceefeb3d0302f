# `clawjail bundle report` opened by headless Chromium (Debian's chromium) from a real job of a
# real supervisor (needs root): verdict, calls, blocked reasons, inert hostile markup, a screenshot.
# Always registered: without chromium or jq (scripts/install-deps.sh installs both) it fails
# saying so, rather than leaving the suite quietly shorter.
find_program(CLAWJAIL_CHROMIUM NAMES chromium chromium-browser)
add_test(NAME report_bundle_report
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report/bundle_report_test.sh ${CMAKE_SOURCE_DIR}
                 $<TARGET_FILE:clawjail> ${CLAWJAIL_CHROMIUM})
set_tests_properties(report_bundle_report PROPERTIES LABELS report TIMEOUT 600 SKIP_RETURN_CODE 77)
