// gatewayd as systemd sees it, with the test playing systemd's side of
// sd_notify (NOTIFY_SOCKET, WATCHDOG_USEC): READY=1 once started,
// RELOADING=1 then READY=1 around a reload, STOPPING=1 at the end, and with
// WatchdogSec= a WATCHDOG=1 at least every half interval while every watched
// thread moves, a plugin stuck in poll() included (it is contained, not a
// reason to restart the service).
#define BOOST_TEST_MODULE service_protocol
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <thread>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "notify_socket.h"

using namespace gwd;
using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

std::string config(const TempDir& dir, const Mosquitto& cloud) {
    std::string g = gateway_section(dir, all_plugins(dir));
    g.insert(g.rfind("\n\n"), "\nplugin_timeout = \"1s\"\nshutdown_timeout = \"2s\"");
    return g + R"(
[[sensor]]
name = "steady"
plugin = "simulated"
interval = "200ms"
[[sensor]]
name = "stuck"
plugin = "misbehaving"
interval = "100ms"
[sensor.options]
hang_in = "poll"
hang_after = 2
[[upstream]]
name = "cloud"
url = ")" + cloud.url() +
           R"("
)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(watchdog_pings_continue_while_a_plugin_is_stuck_and_the_protocol_is_kept) {
    Mosquitto cloud;
    TempDir dir;
    NotifySocket systemd(dir.path() / "notify");
    GatewaydProcess gw(dir, config(dir, cloud), "gatewayd", {systemd.env(), "WATCHDOG_USEC=2000000"});
    GWD_REQUIRE(eventually([&] { return systemd.count("READY=1") == 1; }, 20s), gw.log());
    GWD_CHECK(gw.wait_for_log("systemd's watchdog is on (WatchdogSec=2000ms)"), gw.log());
    // The plugin hangs in its third poll; containment reports it stuck.
    GWD_REQUIRE(gw.wait_for_log("sensor stuck: stuck: poll() has not returned for", 30s), gw.log());
    const auto stuck_at = NotifySocket::Clock::now();
    // Pings go on (one per second is due); four of them, by progress, not by time.
    GWD_CHECK(eventually([&] { return systemd.count("WATCHDOG=1", stuck_at) >= 4; }, 30s),
              "pings since the plugin got stuck: " << systemd.count("WATCHDOG=1", stuck_at) << "\n"
                                                   << gw.log());
    BOOST_TEST(gw.log().find("not alive:") == std::string::npos, gw.log());
    BOOST_TEST_MESSAGE("WATCHDOG=1 received: " << systemd.count("WATCHDOG=1") << " in all, "
                                               << systemd.count("WATCHDOG=1", stuck_at)
                                               << " since the plugin got stuck");

    // A reload says RELOADING=1, then READY=1 again.
    gw.process().signal(SIGHUP);
    GWD_CHECK(eventually([&] { return systemd.count("RELOADING=1") == 1 && systemd.count("READY=1") == 2; }, 20s),
              gw.log());
    BOOST_TEST(gw.stop().value_or(-1) == 0);
    BOOST_TEST(systemd.count("STOPPING=1") == 1u);
}

// Outside systemd's watchdog (no WATCHDOG_USEC) nothing pings and nothing is said about it.
BOOST_AUTO_TEST_CASE(no_watchdog_without_watchdog_usec) {
    Mosquitto cloud;
    TempDir dir;
    NotifySocket systemd(dir.path() / "notify");
    GatewaydProcess gw(dir, config(dir, cloud), "gatewayd", {systemd.env()});
    GWD_REQUIRE(eventually([&] { return systemd.count("READY=1") == 1; }, 20s), gw.log());
    GWD_REQUIRE(gw.wait_for_log("sensor stuck: stuck: poll() has not returned for", 30s), gw.log());
    BOOST_TEST(gw.stop().value_or(-1) == 0);
    BOOST_TEST(systemd.count("WATCHDOG=1") == 0u);
    BOOST_TEST(gw.log().find("watchdog") == std::string::npos);
}
