// The plugin SDK as an author outside this tree uses it: `cmake --install`
// puts the header, gatewayd-plugin.pc and the CMake package in a prefix; a
// copy of the example plugin (plugins/loadavg) is built against that prefix
// with find_package and with plain cc + pkg-config, and each build is
// dropped into the plugin directory of a running daemon, which loads it and
// forwards its readings.
#define BOOST_TEST_MODULE plugin_sdk
#include <boost/test/unit_test.hpp>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A build step on a busy machine: generous, and its output kept for the failure message.
void run(const std::vector<std::string>& argv, std::string& output) {
    output += "\n$";
    for (const auto& a : argv) output += " " + a;
    output += "\n";
    BOOST_REQUIRE_MESSAGE(run_command(argv, output, 300s) == 0, output);
}

// As an author installs a build: beside the old file, then renamed over it.
void drop_in(const fs::path& built, const fs::path& plugins) {
    fs::copy_file(built, plugins / "my_sensor.so.new", fs::copy_options::overwrite_existing);
    fs::rename(plugins / "my_sensor.so.new", plugins / "my_sensor.so");
}

size_t readings(const TestSubscriber& cloud, const std::string& payload) {
    size_t n = 0;
    for (const auto& m : cloud.on_topic("telemetry/gw-01/load5"))
        if (m.payload == payload) ++n;
    return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_out_of_tree_plugin_builds_against_the_installed_sdk_and_hot_loads) {
    TempDir dir;
    std::string out;
    const fs::path prefix = dir.path() / "prefix";
    run({"cmake", "--install", build_dir().string(), "--prefix", prefix.string(), "--component", "dev"}, out);
    BOOST_TEST(fs::exists(prefix / "include/gatewayd/plugin.h"));
    BOOST_TEST(fs::exists(prefix / "share/pkgconfig/gatewayd-plugin.pc"));
    BOOST_TEST(fs::exists(prefix / "share/cmake/gatewayd-plugin/gatewayd-pluginConfig.cmake"));

    // The author's folder: a copy of the example, nothing else of this
    // tree, renamed as README's walkthrough does it (step 1, word for word).
    const fs::path src = dir.path() / "my_sensor";
    fs::create_directories(src);
    for (const char* f : {"CMakeLists.txt", "loadavg.c", "loadavg.toml", "README.md"})
        fs::copy_file(source_dir() / "plugins/loadavg" / f, src / f);
    run({"sh", "-c",
         "cd " + src.string() +
             " && mv loadavg.c my_sensor.c && mv loadavg.toml my_sensor.toml"
             " && sed -i 's/loadavg loadavg.c/my_sensor my_sensor.c/; s/(loadavg/(my_sensor/; "
             "s/TARGETS loadavg/TARGETS my_sensor/' CMakeLists.txt"
             " && sed -i 's/\\.name = \"loadavg\"/.name = \"my_sensor\"/' my_sensor.c"
             " && sed -i 's/^name = \"load\"/name = \"mine\"/; s/^plugin = \"loadavg\"/plugin = \"my_sensor\"/' "
             "my_sensor.toml"},
        out);

    // 1. CMake: find_package(gatewayd-plugin) from the prefix.
    const fs::path cmake_build = dir.path() / "cmake-build";
    run({"cmake", "-S", src.string(), "-B", cmake_build.string(), "-DCMAKE_PREFIX_PATH=" + prefix.string(),
         "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror"},
        out);
    run({"cmake", "--build", cmake_build.string()}, out);
    BOOST_REQUIRE_MESSAGE(fs::exists(cmake_build / "my_sensor.so"), out);
    // Its install goes where that gatewayd looks for plugins (GATEWAYD_PLUGIN_DIR).
    run({"cmake", "--install", cmake_build.string()}, out);
    BOOST_TEST(fs::exists(prefix / "lib/gatewayd/plugins/my_sensor.so"), out);

    // 2. The author bumps the version and builds with plain cc and
    // pkg-config. The .pc names /usr as its prefix (where the package puts
    // it); --define-prefix takes the prefix from where the file is, as for
    // any relocated pkg-config file.
    std::string code = read_file(src / "my_sensor.c");
    const std::string old_version = ".version = \"1.0.0\"";
    const size_t version_at = code.find(old_version);
    BOOST_REQUIRE(version_at != std::string::npos);
    code.replace(version_at, old_version.size(), ".version = \"1.1.0\"");
    dir.write("my_sensor/my_sensor.c", code);
    const std::string pc_env = "PKG_CONFIG_PATH=" + (prefix / "share/pkgconfig").string();
    std::string cflags;
    BOOST_REQUIRE(
        run_command({"env", pc_env, "pkg-config", "--define-prefix", "--cflags", "gatewayd-plugin"}, cflags, 60s) == 0);
    cflags.erase(cflags.find_last_not_of(" \n") + 1);
    BOOST_TEST(cflags == "-I" + (prefix / "include").string());
    const fs::path cc_built = dir.path() / "cc-build" / "my_sensor.so";
    fs::create_directories(cc_built.parent_path());
    run({"sh", "-c",
         "cc -shared -fPIC -fvisibility=hidden -O2 -Wall -Wextra -Werror -Wl,--no-undefined $(env " + pc_env +
             " pkg-config --define-prefix --cflags gatewayd-plugin) -o " + cc_built.string() + " " +
             (src / "my_sensor.c").string()},
        out);
    BOOST_TEST_MESSAGE("SDK builds:" << out);

    // A running daemon whose sensor waits for the plugin to appear.
    Mosquitto cloud;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const fs::path plugins = dir.path() / "plugins";
    fs::create_directories(plugins);
    const fs::path load = dir.write("loadavg", "0.42 0.30 0.25 1/123 4567\n");
    GatewaydProcess gw(dir, gateway_section(dir, plugins) +
                                "[[sensor]]\nname = \"mine\"\nplugin = \"my_sensor\"\ninterval = \"100ms\"\n"
                                "[sensor.options]\nfile = \"" +
                                load.string() +
                                "\"\nwindow = 5\nreading = \"load5\"\n\n"
                                "[[upstream]]\nname = \"cloud\"\nurl = \"" +
                                cloud.url() + "\"\nclient_id = \"gw-01\"\n");
    BOOST_REQUIRE_MESSAGE(eventually([&] { return sensor_field(dir, "mine", "state") == "failed"; }, 30s), gw.log());

    drop_in(cmake_build / "my_sensor.so", plugins);
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("plugin my_sensor: now version 1.0.0", 30s), gw.log());
    BOOST_REQUIRE_MESSAGE(eventually([&] { return readings(app, "0.30") >= 3; }, 30s), gw.log());
    const auto first = app.on_topic("telemetry/gw-01/load5").front();
    BOOST_TEST(first.content_type.value_or("(none)") == "text/plain");

    // The cc build of 1.1.0 replaces it: swapped in.
    dir.write("loadavg", "1.50 0.75 0.50 2/130 4600\n");
    drop_in(cc_built, plugins);
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("plugin my_sensor: now version 1.1.0 (sha256 ", 30s), gw.log());
    BOOST_REQUIRE_MESSAGE(eventually([&] { return readings(app, "0.75") >= 3; }, 30s), gw.log());
    BOOST_TEST(gw.log().find("(was 1.0.0 (sha256 ") != std::string::npos, gw.log());
    BOOST_TEST(sensor_field(dir, "mine", "state") == "running");
    BOOST_TEST(sensor_field(dir, "mine", "plugin_version").rfind("1.1.0 ", 0) == 0u);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}
