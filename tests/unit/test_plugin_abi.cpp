#define BOOST_TEST_MODULE plugin_abi
#include <boost/test/unit_test.hpp>

#include <cstddef>

#include <sys/stat.h>

#include "gatewayd_process.h"
#include "plugin_host/plugin_library.h"
#include "temp_dir.h"

using namespace gwd;
namespace fs = std::filesystem;

namespace {
std::string load_error(const fs::path& path) {
    std::string error;
    auto lib = PluginLibrary::load(path, error);
    BOOST_TEST(!lib);
    return error;
}
}  // namespace

BOOST_AUTO_TEST_CASE(bundled_plugins_load) {
    for (const char* name : {"simulated", "mqtt_local"}) {
        std::string error;
        auto lib = PluginLibrary::load(test::bundled_plugin_dir() / (std::string(name) + ".so"), error);
        BOOST_REQUIRE_MESSAGE(lib, error);
        BOOST_TEST(lib->descriptor().name == name);
        BOOST_TEST(lib->descriptor().abi_version == GWD_PLUGIN_ABI_VERSION);
    }
}

BOOST_AUTO_TEST_CASE(wrong_abi_is_refused_with_versions_named) {
    std::string e = load_error(test::test_plugin_dir() / "wrong_abi.so");
    BOOST_TEST(e.find("wrong_abi.so") != std::string::npos);
    BOOST_TEST(e.find("built for plugin ABI version 99") != std::string::npos);
    BOOST_TEST(e.find("supports versions 1 to 6") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_entry_symbol_is_refused) {
    std::string e = load_error(test::test_plugin_dir() / "no_entry.so");
    BOOST_TEST(e.find("has no entry symbol 'gwd_plugin_entry'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(incomplete_descriptor_is_refused) {
    std::string e = load_error(test::test_plugin_dir() / "no_create.so");
    BOOST_TEST(e.find("lacks the required create or destroy function") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_and_non_elf_files) {
    BOOST_TEST(load_error("/nonexistent/x.so") == "plugin file /nonexistent/x.so does not exist");
    test::TempDir dir;
    auto junk = dir.write("junk.so", "not an ELF file");
    BOOST_TEST(load_error(junk).find("cannot load plugin file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(group_or_world_writable_files_are_refused) {
    test::TempDir dir;
    fs::copy_file(test::bundled_plugin_dir() / "simulated.so", dir.path() / "simulated.so");
    fs::permissions(dir.path() / "simulated.so", fs::perms::others_write, fs::perm_options::add);
    BOOST_TEST(load_error(dir.path() / "simulated.so").find("writable by group or others") != std::string::npos);
    fs::permissions(dir.path() / "simulated.so", fs::perms::others_write, fs::perm_options::remove);
    std::string error;
    BOOST_TEST(PluginLibrary::load(dir.path() / "simulated.so", error));
    fs::permissions(dir.path(), fs::perms::group_write, fs::perm_options::add);
    BOOST_TEST(load_error(dir.path() / "simulated.so").find("plugin directory") != std::string::npos);
}

// ABI 2 gave meaning to reserved slots without moving anything: a plugin
// built against ABI 1 passes the same structs.
static_assert(sizeof(gwd_reading) == offsetof(gwd_reading, ack_context) + 8 * sizeof(void*));
static_assert(sizeof(gwd_plugin) == offsetof(gwd_plugin, stored) + 16 * sizeof(void*));
// ABI 5 added to gwd_option_spec only at its end: the ABI 1-4 fields stay put.
static_assert(offsetof(gwd_option_spec, help) == 2 * sizeof(void*));
static_assert(offsetof(gwd_option_spec, default_value) == 3 * sizeof(void*));

BOOST_AUTO_TEST_CASE(abi4_option_specs_are_read_with_their_own_layout) {
    std::string error;
    auto lib = PluginLibrary::load(test::test_plugin_dir() / "abi4_options.so", error);
    BOOST_REQUIRE_MESSAGE(lib, error);
    const auto& specs = lib->options();
    BOOST_REQUIRE(specs.size() == 3u);
    BOOST_TEST(specs[0].name == "first");
    BOOST_TEST(specs[1].name == "second");
    BOOST_TEST(specs[1].required);
    BOOST_TEST(specs[2].name == "third");
    BOOST_TEST(specs[2].type == GWD_OPTION_BOOL);
    for (const auto& s : specs) BOOST_TEST(!s.default_value);
}

namespace {
// check_descriptor() of a minimal ABI 5 descriptor with these option specs.
std::string check_specs(std::vector<gwd_option_spec> specs) {
    specs.push_back(gwd_option_spec{});
    gwd_plugin d{};
    d.abi_version = GWD_PLUGIN_ABI_VERSION;
    d.name = "x";
    d.create = [](const gwd_host_api*, gwd_context*, void**) { return 0; };
    d.destroy = [](void*) {};
    d.options = specs.data();
    return PluginLibrary::check_descriptor(&d);
}
gwd_option_spec spec(const char* name, int type, int required, const char* default_value) {
    return gwd_option_spec{name, type, required, "help", default_value, {}};
}
}  // namespace

BOOST_AUTO_TEST_CASE(declared_defaults_are_checked_when_the_plugin_loads) {
    BOOST_TEST(check_specs({spec("a", GWD_OPTION_INT, 0, "5"), spec("b", GWD_OPTION_DURATION, 0, "\"30s\""),
                            spec("c", GWD_OPTION_STRING_LIST, 0, "[\"x\", \"y\"]"), spec("d", GWD_OPTION_FLOAT, 0, "2"),
                            spec("e", GWD_OPTION_BOOL, 0, "false"), spec("f", GWD_OPTION_STRING, 0, nullptr)})
                   .empty());
    BOOST_TEST(check_specs({spec("port", GWD_OPTION_INT, 0, "\"1883\"")}) ==
               "its option 'port' has a default \"1883\" that must be an integer, not a string");
    BOOST_TEST(check_specs({spec("every", GWD_OPTION_DURATION, 0, "\"5\"")}).find("needs a unit") != std::string::npos);
    BOOST_TEST(check_specs({spec("name", GWD_OPTION_STRING, 0, "walk")})
                   .find("has a default 'walk' that is not a TOML value") != std::string::npos);
    BOOST_TEST(check_specs({spec("n", GWD_OPTION_INT, 0, "1\nother = 2")}) ==
               "its option 'n' has a default '1\nother = 2' that spans more than one line");
    BOOST_TEST(check_specs({spec("url", GWD_OPTION_STRING, 1, "\"tcp://x\"")}) ==
               "its option 'url' is required and has a default; it can only be one");
    BOOST_TEST(check_specs({spec("a", GWD_OPTION_INT, 0, nullptr), spec("a", GWD_OPTION_INT, 0, nullptr)}) ==
               "its option 'a' is declared twice");
    gwd_option_spec filled = spec("a", GWD_OPTION_INT, 0, nullptr);
    filled.reserved[2] = &filled;
    BOOST_TEST(check_specs({filled}) == "its option 'a' fills reserved fields this gatewayd does not know");
    BOOST_TEST(check_specs({spec("a", 42, 0, nullptr)}) == "its option 'a' has an unknown type");
}

BOOST_AUTO_TEST_CASE(descriptor_checks) {
    gwd_plugin d{};
    BOOST_TEST(PluginLibrary::check_descriptor(nullptr) == "its entry function returned no descriptor");
    d.abi_version = GWD_PLUGIN_ABI_VERSION;
    d.name = "x";
    d.create = [](const gwd_host_api*, gwd_context*, void**) { return 0; };
    d.destroy = [](void*) {};
    BOOST_TEST(PluginLibrary::check_descriptor(&d).empty());
    d.flags = GWD_PLUGIN_POLLED;
    BOOST_TEST(PluginLibrary::check_descriptor(&d).find("without a poll function") != std::string::npos);
    d.flags = 0x80;
    BOOST_TEST(PluginLibrary::check_descriptor(&d).find("flags") != std::string::npos);
    d.flags = 0;
    d.reserved[3] = &d;
    BOOST_TEST(PluginLibrary::check_descriptor(&d).find("reserved") != std::string::npos);
    d.reserved[3] = nullptr;
    d.stored = [](void*, void*, int) {};
    BOOST_TEST(PluginLibrary::check_descriptor(&d).empty());  // ABI 2: stored() is known
    d.abi_version = 1;
    BOOST_TEST(PluginLibrary::check_descriptor(&d).find("reserved") != std::string::npos);
    d.stored = nullptr;
    BOOST_TEST(PluginLibrary::check_descriptor(&d).empty());  // an ABI 1 plugin still loads
    d.abi_version = 0;
    BOOST_TEST(PluginLibrary::check_descriptor(&d).find("ABI version 0") != std::string::npos);
}
