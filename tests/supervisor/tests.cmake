# The workspace checks (one descriptor, symlink refusal, the swap race, set-id bits, sensitive
# paths) and the file tools again, with openat2 refused in the supervisor as clawjail.service's
# RestrictSUIDSGID=yes does: workspaces are then opened by the component walk of sandbox/beneath.cc.
if(TARGET supervisor_tests)
  add_test(NAME supervisor.without_openat2
           COMMAND supervisor_tests --gtest_filter=SupervisorTest.WithoutOpenat2*:Workspace.*:AllowedCall.FileTools*)
  set_tests_properties(supervisor.without_openat2 PROPERTIES
                       ENVIRONMENT CLAWJAIL_TEST_OPENAT2_ENOSYS=1 LABELS supervisor TIMEOUT 900)
endif()
