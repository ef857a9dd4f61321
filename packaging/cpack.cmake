# CPack: packaging/build-packages.sh runs `cpack -G "DEB;RPM"`. Two packages
# from the components: gatewayd (the service) and gatewayd-dev (the plugin
# SDK). Dependencies are computed from the linked libraries: dpkg-shlibdeps
# for the .deb, rpmbuild's automatic requirements for the .rpm.
set(CPACK_PACKAGE_NAME gatewayd)
set(CPACK_PACKAGE_VENDOR "gatewayd")
set(CPACK_PACKAGE_CONTACT "gatewayd maintainers <maintainers@gatewayd.dev>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(GATEWAYD_DESCRIPTION "gatewayd gathers readings from local sensors through plugins,
normalizes their content type and MQTT v5 user properties, and forwards
them to an MQTT broker, AWS IoT Core, Huawei Cloud IoTDA or China Mobile
OneNET, with a durable on-disk queue and reconnects that stop on
authorization failures.")
set(CPACK_COMPONENT_DAEMON_DESCRIPTION "${GATEWAYD_DESCRIPTION}
This package runs it as a hardened systemd service.")
set(CPACK_COMPONENT_DEV_DESCRIPTION "${GATEWAYD_DESCRIPTION}
This package holds what third-party sensor plugins are built with: the
plugin ABI header, a pkg-config file and a CMake package.")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://example.invalid/gatewayd")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL daemon dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_RPM_COMPONENT_INSTALL ON)

# Debian: gatewayd and gatewayd-dev; maintainer scripts as debhelper would write them.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_DAEMON_PACKAGE_NAME gatewayd)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME gatewayd-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_DAEMON_DESCRIPTION "Edge gateway daemon: local sensors to MQTT and IoT clouds\n${CPACK_COMPONENT_DAEMON_DESCRIPTION}")
set(CPACK_DEBIAN_DEV_DESCRIPTION "Plugin SDK of the gatewayd edge gateway\n${CPACK_COMPONENT_DEV_DESCRIPTION}")
set(CPACK_DEBIAN_DEV_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_DEV_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/conffiles
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/postrm)
set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# RPM: the same two, the configuration as %config(noreplace).
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "ASL 2.0")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_DEV_PACKAGE_GROUP "Development/Libraries")
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_SPEC_MORE_DEFINE "%define packager gatewayd maintainers <maintainers@gatewayd.dev>")
set(CPACK_RPM_DAEMON_PACKAGE_SUMMARY "Edge gateway daemon: local sensors to MQTT and IoT clouds")
set(CPACK_RPM_DEV_PACKAGE_SUMMARY "Plugin SDK of the gatewayd edge gateway")
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_DAEMON_PACKAGE_NAME gatewayd)
set(CPACK_RPM_DEV_PACKAGE_NAME gatewayd-devel)
set(CPACK_RPM_DEV_PACKAGE_ARCHITECTURE noarch)
set(CPACK_RPM_DAEMON_USER_FILELIST "%config(noreplace) /etc/gatewayd/gatewayd.toml")
set(CPACK_RPM_DAEMON_POST_INSTALL_SCRIPT_FILE ${CMAKE_CURRENT_SOURCE_DIR}/rpm/post)
set(CPACK_RPM_DAEMON_PRE_UNINSTALL_SCRIPT_FILE ${CMAKE_CURRENT_SOURCE_DIR}/rpm/preun)
set(CPACK_RPM_DAEMON_POST_UNINSTALL_SCRIPT_FILE ${CMAKE_CURRENT_SOURCE_DIR}/rpm/postun)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/rpm/unit-dir.cmake)
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION /etc /usr/lib/systemd /usr/lib/systemd/system /usr/lib/sysusers.d
    /usr/share/man /usr/share/man/man5 /usr/share/man/man8 /usr/share/pkgconfig /usr/share/cmake /usr/include)

include(CPack)
cpack_add_component(daemon DISPLAY_NAME "gatewayd service" REQUIRED)
cpack_add_component(dev DISPLAY_NAME "gatewayd plugin SDK")
