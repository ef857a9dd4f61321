# gatewayd_add_plugin(NAME sources...): builds NAME.so the way gatewayd's
# plugin host expects, against the gatewayd::plugin target (the ABI header):
#  - a MODULE with no "lib" prefix: plugin = "NAME" in [[sensor]] finds it;
#  - only the entry symbol exported (GWD_PLUGIN_EXPORT), so two versions of
#    a plugin never see each other's symbols while a swap runs;
#  - no STB_GNU_UNIQUE symbols (GCC makes them for some C++ statics): with one,
#    the old image of a hot-swapped plugin can never be unloaded;
#  - -Wl,--no-undefined: a missing symbol fails the build, not the dlopen().
# Shipped in the SDK and used by gatewayd's own tree, so both build alike.
function(gatewayd_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_compile_options(${name} PRIVATE $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-fno-gnu-unique>)
  target_link_libraries(${name} PRIVATE gatewayd::plugin)
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
endfunction()
