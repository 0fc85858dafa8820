# Run by `cmake --install` and CPack (packaging/CMakeLists.txt): writes the systemd unit and a
# starting config with the paths of the prefix being installed to.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(etc "/etc")
else()
  set(etc "${prefix}/etc")
endif()
set(bin "${prefix}/${OPSM_BINDIR}/opsmaturity")
set(share "${prefix}/${OPSM_DATADIR}/opsmaturity")

file(READ "${OPSM_SOURCE_DIR}/config/systemd/opsmaturity.service" unit)
string(REPLACE "/usr/bin/opsmaturity" "${bin}" unit "${unit}")
string(REPLACE "/etc/opsmaturity/" "${etc}/opsmaturity/" unit "${unit}")
set(unit_path "$ENV{DESTDIR}${prefix}/lib/systemd/system/opsmaturity.service")
message(STATUS "Installing: ${unit_path}")
file(WRITE "${unit_path}" "${unit}")

# The example config, with the installed rule pack and the service's state directory.
file(READ "${OPSM_SOURCE_DIR}/config/opsmaturity.example.yml" config)
string(REPLACE "rules_dir: ../rules              # the rule pack; relative paths are relative to this file"
               "rules_dir: ${share}/rules   # the rule pack; relative paths are relative to this file"
               config "${config}")
string(REPLACE "# storage_path: /var/lib/opsmaturity/opsmaturity.db"
               "storage_path: /var/lib/opsmaturity/opsmaturity.db"
               config "${config}")
if(NOT config MATCHES "rules_dir: ${share}/rules" OR
   NOT config MATCHES "\nstorage_path: /var/lib/opsmaturity/opsmaturity.db")
  message(FATAL_ERROR "config/opsmaturity.example.yml changed: update packaging/install_configured.cmake")
endif()
set(config_path "$ENV{DESTDIR}${etc}/opsmaturity/opsmaturity.yml")
if(EXISTS "${config_path}")
  message(STATUS "Up-to-date (kept as it is): ${config_path}")
else()
  message(STATUS "Installing: ${config_path}")
  file(WRITE "${config_path}" "${config}")
endif()
