// isolation = "process": a sensor's plugin runs in a process of its own. A
// crash or a hang there ends that process only; it is started again with
// backoff, the readings it emitted before are delivered, the daemon and the
// other sensors carry on, and acks reach the plugin once readings are stored.
// Real daemon, real mosquitto, real signals.
#define BOOST_TEST_MODULE plugin_isolation
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string gateway(const TempDir& dir) {
    std::string g = gateway_section(dir, all_plugins(dir));
    g.insert(g.rfind("\n\n"), "\nplugin_timeout = \"1s\"\nshutdown_timeout = \"5s\"");
    return g;
}

std::string upstream(const Mosquitto& cloud) {
    return "[[upstream]]\nname = \"cloud\"\nurl = \"" + cloud.url() + "\"\nclient_id = \"gw-01\"\n";
}

// A healthy in-process sensor beside the isolated ones.
std::string steady_sensor() {
    return "[[sensor]]\nname = \"steady\"\nplugin = \"misbehaving\"\ninterval = \"100ms\"\n\n";
}

size_t ticks_of(const TestSubscriber& cloud, const std::string& name) {
    size_t n = 0;
    for (const auto& m : cloud.on_topic("telemetry/gw-01/tick"))
        if (m.payload.rfind(name + " ", 0) == 0) ++n;
    return n;
}

size_t count_of(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

// Plugin processes still alive that daemon `pid` started.
size_t workers_of(int daemon_pid) {
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::ifstream in(entry.path() / "cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (cmdline.find(std::string("--plugin-worker") + '\0') != std::string::npos &&
            cmdline.find(std::string(1, '\0') + std::to_string(daemon_pid) + '\0') != std::string::npos)
            ++n;
    }
    return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_plugin_that_crashes_every_100_readings_loses_none_it_emitted) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const std::string config = gateway(dir) + steady_sensor() +
                               "[[sensor]]\nname = \"crashy\"\nplugin = \"test_emitter\"\nisolation = \"process\"\n"
                               "[sensor.options]\ncount = 1000000\npayload = \"{pid}:{seq}\"\ncrash_every = 100\n\n"
                               "[[sensor]]\nname = \"acked\"\nplugin = \"test_emitter\"\nisolation = \"process\"\n"
                               "[sensor.options]\ncount = 200\nacks = true\n\n" +
                               upstream(cloud);
    GatewaydProcess gw(dir, config);
    const int daemon_pid = gw.process().pid();

    // Three crashes, each after its 100th reading; restarts in between.
    GWD_REQUIRE(eventually([&] { return count_of(gw.log(), "it had sent 100 readings") >= 3; }, 90s), gw.log());
    GWD_REQUIRE(gw.wait_for_log("its plugin process runs again", 30s), gw.log());
    BOOST_TEST(gw.process().running());
    BOOST_TEST(gw.log().find("gatewayd and every other sensor carry on; starting it again in") != std::string::npos);
    BOOST_TEST(gw.log().find("died of SIGKILL") == std::string::npos, gw.log());

    // Every reading a crashed process emitted before its crash arrives.
    const std::regex crashed(R"(\(pid (\d+)\) died of SIGSEGV[^;]*; it had sent 100 readings)");
    std::set<std::string> crashed_pids;
    const std::string log = gw.log();
    for (std::sregex_iterator it(log.begin(), log.end(), crashed), end; it != end; ++it) crashed_pids.insert((*it)[1]);
    BOOST_TEST(crashed_pids.size() >= 3u);
    auto seqs_by_pid = [&] {
        std::map<std::string, std::set<int>> seqs;
        for (const auto& m : app.on_topic("telemetry/gw-01/crashy")) {
            const auto colon = m.payload.find(':');
            if (colon != std::string::npos)
                seqs[m.payload.substr(0, colon)].insert(std::stoi(m.payload.substr(colon + 1)));
        }
        return seqs;
    };
    GWD_CHECK(eventually(
                  [&] {
                      auto seqs = seqs_by_pid();
                      for (const auto& pid : crashed_pids)
                          if (seqs[pid].size() != 100) return false;
                      return true;
                  },
                  30s),
              gw.log());
    auto seqs = seqs_by_pid();
    for (const auto& pid : crashed_pids) {
        BOOST_TEST(seqs[pid].size() == 100u, "process " << pid);
        BOOST_TEST((!seqs[pid].empty() && *seqs[pid].begin() == 0 && *seqs[pid].rbegin() == 99), "process " << pid);
    }

    // The in-process sensor kept polling throughout; status tells the story.
    const size_t steady_before = ticks_of(app, "steady");
    GWD_CHECK(eventually([&] { return ticks_of(app, "steady") >= steady_before + 10; }, 30s), gw.log());
    GWD_CHECK(eventually([&] { return std::atoi(sensor_field(dir, "crashy", "restarts").c_str()) >= 3; }, 30s),
              gw.log());
    BOOST_TEST(sensor_field(dir, "crashy", "isolation") == "process");
    BOOST_TEST(sensor_field(dir, "steady", "isolation") == "none");
    BOOST_TEST(sensor_field(dir, "steady", "state") == "running");

    // Acks cross the socket: the isolated plugin hears stored() for each reading.
    GWD_CHECK(eventually([&] { return app.on_topic("telemetry/gw-01/acked").size() >= 200; }, 30s), gw.log());
    BOOST_TEST(gw.stop(30s).value_or(-1) == 0, gw.log());
    BOOST_TEST(gw.log().find("sensor acked: acks: 200 stored, 0 dropped, 0 outstanding") != std::string::npos,
               gw.log());
    BOOST_TEST(workers_of(daemon_pid) == 0u);
    size_t delivered = 0;
    for (const auto& pid : crashed_pids) delivered += seqs[pid].size();
    BOOST_TEST_MESSAGE("isolation = \"process\", SIGSEGV after every 100 readings: "
                       << crashed_pids.size() << " crashes, " << delivered << " of " << crashed_pids.size() * 100
                       << " readings emitted before them delivered; in-process sensor: " << ticks_of(app, "steady")
                       << " ticks; acks: 200 stored");
}

BOOST_AUTO_TEST_CASE(a_plugin_that_hangs_in_poll_is_killed_and_started_again) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway(dir) + steady_sensor() +
                                "[[sensor]]\nname = \"hangs\"\nplugin = \"misbehaving\"\ninterval = \"100ms\"\n"
                                "isolation = \"process\"\n[sensor.options]\nhang_in = \"poll\"\nhang_after = 3\n\n" +
                                upstream(cloud));
    const int daemon_pid = gw.process().pid();

    // Its poll overstays plugin_timeout (1 s): the process is killed, twice.
    GWD_REQUIRE(eventually([&] { return count_of(gw.log(), "was killed: poll() has not returned for") >= 2; }, 90s),
                gw.log());
    GWD_REQUIRE(gw.wait_for_log("its plugin process runs again", 30s), gw.log());
    BOOST_TEST(gw.process().running());
    // Each process polled (3 ticks) before it hung; all of them arrived.
    GWD_CHECK(eventually([&] { return ticks_of(app, "hangs") >= 6; }, 30s), gw.log());
    const size_t steady_before = ticks_of(app, "steady");
    GWD_CHECK(eventually([&] { return ticks_of(app, "steady") >= steady_before + 10; }, 30s), gw.log());
    GWD_CHECK(eventually([&] { return std::atoi(sensor_field(dir, "hangs", "restarts").c_str()) >= 2; }, 30s),
              gw.log());
    std::string out;
    BOOST_TEST(
        run_command({gatewayd_binary().string(), "status", "--socket", (dir.path() / "run" / "gatewayd.sock").string()},
                    out, 10s) == 0);
    BOOST_TEST(out.find("sensor hangs (misbehaving): ") != std::string::npos, out);
    BOOST_TEST(out.find("in its own process (") != std::string::npos, out);

    // A stop while a process hangs is bounded and leaves no process behind.
    const auto stopping = Clock::now();
    BOOST_TEST(gw.stop(30s).value_or(-1) == 0, gw.log());
    const double seconds = std::chrono::duration<double>(Clock::now() - stopping).count();
    BOOST_TEST(seconds < 5.0 + 5.0);
    BOOST_TEST(workers_of(daemon_pid) == 0u);
    BOOST_TEST(gw.log().find("exiting now, leaving") == std::string::npos, gw.log());
    BOOST_TEST_MESSAGE("isolation = \"process\", poll() hangs after 3 polls: "
                       << count_of(gw.log(), "was killed: poll() has not returned for") << " processes killed, "
                       << ticks_of(app, "hangs") << " of their ticks delivered; in-process sensor: "
                       << ticks_of(app, "steady") << " ticks; stop took " << seconds << " s");
}

BOOST_AUTO_TEST_CASE(plugin_processes_end_with_a_daemon_killed_by_sigkill) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway(dir) +
                                "[[sensor]]\nname = \"polled\"\nplugin = \"misbehaving\"\ninterval = \"100ms\"\n"
                                "isolation = \"process\"\n\n"
                                "[[sensor]]\nname = \"stuck\"\nplugin = \"misbehaving\"\ninterval = \"100ms\"\n"
                                "isolation = \"process\"\n[sensor.options]\nhang_in = \"poll\"\nhang_after = 1\n\n" +
                                upstream(cloud));
    const int daemon_pid = gw.process().pid();
    GWD_REQUIRE(eventually([&] { return ticks_of(app, "polled") >= 3 && ticks_of(app, "stuck") >= 1; }, 30s), gw.log());
    BOOST_TEST(workers_of(daemon_pid) == 2u);
    gw.process().signal(SIGKILL);
    gw.process().wait(10s);
    // Each process reads its socket on a thread the plugin never holds, so
    // even the one whose poll() hangs sees the daemon go.
    BOOST_TEST(eventually([&] { return workers_of(daemon_pid) == 0; }, 10s));
    BOOST_TEST_MESSAGE("kill -9 of gatewayd: both plugin processes (one hung in poll) exited; "
                       << workers_of(daemon_pid) << " left");
}
