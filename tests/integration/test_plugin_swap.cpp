// Hot-loading: a plugin file replaced under the running daemon is loaded as
// a new image beside the old one, checked, and swapped in for the sensors of
// that plugin only; a version that is refused (wrong ABI, options refused,
// start fails, a file cut short) leaves the running one forwarding, and
// status says which version was refused and why. The `swappable` test plugin
// comes in several builds (tests/plugins/swappable.c); every reading names
// the version that emitted it.
#define BOOST_TEST_MODULE plugin_swap
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "arrivals.h"
#include "gatewayd/plugin.h"
#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

fs::path build_of(const std::string& variant) { return test_plugin_dir() / "swap" / ("swappable_" + variant + ".so"); }

// A plugin directory with version 1 of swappable and the simulated plugin.
fs::path plugin_dir(const TempDir& dir) {
    const fs::path plugins = dir.path() / "plugins";
    fs::create_directories(plugins);
    fs::copy_file(build_of("v1"), plugins / "swappable.so");
    fs::copy_file(bundled_plugin_dir() / "simulated.so", plugins / "simulated.so");
    return plugins;
}

// As packages do it: a new file renamed over the old one.
void install(const fs::path& plugins, const std::string& variant) {
    fs::copy_file(build_of(variant), plugins / "swappable.so.new", fs::copy_options::overwrite_existing);
    fs::rename(plugins / "swappable.so.new", plugins / "swappable.so");
}

std::string bytes_of(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// As a slow copy does it: the file rewritten in place, here only `bytes`.
void write_in_place(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string config(const TempDir& dir, const fs::path& plugins) {
    return gateway_section(dir, plugins) +
           "[[sensor]]\nname = \"sw\"\nplugin = \"swappable\"\ninterval = \"100ms\"\n"
           "[sensor.options]\nlabel = \"s\"\n\n"
           "[[sensor]]\nname = \"sim\"\nplugin = \"simulated\"\ninterval = \"100ms\"\n"
           "[sensor.options]\ndevices = [\"plain\"]\nnames = [\"other\"]\n\n";
}

std::string upstream(const Mosquitto& cloud) {
    return "[[upstream]]\nname = \"cloud\"\nurl = \"" + cloud.url() + "\"\nclient_id = \"gw-01\"\n";
}

// Readings of swappable `version` that reached the cloud.
size_t readings_of(const TestSubscriber& cloud, const std::string& version) {
    size_t n = 0;
    for (const auto& m : cloud.on_topic("telemetry/gw-01/swap"))
        if (m.payload.rfind("s " + version + " ", 0) == 0) ++n;
    return n;
}

size_t other_readings(const TestSubscriber& cloud) { return cloud.on_topic("telemetry/gw-01/other").size(); }

// Both sensors keep forwarding: `version` of swappable and the simulated one.
bool both_forward(const TestSubscriber& cloud, const std::string& version) {
    const size_t mine = readings_of(cloud, version), other = other_readings(cloud);
    return eventually([&] { return readings_of(cloud, version) >= mine + 3 && other_readings(cloud) >= other + 3; },
                      30s);
}

// A cloud broker and a subscriber on it, a plugin directory with version 1
// of swappable and the simulated plugin, and the daemon once started.
struct SwapRig {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app{cloud.url(), {"telemetry/#"}};
    fs::path plugins = plugin_dir(dir);
    std::optional<GatewaydProcess> daemon;

    GatewaydProcess& start() { return daemon.emplace(dir, config(dir, plugins) + upstream(cloud)); }
};

// Field `key` of plugin `name` in the status's "plugins" list, as text.
std::string plugin_field(const TempDir& dir, const std::string& name, const std::string& key) {
    return status_field(dir, "plugins", name, key);
}

// The poll numbers of swappable `version` that reached `cloud`, by the
// process id of the daemon that emitted them ("s 1.0.0 <n> <pid>").
std::map<long, std::set<long>> numbers_by_run(const TestSubscriber& cloud, const std::string& version) {
    std::map<long, std::set<long>> runs;
    for (const auto& m : cloud.on_topic("telemetry/gw-01/swap")) {
        long n = 0, pid = 0;
        if (m.payload.rfind("s " + version + " ", 0) != 0) continue;
        if (std::sscanf(m.payload.c_str() + 3 + version.size(), "%ld %ld", &n, &pid) == 2) runs[pid].insert(n);
    }
    return runs;
}

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_replaced_plugin_runs_its_new_version_and_nothing_else_stops, SwapRig) {
    GatewaydProcess& gw = start();
    BOOST_REQUIRE_MESSAGE(both_forward(app, "1.0.0"), gw.log());
    BOOST_TEST(sensor_field(dir, "sw", "plugin_version").rfind("1.0.0 (sha256 ", 0) == 0u,
               sensor_field(dir, "sw", "plugin_version"));
    const std::string sha_before = plugin_field(dir, "swappable", "sha256");
    BOOST_TEST(sha_before.size() == 64u, sha_before);

    const size_t other_before = other_readings(app);
    install(plugins, "v2");
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("plugin swappable: now version 2.0.0", 30s), gw.log());
    BOOST_REQUIRE_MESSAGE(both_forward(app, "2.0.0"), gw.log());
    BOOST_TEST(sensor_field(dir, "sw", "plugin_version").rfind("2.0.0 ", 0) == 0u);
    BOOST_TEST(sensor_field(dir, "sw", "plugin_note") == "");
    BOOST_TEST(gw.log().find("(was 1.0.0 (sha256 ") != std::string::npos, gw.log());
    // The plugins section of status: what runs, from which file, for whom.
    BOOST_TEST(plugin_field(dir, "swappable", "version") == "2.0.0");
    BOOST_TEST(plugin_field(dir, "swappable", "abi_version") == std::to_string(GWD_PLUGIN_ABI_VERSION));
    BOOST_TEST(plugin_field(dir, "swappable", "path") == (plugins / "swappable.so").string());
    BOOST_TEST(plugin_field(dir, "swappable", "sensors") == "sw");
    BOOST_TEST(plugin_field(dir, "swappable", "note") == "(null)");
    const std::string sha_after = plugin_field(dir, "swappable", "sha256");
    BOOST_TEST((sha_after.size() == 64u && sha_after != sha_before), sha_after);
    BOOST_TEST(plugin_field(dir, "simulated", "sensors") == "sim");
    const std::string log = gw.log();
    const size_t at = log.find("plugin swappable: now version 2.0.0");
    BOOST_TEST_MESSAGE(log.substr(at, log.find('\n', at) - at));
    // The simulated sensor was never restarted.
    BOOST_TEST(count(gw.log(), "sensor 'sim' started") == 1u, gw.log());
    BOOST_TEST(other_readings(app) > other_before);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
    // Each image was a private copy, removed once unloaded.
    BOOST_TEST(fs::is_empty(dir.path() / "state" / "plugin-images"));
}

BOOST_FIXTURE_TEST_CASE(a_refused_version_leaves_the_running_one_forwarding, SwapRig) {
    GatewaydProcess& gw = start();
    BOOST_REQUIRE_MESSAGE(both_forward(app, "1.0.0"), gw.log());

    struct Case {
        std::string variant, why;
    };
    const Case cases[] = {
        {"badabi", "it was built for plugin ABI version 99"},
        {"noopt", "plugin 'swappable' has no option 'label'"},
        {"nostart", "sensor 'sw' did not start with it"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.variant) {
            const size_t refusals = count(gw.log(), "keeps running");
            install(plugins, c.variant);
            BOOST_REQUIRE_MESSAGE(eventually([&] { return count(gw.log(), "keeps running") > refusals; }, 30s),
                                  gw.log());
            BOOST_TEST(gw.log().find(c.why) != std::string::npos, gw.log());
            const std::string note = sensor_field(dir, "sw", "plugin_note");
            BOOST_TEST(note.find(c.why) != std::string::npos, note);
            BOOST_TEST(note.find("version 1.0.0 (sha256 ") != std::string::npos, note);
            BOOST_TEST(plugin_field(dir, "swappable", "note") == note);
            BOOST_TEST(plugin_field(dir, "swappable", "version") == "1.0.0");
            BOOST_TEST(sensor_field(dir, "sw", "state") == "running");
            BOOST_TEST(both_forward(app, "1.0.0"), gw.log());
        }
    }
    BOOST_TEST(readings_of(app, "3.0.0") == 0u);

    // A file cut short (a copy in progress) is refused, not loaded; once
    // whole, it runs.
    const std::string v2 = bytes_of(build_of("v2"));
    const size_t refusals = count(gw.log(), "keeps running");
    write_in_place(plugins / "swappable.so", v2.substr(0, v2.size() / 2));
    BOOST_REQUIRE_MESSAGE(eventually([&] { return count(gw.log(), "keeps running") > refusals; }, 30s), gw.log());
    BOOST_TEST(gw.log().find("still being copied?") != std::string::npos, gw.log());
    BOOST_TEST(both_forward(app, "1.0.0"), gw.log());
    write_in_place(plugins / "swappable.so", v2);
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("plugin swappable: now version 2.0.0", 30s), gw.log());
    BOOST_TEST(both_forward(app, "2.0.0"), gw.log());
    BOOST_TEST(sensor_field(dir, "sw", "plugin_note") == "");
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_FIXTURE_TEST_CASE(a_removed_plugin_file_stops_nothing, SwapRig) {
    GatewaydProcess& gw = start();
    BOOST_REQUIRE_MESSAGE(both_forward(app, "1.0.0"), gw.log());
    fs::remove(plugins / "swappable.so");
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("was removed; the sensors keep running", 30s), gw.log());
    BOOST_TEST(sensor_field(dir, "sw", "plugin_note").find("was removed") != std::string::npos);
    BOOST_TEST(both_forward(app, "1.0.0"), gw.log());
    // Put back, it runs on as it was (same code: nothing to swap).
    install(plugins, "v1");
    BOOST_TEST(eventually([&] { return sensor_field(dir, "sw", "plugin_note").empty(); }, 30s),
               sensor_field(dir, "sw", "plugin_note"));
    BOOST_TEST(both_forward(app, "1.0.0"), gw.log());
    BOOST_TEST(gw.log().find("now version") == std::string::npos, gw.log());
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_FIXTURE_TEST_CASE(a_plugin_file_that_appears_starts_the_sensor_that_lacked_it, SwapRig) {
    fs::remove(plugins / "swappable.so");
    GatewaydProcess& gw = start();
    BOOST_REQUIRE_MESSAGE(eventually([&] { return other_readings(app) >= 3; }, 30s), gw.log());
    BOOST_TEST(sensor_field(dir, "sw", "state") == "failed");
    install(plugins, "v2");
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("plugin swappable: now version 2.0.0", 30s), gw.log());
    BOOST_TEST(both_forward(app, "2.0.0"), gw.log());
    BOOST_TEST(sensor_field(dir, "sw", "state") == "running");
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

// A new version that crashes gatewayd right after its swap: the daemon dies,
// is started again (the test plays systemd's part), runs the version before
// it, and says the new one is quarantined; what was queued before the crash
// is delivered. The quarantined file is tried again only once it changes.
BOOST_FIXTURE_TEST_CASE(a_version_that_crashes_after_its_swap_is_quarantined_and_the_one_before_runs, SwapRig) {
    GatewaydProcess& first = start();
    BOOST_REQUIRE_MESSAGE(both_forward(app, "1.0.0"), first.log());
    const long first_pid = first.process().pid();
    // The cloud goes away: readings queue on disk, then the crash comes.
    cloud.stop();
    const auto accepted = [&] { return std::stol("0" + sensor_field(dir, "sw", "accepted")); };
    const long queued_from = accepted();
    BOOST_REQUIRE_MESSAGE(eventually([&] { return accepted() >= queued_from + 5; }, 30s), first.log());
    const long accepted_before_swap = accepted();
    install(plugins, "crash");
    BOOST_REQUIRE_MESSAGE(first.process().wait(30s).value_or(-1) == 128 + SIGSEGV, first.log());
    BOOST_TEST(first.log().find("fatal signal SIGSEGV (address 0x0) in sensor 'sw' (plugin swappable) during poll()") !=
                   std::string::npos,
               first.log());

    cloud.start();
    TestSubscriber later(cloud.url(), {"telemetry/#"});
    GatewaydProcess& gw = daemon.emplace(dir, config(dir, plugins) + upstream(cloud), "after-crash");
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("plugin swappable: QUARANTINED version 3.0.0 (sha256 ", 30s), gw.log());
    BOOST_TEST(gw.log().find("it crashed gatewayd (SIGSEGV in poll() of sensor 'sw') ") != std::string::npos, gw.log());
    BOOST_REQUIRE_MESSAGE(both_forward(later, "1.0.0"), gw.log());
    BOOST_TEST(readings_of(later, "3.0.0") == 0u);
    BOOST_TEST(plugin_field(dir, "swappable", "version") == "1.0.0");
    const std::string note = plugin_field(dir, "swappable", "note");
    BOOST_TEST(note.find("version 3.0.0 (sha256 ") == 0u, note);
    BOOST_TEST(note.find("is quarantined: it crashed gatewayd") != std::string::npos, note);
    BOOST_TEST(note.find("the version that ran before it runs instead") != std::string::npos, note);
    BOOST_TEST(sensor_field(dir, "sw", "plugin_note") == note);
    BOOST_TEST(sensor_field(dir, "sw", "state") == "running");

    // Every reading the first run stored arrived: before the outage or after
    // the restart, none missing.
    const auto delivered = [&] {
        std::set<long> all = numbers_by_run(app, "1.0.0")[first_pid];
        const std::set<long> after_restart = numbers_by_run(later, "1.0.0")[first_pid];
        all.insert(after_restart.begin(), after_restart.end());
        return all;
    };
    BOOST_REQUIRE_MESSAGE(
        eventually([&] { return static_cast<long>(delivered().size()) >= accepted_before_swap; }, 30s), gw.log());
    const std::set<long> first_run = delivered();
    BOOST_TEST(*first_run.begin() == 0);
    BOOST_TEST(*first_run.rbegin() + 1 == static_cast<long>(first_run.size()), "gaps in the first run's readings");
    BOOST_TEST_MESSAGE("first run: " << first_run.size() << " readings delivered, " << accepted_before_swap
                                     << " stored before the swap");

    // The same crashing file again is not loaded; a new one is.
    install(plugins, "crash");
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("still holds the quarantined version 3.0.0", 30s), gw.log());
    install(plugins, "v2");
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("plugin swappable: now version 2.0.0 (sha256 ", 30s), gw.log());
    BOOST_TEST(both_forward(later, "2.0.0"), gw.log());
    BOOST_TEST(plugin_field(dir, "swappable", "note") == "(null)");
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

// A polled plugin swapped: the new version polls as soon as it starts, so
// at most one poll interval is missed (here 1 s, against a swap of a few ms).
BOOST_AUTO_TEST_CASE(a_polled_plugin_swap_misses_at_most_one_interval) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const fs::path plugins = plugin_dir(dir);
    GatewaydProcess gw(dir, gateway_section(dir, plugins) +
                                "[[sensor]]\nname = \"sw\"\nplugin = \"swappable\"\ninterval = \"1s\"\n\n" +
                                upstream(cloud));
    BOOST_REQUIRE_MESSAGE(eventually([&] { return readings_of(app, "1.0.0") >= 2; }, 30s), gw.log());
    install(plugins, "v2");
    BOOST_REQUIRE_MESSAGE(eventually([&] { return readings_of(app, "2.0.0") >= 2; }, 30s), gw.log());
    // Poll times (ms) from the payloads: the last of 1.0.0, the first of 2.0.0.
    long long last_v1 = 0, first_v2 = 0;
    for (const auto& m : app.on_topic("telemetry/gw-01/swap")) {
        long long n = 0, pid = 0, ms = 0;
        char version[16] = {0};
        if (std::sscanf(m.payload.c_str(), "s %15s %lld %lld %lld", version, &n, &pid, &ms) != 4) continue;
        if (std::string(version) == "1.0.0") last_v1 = std::max(last_v1, ms);
        if (std::string(version) == "2.0.0" && first_v2 == 0) first_v2 = ms;
    }
    const long long gap = first_v2 - last_v1;
    const long long missed = std::max(0LL, gap / 1000 - (gap % 1000 == 0 ? 1 : 0));
    BOOST_TEST_MESSAGE("polled swap (interval 1 s): " << gap << " ms between the last poll of 1.0.0 and the first of "
                                                      << "2.0.0, " << missed << " interval(s) missed");
    BOOST_TEST(gap > 0);
    BOOST_TEST(missed <= 1);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

// mqtt_local swapped while 1,000 readings a second flow through it: nothing
// lost, order kept, duplicates at most the messages in flight from the local
// broker (receive_maximum). The new build is the same code with other bytes
// (a rebuild): what is tested is the swap, not the code.
BOOST_AUTO_TEST_CASE(mqtt_local_swapped_under_a_thousand_readings_a_second_loses_nothing) {
    TempDir dir;
    Mosquitto local;
    Mosquitto cloud;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const fs::path plugins = dir.path() / "plugins";
    fs::create_directories(plugins);
    fs::copy_file(bundled_plugin_dir() / "mqtt_local.so", plugins / "mqtt_local.so");
    constexpr int kWindow = 100;
    GatewaydProcess gw(
        dir, gateway_section(dir, plugins) +
                 "[[sensor]]\nname = \"field\"\nplugin = \"mqtt_local\"\n[sensor.options]\nurl = \"" + local.url() +
                 "\"\ntopics = [\"sensors/#\"]\nname_from = \"sensor\"\nreceive_maximum = " + std::to_string(kWindow) +
                 "\n\n" + upstream(cloud));
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("subscribed to 1 topic filters", 30s), gw.log());

    constexpr int n = 6000;  // six seconds at 1,000 a second
    std::atomic<int> published{0};
    std::thread sensors([&] {
        TestPublisher publisher(local.url());
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) {
            publisher.publish("sensors/gw-01/field", std::to_string(i));
            ++published;
            if (i % 10 == 9) std::this_thread::sleep_until(start + std::chrono::milliseconds(i + 1));
        }
    });
    Arrivals arrivals(app, n);
    // The swap comes once readings flow upstream.
    const bool flowing = eventually([&] { return arrivals.update().unique() >= 1500; }, 60s);
    if (flowing) {
        std::string bytes = bytes_of(bundled_plugin_dir() / "mqtt_local.so");
        bytes += "rebuilt";  // past the ELF's last section: another file, the same code
        write_in_place(plugins / "mqtt_local.so.new", bytes);
        fs::permissions(plugins / "mqtt_local.so.new", fs::perms::owner_all | fs::perms::group_read |
                                                           fs::perms::group_exec | fs::perms::others_read |
                                                           fs::perms::others_exec);
        fs::rename(plugins / "mqtt_local.so.new", plugins / "mqtt_local.so");
    }
    const size_t at_swap = arrivals.unique();
    const int published_at_swap = published.load();
    sensors.join();
    BOOST_REQUIRE_MESSAGE(flowing, gw.log());
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("plugin mqtt_local: now version", 30s), gw.log());
    BOOST_REQUIRE_MESSAGE(eventually([&] { return arrivals.update().all(); }, 60s), "missing: " << arrivals.missing()
                                                                                                << "\n"
                                                                                                << gw.log());
    const std::string log = gw.log();
    const size_t took = log.find("the swap took ", log.find("plugin mqtt_local: now version"));
    const std::string swap_ms =
        took == std::string::npos ? "?" : log.substr(took + 14, log.find(' ', took + 14) - took - 14);
    BOOST_TEST_MESSAGE("mqtt_local swapped at 1,000 readings/s (after "
                       << published_at_swap << " published, " << at_swap << " forwarded): sent " << n << ", received "
                       << arrivals.unique() << " distinct, lost " << n - static_cast<int>(arrivals.unique())
                       << ", duplicates " << arrivals.duplicates() << ", swap " << swap_ms << " ms");
    BOOST_TEST(arrivals.in_order());
    BOOST_TEST(arrivals.duplicates() <= static_cast<size_t>(kWindow));
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}
