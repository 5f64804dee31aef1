# Strips an installed binary and keeps its debug info beside the prefix, where
# gdb finds it by build id: <prefix>/lib/debug/.build-id/xx/yyyy.debug (run
# at install time; `make deb` sets NASOPS_INSTALL_UNSTRIPPED and lets CPack
# make the -dbgsym package instead). Input: NASOPS_BINARY, the installed path.
if(DEFINED ENV{NASOPS_INSTALL_UNSTRIPPED})
  return()
endif()
set(binary "$ENV{DESTDIR}${NASOPS_BINARY}")
execute_process(COMMAND readelf -n "${binary}" OUTPUT_VARIABLE notes COMMAND_ERROR_IS_FATAL ANY)
if(NOT notes MATCHES "Build ID: ([0-9a-f][0-9a-f])([0-9a-f]+)")
  message(FATAL_ERROR "${binary} has no build id: cannot place its debug info")
endif()
set(debug_path "${CMAKE_INSTALL_PREFIX}/lib/debug/.build-id/${CMAKE_MATCH_1}/${CMAKE_MATCH_2}.debug")
set(debug_file "$ENV{DESTDIR}${debug_path}")
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${debug_path}")  # for `make uninstall`
get_filename_component(debug_dir "${debug_file}" DIRECTORY)
file(MAKE_DIRECTORY "${debug_dir}")
execute_process(COMMAND objcopy --only-keep-debug --compress-debug-sections "${binary}" "${debug_file}"
                COMMAND_ERROR_IS_FATAL ANY)
file(CHMOD "${debug_file}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
execute_process(COMMAND objcopy --strip-debug --strip-unneeded "--add-gnu-debuglink=${debug_file}" "${binary}"
                COMMAND_ERROR_IS_FATAL ANY)
message(STATUS "Stripped: ${binary} (debug info: ${debug_file})")
