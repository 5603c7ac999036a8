# cmake -P script of the CTest no_slab_path_static_assert: compiles no_slab_path.cpp
# (-fsyntax-only, from the source tree with relative include paths, so that the size does not
# depend on where the tree lies) once per slab entry point (ENTRY 1-3) and expects each to fail
# with exactly one error, the static_assert naming what is missing and the guide page, in under
# 2 KB of compiler output; ENTRY 0 (the replicated layout) must compile.
# Variables: CXX (the compiler), SOURCE_DIR (the project root), INCLUDES_FILE (include dirs).
# INCLUDES_FILE: "dirs|the compiler's implicit dirs" (those are left out: -isystem /usr/include
# would break the standard library's #include_next).
cmake_minimum_required(VERSION 3.20)
file(READ ${INCLUDES_FILE} text)
string(STRIP "${text}" text)
string(FIND "${text}" "|" bar)
if(bar LESS 0)
  message(FATAL_ERROR "${INCLUDES_FILE}: expected 'dirs|implicit dirs', got '${text}'")
endif()
string(SUBSTRING "${text}" 0 ${bar} includes)
math(EXPR after "${bar} + 1")
string(SUBSTRING "${text}" ${after} -1 implicit)
set(flags -std=c++20 -fsyntax-only)
foreach(dir IN LISTS includes)
  if(dir STREQUAL "" OR dir IN_LIST implicit)
    continue()
  endif()
  file(RELATIVE_PATH rel ${SOURCE_DIR} ${dir})
  if(rel MATCHES "^\\.\\.")
    list(APPEND flags -isystem ${dir})  # outside the tree: a dependency (Eigen, TBB)
  else()
    list(APPEND flags -I${rel})
  endif()
endforeach()
foreach(entry IN ITEMS 0 1 2 3)
  execute_process(COMMAND ${CXX} ${flags} -DENTRY=${entry} tests/compile_fail/no_slab_path.cpp
                  WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(text "${out}${err}")
  string(LENGTH "${text}" bytes)
  if(entry EQUAL 0)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "no_slab_path.cpp on layout::Replicated should compile, got:\n${text}")
    endif()
    continue()
  endif()
  string(REGEX MATCHALL "error:" errors "${text}")
  list(LENGTH errors n_errors)
  if(rc EQUAL 0 OR NOT text MATCHES "has no slab path" OR NOT text MATCHES "slab_operators\\.md" OR NOT n_errors EQUAL 1
     OR bytes GREATER_EQUAL 2048)
    message(FATAL_ERROR "ENTRY=${entry}: expected one static_assert naming the missing slab path and the guide page "
                        "in under 2048 bytes, got exit code ${rc}, ${n_errors} error(s), ${bytes} bytes:\n${text}")
  endif()
  message(STATUS "ENTRY=${entry}: one static_assert, ${bytes} bytes of compiler output")
endforeach()
