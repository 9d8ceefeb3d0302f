# The benchmark is run by hand (README "Speed"); scripts/dev.sh test compiles it, ctest never runs it:
#   cmake --build build --target clawjail_bench && ./build/clawjail_bench
add_executable(clawjail_bench EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/bench.cc)
target_link_libraries(clawjail_bench PRIVATE clawjail_supervisor)
target_include_directories(clawjail_bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(clawjail_bench PRIVATE CLAWJAIL_BINARY="${CMAKE_CURRENT_BINARY_DIR}/clawjail"
                                                  CLAWJAIL_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(clawjail_bench clawjail)
