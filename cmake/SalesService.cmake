# sales_embed_migrations(<target> <dir>): compiles every <dir>/NNNN_name.sql into the
# target as a table of {version, name, sql}, so a binary carries its own schema.
function(sales_embed_migrations target dir)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  list(SORT sql_files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_migrations.cpp)
  set(body "#include \"sales/pg/migrations.hpp\"\nnamespace sales::generated {\nconst std::vector<sales::pg::Migration>& migrations() {\n  static const std::vector<sales::pg::Migration> list = {\n")
  foreach(f ${sql_files})
    get_filename_component(name ${f} NAME_WE)
    string(REGEX MATCH "^[0-9]+" version ${name})
    file(READ ${f} sql)
    set(body "${body}    {${version}, \"${name}\", R\"__sql__(${sql})__sql__\"},\n")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
  endforeach()
  set(body "${body}  };\n  return list;\n}\n}\n")
  file(GENERATE OUTPUT ${out} CONTENT "${body}")
  target_sources(${target} PRIVATE ${out})
endfunction()

# sales_service(<name>): the one shape of every service: domain/api/store/events sources
# in a library (so tests link it), main.cpp as the executable sales-<name>, tests under test/.
function(sales_service name)
  file(GLOB_RECURSE lib_sources CONFIGURE_DEPENDS
    ${CMAKE_CURRENT_SOURCE_DIR}/api/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/domain/*.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/store/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/events/*.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/filters/*.cpp)
  add_library(${name}_lib STATIC ${lib_sources})
  target_include_directories(${name}_lib PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name}_lib PUBLIC sales_platform)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/store/migrations)
    sales_embed_migrations(${name}_lib ${CMAKE_CURRENT_SOURCE_DIR}/store/migrations)
  endif()
  add_executable(sales-${name} ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp)
  target_link_libraries(sales-${name} PRIVATE ${name}_lib)
  if(SALES_TESTS)
    file(GLOB_RECURSE test_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test/*_test.cpp)
    if(test_sources)
      add_executable(${name}_tests ${test_sources})
      target_link_libraries(${name}_tests PRIVATE ${name}_lib sales_test_support GTest::gtest_main GTest::gmock)
      gtest_discover_tests(${name}_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${name}")
    endif()
  endif()
endfunction()
