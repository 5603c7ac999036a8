# Checks of the installation that consumer_of_installed_package made in PREFIX (its fixture
# distinv_installed), one per CTest, chosen by CHECK; scratch files go to WORK_DIR.
#   readme_cmake_snippet  the README's ```cmake block (under "## Using the library") as it is, its
#                         app.cpp the ```cpp block below it (the quick start) put in main():
#                         configured and built against PREFIX, and run
#   unknown_component     find_package(distinv REQUIRED COMPONENTS fftw) fails naming 'fftw' and the
#                         known components
#   distinv_pnp           PREFIX/bin/distinv-pnp: ldd finds every library (and no LibTorch);
#                         --help and a 32² run; with its plugin, a run of the network MODEL (when
#                         given); copied away from the plugin (no LibTorch reachable): --help, the
#                         32² run, and --denoiser torch refused with exit code 2 naming the plugin
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
# run(<expected exit code> <output variable> command...): the command's exit code must match.
function(run expect out)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc STREQUAL "${expect}")
    message(FATAL_ERROR "'${ARGN}': expected exit code ${expect}, got ${rc}\n${o}${e}")
  endif()
  set(${out} "${o}${e}" PARENT_SCOPE)
endfunction()
function(expect_match text regex what)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what}: expected output matching '${regex}', got:\n${text}")
  endif()
endfunction()
# fenced_block(<text> <language> <variable>): the first ```<language> block of <text>.
function(fenced_block readme language out)
  string(FIND "${readme}" "```${language}\n" begin)
  if(begin LESS 0)
    message(FATAL_ERROR "no ```${language} block under '## Using the library' in the README")
  endif()
  string(LENGTH "```${language}\n" skip)
  math(EXPR begin "${begin} + ${skip}")
  string(SUBSTRING "${readme}" ${begin} -1 rest)
  string(FIND "${rest}" "```" end)
  string(SUBSTRING "${rest}" 0 ${end} text)
  set(${out} "${text}" PARENT_SCOPE)
endfunction()
set(configure ${CMAKE_COMMAND} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${PREFIX})

if(CHECK STREQUAL "readme_cmake_snippet")
  # the README from "## Using the library" on
  file(READ ${README} readme)
  string(FIND "${readme}" "\n## Using the library" at)
  if(at LESS 0)
    message(FATAL_ERROR "no '## Using the library' in ${README}")
  endif()
  string(SUBSTRING "${readme}" ${at} -1 readme)
  fenced_block("${readme}" cmake snippet)
  file(WRITE ${WORK_DIR}/src/CMakeLists.txt "${snippet}")
  # app.cpp: the README's quick start in C++ (its #include and using lines first, the rest in
  # main() with `clean`, the built-in test image)
  fenced_block("${readme}" cpp quick_start)
  string(REGEX MATCH "^((#include|using )[^\n]*\n)*" head "${quick_start}")
  string(LENGTH "${head}" n)
  string(SUBSTRING "${quick_start}" ${n} -1 body)
  file(WRITE ${WORK_DIR}/src/app.cpp
       "${head}int main() {\nauto const clean = distinv::io::test_image<float>(64, 64, 3);\n${body}}\n")
  run(0 out ${configure} -S ${WORK_DIR}/src -B ${WORK_DIR}/build)
  run(0 out ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
  run(0 out ${WORK_DIR}/build/app)
  message(STATUS "built and ran the README's snippets:\n${snippet}\n${head}${body}")

elseif(CHECK STREQUAL "unknown_component")
  file(WRITE ${WORK_DIR}/src/CMakeLists.txt
       "cmake_minimum_required(VERSION 3.21)\nproject(app LANGUAGES CXX)\nfind_package(distinv REQUIRED COMPONENTS fftw)\n")
  run(1 out ${configure} -S ${WORK_DIR}/src -B ${WORK_DIR}/build)
  string(REGEX REPLACE "[ \n]+" " " out "${out}")  # CMake wraps the message
  expect_match("${out}" "unknown component 'fftw' \\(the known ones: mpi, fftw_mpi, png, cuda, torch\\)"
               "find_package(distinv REQUIRED COMPONENTS fftw)")

elseif(CHECK STREQUAL "distinv_pnp")
  set(exe ${PREFIX}/bin/distinv-pnp)
  file(GLOB plugin ${PREFIX}/*/distinv-pnp/distinv-pnp-torch.so ${PREFIX}/*/*/distinv-pnp/distinv-pnp-torch.so)
  foreach(binary IN ITEMS ${exe} ${plugin})
    run(0 out ldd ${binary})
    if(out MATCHES "not found")
      message(FATAL_ERROR "ldd ${binary}: a library is not found:\n${out}")
    endif()
  endforeach()
  run(0 out ldd ${exe})
  if(out MATCHES "libtorch|libc10")
    message(FATAL_ERROR "${exe} links LibTorch itself (expected: only its plugin does):\n${out}")
  endif()
  set(tiny --size 32 --iterations 1 --init-iterations 1 --quiet)
  # installed: PREFIX/bin; alone: the same program copied away from its plugin
  file(COPY ${exe} DESTINATION ${WORK_DIR}/alone/bin)
  foreach(where IN ITEMS installed alone)
    set(program ${exe})
    if(where STREQUAL "alone")
      set(program ${WORK_DIR}/alone/bin/distinv-pnp)
    endif()
    run(0 out ${program} --help)
    expect_match("${out}" "--denoiser" "${where}: distinv-pnp --help")
    run(0 out ${program} ${tiny} --output ${WORK_DIR}/${where}_tv)
    if(NOT EXISTS ${WORK_DIR}/${where}_tv/result.npy)
      message(FATAL_ERROR "${where}: distinv-pnp ${tiny} wrote no result.npy")
    endif()
  endforeach()
  if(plugin AND MODEL)
    run(0 out ${exe} ${tiny} --denoiser torch --model ${MODEL} --sigma 0.03 --output ${WORK_DIR}/installed_torch)
    run(2 out ${WORK_DIR}/alone/bin/distinv-pnp ${tiny} --denoiser torch --model ${MODEL} --output ${WORK_DIR}/alone_torch)
    expect_match("${out}" "cannot load distinv-pnp's LibTorch plugin '.*distinv-pnp-torch.so'" "alone: --denoiser torch")
  elseif(MODEL)
    message(FATAL_ERROR "expected the LibTorch plugin under ${PREFIX}, found none")
  endif()

else()
  message(FATAL_ERROR "installed.cmake: unknown CHECK '${CHECK}'")
endif()
