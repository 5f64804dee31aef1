# Installs the systemd units (install time, from deploy/CMakeLists.txt): each
# .service.in with the installed bin folder and the sandbox of hardening.conf,
# and the timers as they are. None is enabled.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(unit_dir "/lib/systemd/system")  # Debian 12's packages ship units there
else()
  set(unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
file(READ "${NASOPS_UNIT_HARDENING_FILE}" NASOPS_UNIT_HARDENING)
string(STRIP "${NASOPS_UNIT_HARDENING}" NASOPS_UNIT_HARDENING)
set(BINDIR "${CMAKE_INSTALL_PREFIX}/${NASOPS_BINDIR_REL}")
set(staging "${NASOPS_UNIT_STAGING}")
file(MAKE_DIRECTORY "${staging}")
set(units ${NASOPS_UNIT_TIMERS})
foreach(template IN LISTS NASOPS_UNIT_TEMPLATES)
  get_filename_component(name "${template}" NAME_WLE)
  configure_file("${template}" "${staging}/${name}" @ONLY)
  list(APPEND units "${staging}/${name}")
endforeach()
file(INSTALL ${units} DESTINATION "${unit_dir}"
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
