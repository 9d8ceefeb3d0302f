# The package as shipped on a real systemd (Debian 12 in systemd-nspawn): install, socket
# activation, reload, drain, journal, audit, jails under the shipped unit, the CST renewal timer,
# remove and purge.
# Needs root and the host's apt mirror once (the root filesystem is cached under
# /var/cache/clawjail-tests); not for sanitizer builds (it packages the build's binaries).
add_test(NAME hosts.nspawn
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/hosts/nspawn_test.sh
                 ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(hosts.nspawn PROPERTIES LABELS hosts TIMEOUT 900 SKIP_RETURN_CODE 77)

# Evidence off the host (docs/operations.md "Shipping receipts off the host"): three hosts with the
# package ship their journals with systemd-journal-upload to a collector running
# systemd-journal-remote; the fleet's blocked calls are queried there and their receipts verified.
# Same needs as hosts.nspawn (root, the cached root filesystem, here with systemd-journal-remote).
add_test(NAME hosts.fleet
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/hosts/fleet_test.sh
                 ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(hosts.fleet PROPERTIES LABELS hosts TIMEOUT 900 SKIP_RETURN_CODE 77)
