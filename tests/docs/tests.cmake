# The reference in docs/ against the code: the documents, sections and checks source comments
# cite exist, no comment cites material outside the repository, and docs/cli.md lists every flag
# of the built binary. Always registered: without Node it fails saying so. It runs the binary's
# --help some 60 times: under ASan on a busy machine that took a minute.
find_program(CLAWJAIL_SYSTEM_NODE NAMES node nodejs)
add_test(NAME docs_references
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/docs_test.sh ${CMAKE_SOURCE_DIR} $<TARGET_FILE:clawjail>
                 ${CLAWJAIL_SYSTEM_NODE})
set_tests_properties(docs_references PROPERTIES LABELS docs TIMEOUT 300)
