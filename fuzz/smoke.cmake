# One target's smoke run (ctest -L fuzz): over its corpus, then RUNS
# mutations from a fixed seed, starting each time from an empty scratch
# folder so that the run repeats. Fails when the target crashes or a
# property of it breaks; the crashing input is left in the scratch folder.
#   cmake -DTARGET=<binary> -DCORPUS=<dir> -DSCRATCH=<dir> -DRUNS=<n> [-DSYMBOLIZER=<path>] -P smoke.cmake

file(REMOVE_RECURSE ${SCRATCH})
file(MAKE_DIRECTORY ${SCRATCH}/corpus)
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
          ASAN_SYMBOLIZER_PATH=${SYMBOLIZER}
          ${TARGET} -seed=1 -runs=${RUNS} -artifact_prefix=${SCRATCH}/ ${SCRATCH}/corpus ${CORPUS}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(GLOB crashes ${SCRATCH}/crash-* ${SCRATCH}/leak-* ${SCRATCH}/timeout-* ${SCRATCH}/oom-*)
  message(FATAL_ERROR "${TARGET} failed (${result}): ${crashes}")
endif()
