# `make -f Makefile.ops deb`: nasops_<version>_<arch>.deb by CPack, from the
# same install rules as `make install`, with the prefix /usr. Library
# dependencies come from dpkg-shlibdeps; the debug info goes into a -dbgsym
# package (.ddeb) beside it.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME nasops)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
# DESTDIR staging, so that /etc stays /etc and the prefix seen at install time is /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGE_CONTACT "nasops maintainers <maintainers@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "move media files from an edge host to a NAS over SSH, and watch the job")
# The extended description; CPack puts the summary above it as the synopsis.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Six small tools driven by cron or systemd timers, speaking newline-delimited
JSON: nasops-sync uploads media over SFTP and verifies it, nasops-health runs
health checks, nasops-alert evaluates alert rules and notifies,
nasops-capacity forecasts storage, nasops-dbmaint keeps the SQLite database
healthy and backed up, nasops-trace wraps jobs in trace spans.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "cron | cron-daemon, logrotate")
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
include(CPack)
