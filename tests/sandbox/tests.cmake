# The sandbox suite's hostile helper: a static C program run inside real jails. Built without
# sanitizers (ASan reserves terabytes of address space, which the jail's rlimits refuse) and
# static (the jail's root has only what the jail needs).
add_executable(sandbox_hostile_helper ${CMAKE_CURRENT_SOURCE_DIR}/tests/sandbox/helper/hostile_helper.c)
target_compile_options(sandbox_hostile_helper PRIVATE -fno-sanitize=all -O1)
target_link_options(sandbox_hostile_helper PRIVATE -static -fno-sanitize=all)
if(TARGET sandbox_tests)
  add_dependencies(sandbox_tests sandbox_hostile_helper)
  target_compile_definitions(sandbox_tests PRIVATE
      CLAWJAIL_HOSTILE_HELPER="$<TARGET_FILE:sandbox_hostile_helper>")
endif()
# Modes.ExplainPrintsTheJailWhoseHashIsTheJailHash runs the clawjail binary of the same build
# (the full build makes it; it is not a build dependency so that the library suite builds alone).
# The file tools, binds and hostile path tests again with openat2 refused (ENOSYS), as under
# clawjail.service's RestrictSUIDSGID=yes: the component walk must keep the same confinement.
if(TARGET sandbox_tests)
  add_test(NAME sandbox.without_openat2
           COMMAND sandbox_tests --gtest_filter=WithoutOpenat2.*:FsOps.*:Hostile.*Symlink*:Hostile.Bind*:Jail.*)
  set_tests_properties(sandbox.without_openat2 PROPERTIES
                       ENVIRONMENT CLAWJAIL_TEST_OPENAT2_ENOSYS=1 LABELS sandbox TIMEOUT 900)
endif()
