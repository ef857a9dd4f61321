// No plugin can take the gateway down: one that hangs, crashes, floods or
// lies in its log is contained and named, and the other sensors and the
// upstream keep working. Each case runs the real daemon with the
// `misbehaving` test plugin next to healthy sensors (one of them mqtt_local
// on a real local broker).
#define BOOST_TEST_MODULE plugin_containment
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <fstream>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;

#ifdef GWD_SANITIZED
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
using Clock = std::chrono::steady_clock;

namespace {

// The [gateway] of the tests, with a short plugin_timeout and shutdown_timeout.
// Each call copies the plugins into the test's own directory.
std::string gateway(const TempDir& dir) {
    std::string g = gateway_section(dir, all_plugins(dir));
    g.insert(g.rfind("\n\n"), "\nplugin_timeout = \"1s\"\nshutdown_timeout = \"2s\"");
    return g;
}

std::string sensor(const std::string& name, const std::string& options = "",
                   const std::string& plugin = "misbehaving") {
    return "[[sensor]]\nname = \"" + name + "\"\nplugin = \"" + plugin + "\"\ninterval = \"100ms\"\n" +
           (options.empty() ? "" : "[sensor.options]\n" + options + "\n") + "\n";
}

std::string local_sensor(const Mosquitto& local) {
    return "[[sensor]]\nname = \"field\"\nplugin = \"mqtt_local\"\n[sensor.options]\nurl = \"" + local.url() +
           "\"\ntopics = [\"sensors/#\"]\n\n";
}

std::string upstream(const Mosquitto& cloud) {
    return "[[upstream]]\nname = \"cloud\"\nurl = \"" + cloud.url() + "\"\nclient_id = \"gw-01\"\n";
}

// How many ticks of sensor `name` reached the cloud.
size_t ticks_of(const TestSubscriber& cloud, const std::string& name) {
    size_t n = 0;
    for (const auto& m : cloud.on_topic("telemetry/gw-01/tick"))
        if (m.payload.rfind(name + " ", 0) == 0) ++n;
    return n;
}

// A plugin file replaced the way packages do it: a new file renamed over it.
void replace_plugin_file(const std::filesystem::path& plugins, const std::string& name) {
    const auto file = plugins / (name + ".so");
    const auto fresh = plugins / (name + ".so.new");
    std::filesystem::copy_file(test_plugin_dir() / (name + ".so"), fresh,
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(fresh, file);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_poll_that_never_returns_holds_up_nothing_else) {
    Mosquitto local, cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const std::string healthy = gateway(dir) + sensor("steady") + local_sensor(local) + upstream(cloud);
    GatewaydProcess gw(dir, healthy + sensor("stuck", "hang_in = \"poll\"\nhang_after = 2"));

    // Stuck: reported in the log and in status, with the call and its age.
    GWD_REQUIRE(gw.wait_for_log("sensor stuck: stuck: poll() has not returned for", 30s), gw.log());
    BOOST_TEST(sensor_field(dir, "stuck", "state") == "stuck");
    BOOST_TEST(sensor_field(dir, "stuck", "error").find("poll() has not returned for") == 0u);
    BOOST_TEST(sensor_field(dir, "steady", "state") == "running");

    // The other polled sensor keeps its interval; mqtt_local keeps forwarding.
    const size_t steady_before = ticks_of(app, "steady");
    GWD_CHECK(eventually([&] { return ticks_of(app, "steady") >= steady_before + 20; }, 30s), gw.log());
    TestPublisher sensors(local.url());
    sensors.publish("sensors/gw-01/s1", "21.5");
    GWD_CHECK(eventually([&] { return !app.on_topic("telemetry/gw-01/s1").empty(); }, 15s), gw.log());

    // A reload that removes it completes, abandoning the stuck thread.
    dir.write("gatewayd.toml", healthy);
    gw.process().signal(SIGHUP);
    GWD_REQUIRE(gw.wait_for_log("configuration reloaded", 30s), gw.log());
    BOOST_TEST(gw.log().find("sensors 2 kept, 0 restarted, 0 added, 1 removed") != std::string::npos, gw.log());
    BOOST_TEST(gw.log().find("poll() did not return within") != std::string::npos, gw.log());
    BOOST_TEST(sensor_field(dir, "stuck", "state") == "(no sensor)");
    const size_t steady_after_reload = ticks_of(app, "steady");
    GWD_CHECK(eventually([&] { return ticks_of(app, "steady") >= steady_after_reload + 10; }, 30s), gw.log());

    // Stop is bounded: shutdown_timeout (2 s) and a margin.
    const auto stopping = Clock::now();
    const auto code = gw.stop(30s);
    const double seconds = std::chrono::duration<double>(Clock::now() - stopping).count();
    BOOST_TEST(code.value_or(-1) == 0, gw.log());
    BOOST_TEST(seconds < 2.0 + 5.0);
    BOOST_TEST_MESSAGE("a poll() that never returns: reported stuck, "
                       << ticks_of(app, "steady")
                       << " ticks of the other sensor delivered, reload "
                          "removed it, stop took "
                       << seconds << " s");
}

BOOST_AUTO_TEST_CASE(stop_is_bounded_whatever_the_plugins_do) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway(dir) + sensor("in_poll", "hang_in = \"poll\"\nhang_after = 1") +
                                sensor("in_stop", "hang_in = \"stop\"") +
                                sensor("in_destroy", "hang_in = \"destroy\"") + sensor("steady") + upstream(cloud));
    GWD_REQUIRE(gw.wait_for_log("sensor in_poll: stuck: poll() has not returned", 30s), gw.log());
    GWD_REQUIRE(eventually([&] { return ticks_of(app, "in_stop") >= 3 && ticks_of(app, "steady") >= 3; }, 30s),
                gw.log());
    // The status socket answers while a sensor is stuck.
    std::string out;
    BOOST_TEST(
        run_command({gatewayd_binary().string(), "status", "--socket", (dir.path() / "run" / "gatewayd.sock").string()},
                    out, 10s) == 0);
    BOOST_TEST(out.find("sensor in_poll (misbehaving): stuck (poll() has not returned for") != std::string::npos, out);

    const auto stopping = Clock::now();
    const auto code = gw.stop(30s);
    const double seconds = std::chrono::duration<double>(Clock::now() - stopping).count();
    BOOST_TEST(code.value_or(-1) == 0, gw.log());
    BOOST_TEST(seconds < 2.0 + 5.0, gw.log());
    BOOST_TEST(gw.log().find("did not return by the stop deadline") != std::string::npos, gw.log());
    BOOST_TEST(gw.log().find("exiting now, leaving") != std::string::npos, gw.log());
    BOOST_TEST_MESSAGE("poll(), stop() and destroy() that never return: SIGTERM to exit took "
                       << seconds << " s (shutdown_timeout 2 s)");
}

BOOST_AUTO_TEST_CASE(a_plugin_that_crashes_the_daemon_is_named_then_quarantined) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const std::filesystem::path plugins = all_plugins(dir);
    const std::string crashing =
        gateway(dir) + sensor("crasher", "crash_in = \"poll\"") + sensor("steady") + upstream(cloud);

    // Twice: the daemon dies of the signal, and says who did it.
    for (int run = 1; run <= 2; ++run) {
        GatewaydProcess gw(dir, crashing, "crash-" + std::to_string(run));
        const auto code = gw.process().wait(30s);
        BOOST_TEST(code.value_or(-1) == 128 + SIGSEGV, gw.log());
        BOOST_TEST(gw.log().find("fatal signal SIGSEGV (address 0x0) in sensor 'crasher' (plugin misbehaving) during "
                                 "poll(); gatewayd stops") != std::string::npos,
                   gw.log());
    }
    // The third start leaves it disabled, and everything else comes up.
    {
        GatewaydProcess gw(dir, crashing, "quarantine");
        GWD_REQUIRE(eventually([&] { return ticks_of(app, "steady") >= 5; }, 30s), gw.log());
        BOOST_TEST(gw.process().running());
        BOOST_TEST(sensor_field(dir, "crasher", "state") == "quarantined");
        BOOST_TEST(sensor_field(dir, "crasher", "error")
                           .find("quarantined: its plugin crashed gatewayd 2 times, twice "
                                 "within") == 0u,
                   sensor_field(dir, "crasher", "error"));
        BOOST_TEST(gw.log().find("sensor 'crasher' disabled: quarantined") != std::string::npos, gw.log());

        // A new plugin file lifts the quarantine at once: it is tried again
        // (and, being the same code, crashes again).
        replace_plugin_file(plugins, "misbehaving");
        const auto code = gw.process().wait(30s);
        BOOST_TEST(code.value_or(-1) == 128 + SIGSEGV, gw.log());
        BOOST_TEST(gw.log().find("changed; trying it again") != std::string::npos, gw.log());
    }
    // A changed [[sensor]] block runs at once, quarantine or not.
    {
        GatewaydProcess gw(
            dir, gateway(dir) + sensor("crasher", "forge_log = false") + sensor("steady") + upstream(cloud), "fixed");
        GWD_REQUIRE(eventually([&] { return ticks_of(app, "crasher") >= 3; }, 30s), gw.log());
        BOOST_TEST(sensor_field(dir, "crasher", "state") == "running");
        BOOST_TEST(gw.stop().value_or(-1) == 0);
    }
}

BOOST_AUTO_TEST_CASE(crashes_in_start_and_on_a_plugin_thread_are_named) {
    TempDir dir;
    Mosquitto cloud;
    {
        GatewaydProcess gw(dir, gateway(dir) + sensor("early", "crash_in = \"start\"") + upstream(cloud), "start");
        BOOST_TEST(gw.process().wait(30s).value_or(-1) == 128 + SIGSEGV, gw.log());
        BOOST_TEST(gw.log().find("in sensor 'early' (plugin misbehaving) during start()") != std::string::npos,
                   gw.log());
    }
    {
        GatewaydProcess gw(dir, gateway(dir) + sensor("threaded", "crash_in = \"thread\"") + upstream(cloud), "thread");
        BOOST_TEST(gw.process().wait(30s).value_or(-1) == 128 + SIGSEGV, gw.log());
        BOOST_TEST(gw.log().find("fatal signal SIGSEGV (address 0x0) in plugin misbehaving (sensors: 'threaded')") !=
                       std::string::npos,
                   gw.log());
    }
}

BOOST_AUTO_TEST_CASE(a_reading_of_a_terabyte_is_refused_and_counted) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway(dir) + sensor("flood", "huge_emit = true") + sensor("steady") + upstream(cloud));
    GWD_REQUIRE(gw.wait_for_log("huge emit returned -2", 30s), gw.log());  // GWD_ERR_INVALID
    BOOST_TEST(gw.log().find(
                   "reading refused: its payload of 1099511627776 bytes is larger than max_reading_size (1.0 MiB)") !=
                   std::string::npos,
               gw.log());
    BOOST_TEST(sensor_field(dir, "flood", "oversized") == "1");
    GWD_CHECK(eventually([&] { return ticks_of(app, "steady") >= 5 && ticks_of(app, "flood") >= 5; }, 30s), gw.log());
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(a_plugin_cannot_forge_log_lines) {
    Mosquitto cloud;
    TempDir dir;
    GatewaydProcess gw(dir, gateway(dir) + sensor("liar", "forge_log = true") + upstream(cloud));
    GWD_REQUIRE(gw.wait_for_log("innocent", 30s), gw.log());
    const std::string log = gw.log();
    BOOST_TEST(log.find("innocent\\n2026-01-01T00:00:00.000Z error gatewayd: forged line \\x1b[31mred\\x1b[0m") !=
                   std::string::npos,
               log);
    BOOST_TEST(log.find("\n2026-01-01T00:00:00.000Z") == std::string::npos);
    BOOST_TEST(log.find('\x1b') == std::string::npos);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

namespace {
long rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_large_local_message_leaves_no_memory_behind_and_a_larger_one_never_arrives) {
    Mosquitto local, cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway(dir) + local_sensor(local) + upstream(cloud));
    GWD_REQUIRE(gw.wait_for_log("subscribed to 1 topic filters", 20s), gw.log());
    TestPublisher sensors(local.url());
    auto arrived = [&](const std::string& topic, size_t n) {
        return eventually([&] { return app.on_topic(topic).size() >= n; }, 30s);
    };
    // Warm up: the paths a reading takes have done their first allocations.
    for (int i = 0; i < 20; ++i) sensors.publish("sensors/gw-01/small", std::to_string(i));
    GWD_REQUIRE(arrived("telemetry/gw-01/small", 20), gw.log());
    const long before = rss_kib(gw.process().pid());

    // Just under the default max_packet_size (1 MiB): taken, and given back.
    sensors.publish("sensors/gw-01/large", std::string(900 * 1024, 'x'));
    sensors.publish("sensors/gw-01/small", "after");
    GWD_REQUIRE(arrived("telemetry/gw-01/large", 1) && arrived("telemetry/gw-01/small", 21), gw.log());
    const long after = rss_kib(gw.process().pid());
    // Under AddressSanitizer freed memory sits in its quarantine: RSS says nothing there.
    constexpr long kRssSlack = kSanitized ? 1L << 30 : 1024;
    BOOST_TEST(after - before <= kRssSlack, "RSS " << before << " KiB before, " << after << " KiB after");

    // Over it: an MQTT 5 broker must not send it at all (Maximum Packet Size).
    sensors.publish("sensors/gw-01/huge", std::string(5 * 1024 * 1024, 'y'));
    sensors.publish("sensors/gw-01/small", "last");
    GWD_REQUIRE(arrived("telemetry/gw-01/small", 22), gw.log());
    BOOST_TEST(app.on_topic("telemetry/gw-01/huge").empty());
    BOOST_TEST(gw.process().running());
    BOOST_TEST(rss_kib(gw.process().pid()) - before <= kRssSlack);
    BOOST_TEST_MESSAGE("RSS " << before << " KiB before a 900 KiB local message, " << after
                              << " KiB after; a 5 MiB one was never sent to gatewayd (" << rss_kib(gw.process().pid())
                              << " KiB)");
}
