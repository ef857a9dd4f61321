# Run by CPack after it staged the files and before it builds a package
# (CPACK_PRE_BUILD_SCRIPTS). Debian 12 keeps system units in
# /lib/systemd/system (systemd.pc says so, and lintian wants it there); the
# RPM distributions keep them in /usr/lib/systemd/system (%{_unitdir}), where
# /lib is only a symbolic link. So the .rpm moves the unit there.
if(CPACK_GENERATOR STREQUAL "RPM")
  file(GLOB_RECURSE units LIST_DIRECTORIES false "${CPACK_TEMPORARY_DIRECTORY}/*/lib/systemd/system/*.service")
  foreach(unit IN LISTS units)
    if(unit MATCHES "/usr/lib/systemd/system/")
      continue()
    endif()
    string(REGEX REPLACE "/lib/systemd/system/([^/]+)$" "/usr/lib/systemd/system/\\1" moved "${unit}")
    get_filename_component(moved_dir "${moved}" DIRECTORY)
    file(MAKE_DIRECTORY "${moved_dir}")
    file(RENAME "${unit}" "${moved}")
    # Leave no empty /lib/systemd/system behind for the package to own.
    string(REGEX REPLACE "/lib/systemd/system/[^/]+$" "" stage "${unit}")
    foreach(dir lib/systemd/system lib/systemd lib)
      file(GLOB left "${stage}/${dir}/*")
      if(NOT left)
        file(REMOVE_RECURSE "${stage}/${dir}")
      endif()
    endforeach()
  endforeach()
endif()
