# netring_add_test(NAME SOURCES... [LIBS libs...] [LABELS labels...])
# One GoogleTest executable registered with CTest (gtest_discover_tests: one CTest entry per case).
find_package(GTest REQUIRED)
include(GoogleTest)

function(netring_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE GTest::gtest_main ${T_LIBS})
  target_compile_definitions(${name} PRIVATE
    NETRING_BINARY_DIR="${PROJECT_BINARY_DIR}"
    NETRING_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 PROPERTIES LABELS "${T_LABELS}")
endfunction()
