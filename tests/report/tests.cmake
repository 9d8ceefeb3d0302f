# `clawjail bundle report` opened by headless Chromium (Debian's chromium) from a real job of a
# real supervisor (needs root): verdict, calls, blocked reasons, inert hostile markup, a screenshot.
find_program(CLAWJAIL_CHROMIUM NAMES chromium chromium-browser)
find_program(CLAWJAIL_JQ NAMES jq)
if(CLAWJAIL_CHROMIUM AND CLAWJAIL_JQ)
  add_test(NAME report_bundle_report
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report/bundle_report_test.sh ${CMAKE_SOURCE_DIR}
                   $<TARGET_FILE:clawjail> ${CLAWJAIL_CHROMIUM})
  set_tests_properties(report_bundle_report PROPERTIES LABELS report TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()
