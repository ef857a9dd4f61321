// The command line as a user meets it: exit codes and messages of the real binary.
#define BOOST_TEST_MODULE cli_process
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>

#include "gatewayd_process.h"
#include "mosquitto.h"

using namespace gwd::test;
using namespace std::chrono_literals;

namespace {
int gatewayd(const std::vector<std::string>& args, std::string& output) {
    std::vector<std::string> argv{gatewayd_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, output);
}

std::string valid_config(const TempDir& dir) {
    return gateway_section(dir) +
           "[[sensor]]\nname = \"lab\"\nplugin = \"simulated\"\n\n"
           "[[upstream]]\nname = \"cloud\"\nurl = \"tcp://127.0.0.1:1\"\n";
}
}  // namespace

BOOST_AUTO_TEST_CASE(version_and_help) {
    std::string out;
    BOOST_TEST(gatewayd({"--version"}, out) == 0);
    BOOST_TEST(std::regex_search(out, std::regex("^gatewayd \\d+\\.\\d+\\.\\d+ \\(plugin ABI 6\\)\n$")), out);
    out.clear();
    BOOST_TEST(gatewayd({"--help"}, out) == 0);
    BOOST_TEST(out.find("Usage: gatewayd [--config PATH]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_arguments_exit_64) {
    std::string out;
    BOOST_TEST(gatewayd({"--frobnicate"}, out) == 64);
    BOOST_TEST(out == "gatewayd: unknown argument '--frobnicate'\nTry 'gatewayd --help'.\n");
}

BOOST_AUTO_TEST_CASE(check_config_accepts_a_valid_file_and_connects_to_nothing) {
    TempDir dir;
    auto config = dir.write("gatewayd.toml", valid_config(dir));
    std::string out;
    BOOST_TEST(gatewayd({"--check-config", "--config", config.string()}, out) == 0);
    BOOST_TEST(out == config.string() + ": OK (1 sensors, 1 upstreams)\n");
}

BOOST_AUTO_TEST_CASE(config_errors_exit_78_with_one_line_each_at_check_and_at_start) {
    TempDir dir;
    const std::string text = valid_config(dir) + "qos = 3\nurl_typo = 1\n";
    auto config = dir.write("gatewayd.toml", text);
    const std::string expected = config.string() + ":" + std::to_string(line_of(text, "qos = 3")) +
                                 ":7: upstream 'cloud': 'qos' must be between 0 and 2, not 3\n" + config.string() +
                                 ":" + std::to_string(line_of(text, "url_typo")) +
                                 ":1: unknown key 'url_typo' in upstream 'cloud'; did you mean 'url'?\n";
    std::string out;
    BOOST_TEST(gatewayd({"--check-config", "--config", config.string()}, out) == 78);
    BOOST_TEST(out == expected);
    out.clear();
    BOOST_TEST(gatewayd({"--config", config.string()}, out) == 78);
    BOOST_TEST(out == expected);
}

BOOST_AUTO_TEST_CASE(missing_config_exits_78) {
    std::string out;
    BOOST_TEST(gatewayd({"--config", "/nonexistent/gatewayd.toml"}, out) == 78);
    BOOST_TEST(out ==
               "/nonexistent/gatewayd.toml: cannot read the configuration: No such file or directory "
               "(pass another file with --config PATH)\n");
}

BOOST_AUTO_TEST_CASE(check_config_loads_plugins_and_checks_their_options) {
    TempDir dir;
    const std::string text =
        gateway_section(dir, all_plugins(dir)) +
        "[[sensor]]\nname = \"old\"\nplugin = \"wrong_abi\"\n\n"
        "[[sensor]]\nname = \"field\"\nplugin = \"mqtt_local\"\n[sensor.options]\nurl = \"tcp://x\"\n"
        "topic = [\"a\"]\n\n"
        "[[upstream]]\nname = \"cloud\"\nurl = \"tcp://127.0.0.1:1\"\n";
    auto config = dir.write("gatewayd.toml", text);
    auto at = [&](const std::string& needle, int column) {
        return config.string() + ":" + std::to_string(line_of(text, needle)) + ":" + std::to_string(column) + ": ";
    };
    std::string out;
    BOOST_TEST(gatewayd({"--check-config", "--config", config.string()}, out) == 78);
    BOOST_TEST(out.find(at("plugin = \"wrong_abi\"", 10) + "sensor 'old': refusing plugin file") != std::string::npos,
               out);
    BOOST_TEST(out.find("built for plugin ABI version 99") != std::string::npos);
    BOOST_TEST(out.find(at("topic = [", 1) + "sensor 'field': plugin 'mqtt_local' has no option 'topic'; did you "
                                             "mean 'topics'?") != std::string::npos,
               out);
    BOOST_TEST(out.find(at("[sensor.options]", 1) + "sensor 'field': plugin 'mqtt_local' needs option 'topics'") !=
                   std::string::npos,
               out);
}

BOOST_AUTO_TEST_CASE(unwritable_state_dir_is_a_config_error) {
    TempDir dir;
    auto file = dir.write("not-a-dir", "x");
    auto config = dir.write("gatewayd.toml", "[gateway]\nplugin_dir = \"" + gwd::test::bundled_plugin_dir().string() +
                                                 "\"\nstate_dir = \"" + file.string() +
                                                 "\"\n"
                                                 "[[upstream]]\nname = \"cloud\"\nurl = \"tcp://127.0.0.1:1\"\n");
    std::string out;
    BOOST_TEST(gatewayd({"--check-config", "--config", config.string()}, out) == 78);
    BOOST_TEST(out.find(":3:13: state_dir '" + file.string() + "' exists but is not a directory") != std::string::npos,
               out);
}

BOOST_AUTO_TEST_CASE(the_shipped_demo_config_is_valid) {
    // conf/gatewayd.toml names build/plugins relative to the repository; point
    // it at this build's plugins and a scratch state directory.
    TempDir dir;
    std::string text = read_file(source_dir() / "conf" / "gatewayd.toml");
    text = std::regex_replace(text, std::regex("plugin_dir = \"[^\"]*\""),
                              "plugin_dir = \"" + bundled_plugin_dir().string() + "\"");
    text = std::regex_replace(text, std::regex("state_dir = \"[^\"]*\""),
                              "state_dir = \"" + (dir.path() / "state").string() + "\"");
    auto config = dir.write("gatewayd.toml", text);
    std::string out;
    BOOST_TEST(gatewayd({"--check-config", "--config", config.string()}, out) == 0, out);
}

BOOST_AUTO_TEST_CASE(every_plugin_sample_config_is_valid) {
    namespace fs = std::filesystem;
    size_t samples = 0;
    for (const auto& folder : fs::directory_iterator(source_dir() / "plugins")) {
        if (!folder.is_directory()) continue;
        const fs::path sample = folder.path() / (folder.path().filename().string() + ".toml");
        BOOST_TEST(fs::exists(sample), sample.string() << " is missing");
        BOOST_TEST(fs::exists(folder.path() / "README.md"), folder.path().string() << " has no README.md");
        if (!fs::exists(sample)) continue;
        TempDir dir;
        auto config = dir.write("gatewayd.toml", gateway_section(dir) + read_file(sample) +
                                                     "\n[[upstream]]\nname = \"cloud\"\nurl = \"tcp://127.0.0.1:1\"\n");
        std::string out;
        BOOST_TEST(gatewayd({"--check-config", "--config", config.string()}, out) == 0, sample.string() << ": " << out);
        ++samples;
    }
    BOOST_TEST(samples >= 2u);
}

BOOST_AUTO_TEST_CASE(check_config_reports_everything_at_once) {
    // Plugin problems come with the rest, not only once the rest is fixed;
    // and what used to pass (an empty name, a name of spaces, a NUL in a
    // password, a runtime_dir whose socket path is too long) is an error.
    TempDir dir;
    const std::string long_dir = "/tmp/" + std::string(110, 'r');
    const std::string text = "[gateway]\nid = \"   \"\nplugin_dir = \"" + all_plugins(dir).string() +
                             "\"\nstate_dir = \"" + (dir.path() / "state").string() + "\"\nruntime_dir = \"" +
                             long_dir + "\"\n\n" +
                             "[[sensor]]\nname = \"  \"\nplugin = \"simulated\"\n\n"
                             "[[sensor]]\nname = \"old\"\nplugin = \"wrong_abi\"\n\n"
                             "[[upstream]]\nname = \"\"\nurl = \"tcp://127.0.0.1:1\"\n"
                             "password = \"a\\u0000b\"\n";
    auto config = dir.write("gatewayd.toml", text);
    std::string out;
    BOOST_TEST(gatewayd({"--check-config", "--config", config.string()}, out) == 78);
    BOOST_TEST(out.find(":2:6: [gateway]: id must not be empty or only spaces") != std::string::npos, out);
    BOOST_TEST(out.find(":5:15: [gateway]: the status socket " + long_dir +
                        "/gatewayd.sock would be 129 bytes long, "
                        "more than a Unix socket path may be (107)") != std::string::npos,
               out);
    BOOST_TEST(out.find("sensor '  ': name must not be empty or only spaces") != std::string::npos, out);
    BOOST_TEST(out.find("sensor 'old': refusing plugin file") != std::string::npos, out);
    BOOST_TEST(out.find("upstream '': name must not be empty") != std::string::npos, out);
    BOOST_TEST(out.find("password contains a NUL character") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(a_password_file_every_user_can_read_gets_a_warning) {
    TempDir dir;
    auto secret = dir.write("password", "s3cret\n");
    std::filesystem::permissions(secret, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                             std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    auto config = dir.write("gatewayd.toml", gateway_section(dir) +
                                                 "[[upstream]]\nname = \"cloud\"\nurl = "
                                                 "\"tcp://127.0.0.1:1\"\nusername = \"u\"\n"
                                                 "password_file = \"" +
                                                 secret.string() + "\"\n");
    std::string out;
    BOOST_TEST(gatewayd({"--check-config", "--config", config.string()}, out) == 0, out);
    BOOST_TEST(out.find("warning: upstream 'cloud': password_file " + secret.string() +
                        " is readable by every user of this machine (mode 0644); it holds a secret: chmod o-r") !=
                   std::string::npos,
               out);
    std::filesystem::permissions(secret, std::filesystem::perms::others_read, std::filesystem::perm_options::remove);
    out.clear();
    BOOST_TEST(gatewayd({"--check-config", "--config", config.string()}, out) == 0, out);
    BOOST_TEST(out.find("warning") == std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(status_without_permission_says_so) {
    // A socket only root may use, asked by another user (nobody).
    TempDir dir;
    const auto socket = dir.path() / "gatewayd.sock";
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    BOOST_REQUIRE(::listen(fd, 1) == 0);
    ::chmod(socket.c_str(), 0600);
    ::chmod(dir.path().c_str(), 0755);
    std::string out;
    const int rc = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                gatewayd_binary().string(), "status", "--socket", socket.string()},
                               out);
    ::close(fd);
    if (geteuid() != 0) {
        BOOST_TEST_MESSAGE("skipped: needs root to ask as another user");
        return;
    }
    BOOST_TEST(rc == 77, out);
    BOOST_TEST(out.find("permission denied on " + socket.string()) != std::string::npos, out);
}
