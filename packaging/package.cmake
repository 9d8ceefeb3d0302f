# Install rules and the Debian package (`cpack -G DEB` from the build tree).
# The package carries no setuid file: the supervisor runs as a systemd service, and clients reach
# it through a socket whose group is created at install time (packaging/sysusers.conf).
include(GNUInstallDirs)

set(CLAWJAIL_PKG ${CMAKE_CURRENT_SOURCE_DIR}/packaging)
set(CLAWJAIL_CONFIG_DIR /etc/clawjail)  # absolute: /etc even though the prefix is /usr

install(TARGETS clawjail RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
# `clawjail` executes this one for every subcommand but run and fs (supervisor/client/main.cc).
install(TARGETS clawjail_full RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/clawjail
        PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

install(FILES ${CLAWJAIL_PKG}/systemd/clawjail.service ${CLAWJAIL_PKG}/systemd/clawjail.socket
              ${CLAWJAIL_PKG}/systemd/clawjail-cst@.service ${CLAWJAIL_PKG}/systemd/clawjail-cst@.timer
        DESTINATION lib/systemd/system PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${CLAWJAIL_PKG}/sysusers.conf DESTINATION lib/sysusers.d RENAME clawjail.conf
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${CLAWJAIL_PKG}/tmpfiles.conf DESTINATION lib/tmpfiles.d RENAME clawjail.conf
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# The configuration names signers and issuers but holds no secret; only root may change it.
install(DIRECTORY DESTINATION ${CLAWJAIL_CONFIG_DIR}
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                              WORLD_READ WORLD_EXECUTE)
install(FILES ${CLAWJAIL_PKG}/config.json DESTINATION ${CLAWJAIL_CONFIG_DIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# One file per job whose CST a timer renews (clawjail-cst@JOB.timer reads cst/JOB.conf); the
# package ships the directory empty and the commented example with the docs.
install(DIRECTORY DESTINATION ${CLAWJAIL_CONFIG_DIR}/cst
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                              WORLD_READ WORLD_EXECUTE)
install(FILES ${CLAWJAIL_PKG}/cst-renew.conf DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Debian ships man pages compressed, with no timestamp in the gzip header (-n).
set(CLAWJAIL_MANPAGE ${CMAKE_CURRENT_BINARY_DIR}/clawjail.1.gz)
add_custom_command(OUTPUT ${CLAWJAIL_MANPAGE}
                   COMMAND gzip -9nc ${CLAWJAIL_PKG}/clawjail.1 > ${CLAWJAIL_MANPAGE}
                   DEPENDS ${CLAWJAIL_PKG}/clawjail.1 VERBATIM)
add_custom_target(clawjail_manpage ALL DEPENDS ${CLAWJAIL_MANPAGE})
install(FILES ${CLAWJAIL_MANPAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# Every page of docs/: README and docs/operations.md point operators at the reference (cli, formats,
# jail, protocol), which must be on the host that runs clawjail.
file(GLOB CLAWJAIL_DOC_PAGES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/README.md ${CLAWJAIL_DOC_PAGES}
              ${CLAWJAIL_PKG}/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR} PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# Debian's changelog of a native package, compressed like the man page.
set(CLAWJAIL_DEB_CHANGELOG ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz)
add_custom_command(OUTPUT ${CLAWJAIL_DEB_CHANGELOG}
                   COMMAND gzip -9nc ${CLAWJAIL_PKG}/debian/changelog > ${CLAWJAIL_DEB_CHANGELOG}
                   DEPENDS ${CLAWJAIL_PKG}/debian/changelog VERBATIM)
add_custom_target(clawjail_deb_changelog ALL DEPENDS ${CLAWJAIL_DEB_CHANGELOG})
install(FILES ${CLAWJAIL_DEB_CHANGELOG} DESTINATION ${CMAKE_INSTALL_DOCDIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# The OpenClaw plugin, loaded by the gateway from plugins.load.paths (docs/operations.md).
if(EXISTS ${CLAWJAIL_PKG}/openclaw-plugin)
  install(DIRECTORY ${CLAWJAIL_PKG}/openclaw-plugin/ DESTINATION ${CMAKE_INSTALL_DATADIR}/clawjail/openclaw-plugin
          FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
          DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                WORLD_READ WORLD_EXECUTE
          PATTERN node_modules EXCLUDE
          PATTERN test EXCLUDE
          PATTERN tests EXCLUDE)
else()
  message(WARNING "packaging/openclaw-plugin is missing: the package will lack the OpenClaw plugin")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME clawjail)
set(CPACK_PACKAGE_VENDOR clawjail)
set(CPACK_PACKAGE_CONTACT "clawjail maintainers <clawjail@example.org>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "runs agent tool calls in jails built from signed policies")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "clawjail is a supervisor that runs every tool call of an OpenClaw agent\n"
       "inside a jail built from a signed Work Policy Contract, admits calls with\n"
       "scoped tokens, and signs a receipt for every permitted or blocked call.\n"
       "Includes the systemd units and the OpenClaw plugin.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # clawjail_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Debian ships stripped binaries (debug symbols belong in a separate -dbgsym package).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CLAWJAIL_PKG}/debian/postinst ${CLAWJAIL_PKG}/debian/prerm ${CLAWJAIL_PKG}/debian/postrm
    ${CLAWJAIL_PKG}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
