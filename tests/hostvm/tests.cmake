# The package on a pure cgroup v2 host: a Debian 12 VM under QEMU (software emulation), its image
# built once and cached under /var/cache/clawjail-tests. Needs root, qemu-system-x86 and mmdebstrap
# (scripts/install-deps.sh). About a minute with a cached image; building the image takes a few
# minutes on an idle machine (much longer on a loaded one, hence the timeout). CLAWJAIL_HOST_VM=0 skips it.
add_test(NAME hosts.vm_cgroup_v2
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/hostvm/vm_test.sh
                 ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(hosts.vm_cgroup_v2 PROPERTIES LABELS hosts TIMEOUT 1800 RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
