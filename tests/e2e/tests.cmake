# The OpenClaw plugin: its unit tests (any Node >= 18) and the end-to-end suite against a real
# OpenClaw gateway and a real supervisor (installs Node 26 and OpenClaw into a cache on first run).
# Always registered: without Node the unit test fails saying so, rather than leaving the suite
# quietly shorter (scripts/install-deps.sh installs nodejs).
find_program(CLAWJAIL_SYSTEM_NODE NAMES node nodejs)
add_test(NAME openclaw_plugin_unit
         COMMAND bash -c "[ -x \"$1\" ] || { echo 'no Node found: scripts/install-deps.sh installs nodejs' >&2; exit 1; }; exec \"$1\" --test \"$2\""
                 openclaw_plugin_unit ${CLAWJAIL_SYSTEM_NODE} ${CMAKE_CURRENT_LIST_DIR}/plugin.test.mjs)
set_tests_properties(openclaw_plugin_unit PROPERTIES LABELS js TIMEOUT 120)

add_test(NAME openclaw_e2e COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:clawjail>)
# Alone: it starts a gateway and a supervisor, and its timeouts assume a machine not shared with
# the jail and fuzz suites.
set_tests_properties(openclaw_e2e PROPERTIES LABELS e2e TIMEOUT 900 RUN_SERIAL TRUE)
