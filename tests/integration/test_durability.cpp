// The durable outbox against real processes: a real mosquitto killed and
// restarted under load, gatewayd itself killed with SIGKILL while sensors
// keep publishing, a long outage drained in order, the byte budget, expiry.
// Every reading carries a unique sequence number; each test prints its figures.
#define BOOST_TEST_MODULE durability
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <optional>
#include <thread>

#include "arrivals.h"
#include "durable_cloud.h"
#include "emitter_gate.h"
#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string emitter(const std::string& name, const std::string& options, const std::string& sensor_extra = "") {
    return "[[sensor]]\nname = \"" + name + "\"\nplugin = \"test_emitter\"\n" + sensor_extra + "[sensor.options]\n" +
           options + "\n\n";
}

std::string upstream(const std::string& url, const std::string& extra = "") {
    return "[[upstream]]\nname = \"cloud\"\nurl = \"" + url + "\"\nclient_id = \"gw-01\"\n" + extra +
           "[upstream.backoff]\ninitial = \"100ms\"\nmax = \"500ms\"\n";
}

std::string tail(const std::string& text, size_t n = 4000) {
    return text.size() > n ? text.substr(text.size() - n) : text;
}

// The upstream's state ("online", "backoff", ...), or "".
std::string upstream_state(const TempDir& dir) {
    auto status = daemon_status(dir);
    if (!status) return "";
    const gwd::JsonValue* u = upstream_status(*status, "cloud");
    const gwd::JsonValue* v = u != nullptr ? u->find("state") : nullptr;
    return v != nullptr && v->is_string() ? v->as_string() : "";
}

}  // namespace

// Kills the cloud broker with publishes of gatewayd in flight, in a way that
// leaves every loss to gatewayd alone:
//  1. the stream stops at `upto` and the test waits until gatewayd has all of
//     it acknowledged and the application has all of it: the broker holds
//     nothing it acknowledged and did not forward (mosquitto keeps that in
//     memory only, and a SIGKILL would lose it: the broker's loss, not ours);
//  2. the broker is paused (SIGSTOP), then the stream goes on: gatewayd's
//     publishes now wait, unread and unacknowledged, in the broker's socket;
//  3. once `burst` readings are queued and the window is in flight, the
//     paused broker is SIGKILLed, and started again once gatewayd's first
//     CONNECT to the dead broker was refused.
// Every step waits for progress, never for time. Returns the publishes in
// flight at the kill.
struct Kill {
    long long in_flight = 0;  // publishes of gatewayd in flight at the kill
    long long attempts = 0;   // CONNECTs gatewayd had sent before it
};

Kill kill_broker_mid_stream(const TempDir& dir, Cloud& cloud, Gate& gate, Arrivals& arrivals, long long upto,
                            long long burst, GatewaydProcess& gw) {
    gate.open_to(upto);
    GWD_REQUIRE(eventually(
                    [&] {
                        return upstream_number(dir, "cloud", "delivered") == upto &&
                               static_cast<long long>(arrivals.update().unique()) == upto;
                    },
                    180s),
                "the stream did not reach " << upto << ": delivered " << upstream_number(dir, "cloud", "delivered")
                                            << ", arrived " << arrivals.update().unique() << ", missing "
                                            << arrivals.missing() << "\n"
                                            << tail(gw.log()));
    cloud.broker().pause();
    gate.open_to(upto + burst);
    long long in_flight = 0;
    GWD_REQUIRE(eventually(
                    [&] {
                        in_flight = upstream_number(dir, "cloud", "in_flight");
                        return upstream_number(dir, "cloud", "queued") == burst &&
                               in_flight == std::min(burst, upstream_number(dir, "cloud", "window"));
                    },
                    60s),
                "gatewayd did not fill its window: queued " << upstream_number(dir, "cloud", "queued") << ", in flight "
                                                            << in_flight << "\n"
                                                            << tail(gw.log()));
    const long long attempts = upstream_number(dir, "cloud", "attempts");
    cloud.broker().kill();
    // As in any real restart, the broker is away for a moment: gatewayd tries
    // to reconnect and is refused before it comes back. (A broker back within
    // gatewayd's reaction time would look like another client taking over
    // the client id, and three of those in two minutes stop the upstream.)
    GWD_REQUIRE(
        eventually(
            [&] { return upstream_number(dir, "cloud", "attempts") > attempts && upstream_state(dir) == "backoff"; },
            30s),
        tail(gw.log()));
    cloud.broker().start();
    return Kill{in_flight, attempts};
}

BOOST_AUTO_TEST_CASE(broker_killed_five_times_mid_stream_loses_nothing) {
    TempDir dir;
    Cloud cloud(dir);
    Gate gate(dir);
    const int n = 100000;
    GatewaydProcess gw(
        dir, gateway_section(dir, all_plugins(dir)) + gated_emitter("meter", gate, n) + upstream(cloud.broker().url()));
    Arrivals arrivals(cloud.subscriber(), n);
    const auto started = Clock::now();
    std::string in_flight_at_kills;
    for (int kill = 1; kill <= 5; ++kill) {
        const Kill k = kill_broker_mid_stream(dir, cloud, gate, arrivals, n * kill / 6, 500, gw);
        BOOST_TEST(k.in_flight > 0);
        in_flight_at_kills += (kill > 1 ? ", " : "") + std::to_string(k.in_flight);
    }
    gate.open_to(n);
    GWD_REQUIRE(eventually([&] { return arrivals.update().all(); }, 180s), "missing: " << arrivals.missing() << "\n"
                                                                                       << tail(gw.log()));
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    // The broker never saw what was in flight at a kill: a duplicate would be
    // a reading gatewayd sent twice although the broker had acknowledged it.
    BOOST_TEST(arrivals.duplicates() == 0u);
    BOOST_TEST(eventually([&] { return upstream_number(dir, "cloud", "queued") == 0; }, 30s));
    BOOST_TEST_MESSAGE("broker SIGKILLed 5 times mid-stream (publishes in flight at each kill: "
                       << in_flight_at_kills << "; 500 readings queued behind them): " << arrivals.unique() << "/" << n
                       << " arrived, " << arrivals.duplicates() << " duplicates, " << seconds << " s in all");
    BOOST_TEST(gw.process().running());
}

// MQTT packet identifiers are 16 bits: a connection that publishes more than
// 65,535 QoS 1 messages reuses them. Connection 1 carries 131,060 readings
// (past the wrap once, almost twice), then dies with its window straddling
// the second wrap (packet ids 65526..65535 and 1..54); connection 2 starts
// over at packet id 1 with the readings that were in flight, and dies the
// same way around its own first wrap.
BOOST_AUTO_TEST_CASE(packet_identifiers_wrap_on_one_connection_and_across_kills) {
    TempDir dir;
    Cloud cloud(dir);
    Gate gate(dir);
    const int n = 200000;
    GatewaydProcess gw(
        dir, gateway_section(dir, all_plugins(dir)) + gated_emitter("meter", gate, n) + upstream(cloud.broker().url()));
    Arrivals arrivals(cloud.subscriber(), n);
    const long long wrap = 65535;
    const long long first = 2 * wrap - 10;  // publishes of connection 1 before its kill
    const long long second = first + wrap - 10;
    const Kill k1 = kill_broker_mid_stream(dir, cloud, gate, arrivals, first, 500, gw);
    BOOST_TEST(k1.attempts == 1);   // one connection carried all of them
    BOOST_TEST(k1.in_flight > 10);  // past packet id 65535
    const Kill k2 = kill_broker_mid_stream(dir, cloud, gate, arrivals, second, 500, gw);
    BOOST_TEST(k2.in_flight > 10);
    const long long in_flight_1 = k1.in_flight, in_flight_2 = k2.in_flight;
    gate.open_to(n);
    GWD_REQUIRE(eventually([&] { return arrivals.update().all(); }, 180s), "missing: " << arrivals.missing() << "\n"
                                                                                       << tail(gw.log()));
    BOOST_TEST(arrivals.duplicates() == 0u);
    BOOST_TEST(arrivals.in_order());
    BOOST_TEST_MESSAGE(n << " QoS 1 readings, " << first << " on the first connection, killed with " << in_flight_1
                         << " in flight around packet id 65535, then " << (second - first)
                         << " on the second, killed with " << in_flight_2
                         << " in flight around its wrap: " << arrivals.unique() << "/" << n << " arrived, in order, "
                         << arrivals.duplicates() << " duplicates");
}

BOOST_AUTO_TEST_CASE(gatewayd_killed_twice_while_sensors_publish_loses_nothing) {
    TempDir dir;
    Mosquitto local;  // the broker on the box the sensors publish to
    Mosquitto cloud;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const std::string config = gateway_section(dir, all_plugins(dir)) +
                               "[[sensor]]\nname = \"field\"\nplugin = \"mqtt_local\"\n[sensor.options]\n"
                               "url = \"" +
                               local.url() + "\"\ntopics = [\"sensors/#\"]\nname_from = \"sensor\"\n\n" +
                               upstream(cloud.url());
    auto gw = std::make_unique<GatewaydProcess>(dir, config, "gatewayd-1");
    GWD_REQUIRE(gw->wait_for_log("subscribed to 1 topic filters", 15s), gw->log());

    const int n = 30000;
    std::atomic<int> published{0};
    std::thread sensors([&] {
        TestPublisher publisher(local.url());
        for (int i = 0; i < n; ++i) {
            publisher.publish("sensors/gw-01/s" + std::to_string(i % 7), std::to_string(i));
            ++published;
        }
    });
    std::string logs;
    for (int kill = 1; kill <= 2; ++kill) {
        BOOST_REQUIRE(eventually([&] { return published.load() >= n * kill / 3; }, 60s));
        gw->process().signal(SIGKILL);
        gw->process().wait(5s);
        logs += gw->log();
        std::this_thread::sleep_for(300ms);  // sensors keep publishing meanwhile
        gw = std::make_unique<GatewaydProcess>(dir, config, "gatewayd-" + std::to_string(kill + 1));
    }
    sensors.join();
    Arrivals arrivals(app, n);
    GWD_REQUIRE(eventually([&] { return arrivals.update().all(); }, 60s), "missing: " << arrivals.missing() << "\n"
                                                                                      << tail(gw->log()));
    BOOST_TEST_MESSAGE("gatewayd SIGKILLed twice while sensors published "
                       << n << " QoS 1 messages: " << arrivals.unique() << "/" << n << " arrived upstream, "
                       << arrivals.duplicates() << " duplicates");
    BOOST_TEST(gw->log().find("resumed the session") != std::string::npos, gw->log());
}

BOOST_AUTO_TEST_CASE(a_long_outage_drains_in_order_at_full_speed) {
    TempDir dir;
    Cloud cloud(dir);
    cloud.broker().stop();
    const int n = 50000;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter("meter", "count = " + std::to_string(n) + "\npayload = \"{seq}\"") +
                                upstream(cloud.broker().url()));
    GWD_REQUIRE(eventually([&] { return upstream_number(dir, "cloud", "queued") == n; }, 60s), gw.log());
    cloud.broker().start();
    // The drain as gatewayd sees it: from the first acknowledgement to the last.
    std::optional<Clock::time_point> first, last;
    for (int i = 0; i < 2400 && !last; ++i) {
        const long long queued = upstream_number(dir, "cloud", "queued");
        if (!first && queued >= 0 && queued < n) first = Clock::now();
        if (queued == 0) last = Clock::now();
        std::this_thread::sleep_for(25ms);
    }
    GWD_REQUIRE(first && last, tail(gw.log()));
    GWD_REQUIRE(cloud.subscriber().wait_for(static_cast<size_t>(n), 120s), cloud.subscriber().count()
                                                                               << " arrived\n"
                                                                               << tail(gw.log()));
    const double seconds = std::max(0.025, std::chrono::duration<double>(*last - *first).count());
    Arrivals arrivals(cloud.subscriber(), n);
    arrivals.update();
    BOOST_TEST(arrivals.all());
    BOOST_TEST(arrivals.in_order());
    BOOST_TEST_MESSAGE(n << " readings queued during the outage drained in " << seconds
                         << " s: " << static_cast<int>(n / seconds) << " readings/s, in order: "
                         << (arrivals.in_order() ? "yes" : "no") << ", duplicates " << arrivals.duplicates());
    BOOST_TEST(eventually([&] { return upstream_number(dir, "cloud", "queued") == 0; }, 10s));
}

BOOST_AUTO_TEST_CASE(a_small_byte_budget_drops_exactly_the_oldest_and_counts_them) {
    TempDir dir;
    Cloud cloud(dir);
    cloud.broker().stop();
    const int n = 5000;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter("meter", "count = " + std::to_string(n) + "\npayload = \"{seq}\"") +
                                upstream(cloud.broker().url(), "max_bytes = \"64KiB\"\n"));
    // Everything emitted, and the budget enforced.
    GWD_REQUIRE(eventually(
                    [&] {
                        const long long q = upstream_number(dir, "cloud", "queued");
                        return q > 0 && q + upstream_number(dir, "cloud", "overflowed") == n;
                    },
                    30s),
                gw.log());
    const long long queued = upstream_number(dir, "cloud", "queued");
    const long long dropped = upstream_number(dir, "cloud", "overflowed");
    BOOST_TEST(upstream_number(dir, "cloud", "queued_bytes") <= 64 * 1024);
    cloud.broker().start();
    BOOST_REQUIRE(cloud.subscriber().wait_for(static_cast<size_t>(queued), 60s));
    std::this_thread::sleep_for(500ms);  // nothing more may come
    std::vector<int> got;
    for (const auto& m : cloud.subscriber().on_topic("telemetry/gw-01/meter")) got.push_back(std::stoi(m.payload));
    std::vector<int> newest;
    for (int i = n - static_cast<int>(queued); i < n; ++i) newest.push_back(i);
    BOOST_TEST((got == newest), "got " << got.size() << " readings, from " << (got.empty() ? -1 : got.front()));
    BOOST_TEST(dropped == n - queued);
    BOOST_TEST_MESSAGE("max_bytes 64KiB: " << queued << " newest kept and delivered, " << dropped
                                           << " oldest dropped and counted");
    GWD_CHECK(gw.wait_for_log("readings dropped because its queue reached max_bytes", 10s), gw.log());
}

BOOST_AUTO_TEST_CASE(expired_readings_never_arrive_and_the_rest_carry_what_is_left) {
    TempDir dir;
    Cloud cloud(dir);
    cloud.broker().stop();
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter("short", "count = 10\npayload = \"{seq}\"", "expiry = \"2s\"\n") +
                                emitter("long", "count = 10\npayload = \"{seq}\"\nexpiry = \"1h\"") +
                                emitter("plain", "count = 10\npayload = \"{seq}\"") + upstream(cloud.broker().url()));
    GWD_REQUIRE(eventually([&] { return upstream_number(dir, "cloud", "queued") == 30; }, 20s), gw.log());
    std::this_thread::sleep_for(3s);  // past the short expiry
    cloud.broker().start();
    BOOST_REQUIRE(cloud.subscriber().wait_for(20, 30s));
    std::this_thread::sleep_for(500ms);
    BOOST_TEST(cloud.subscriber().on_topic("telemetry/gw-01/short").empty());
    const auto long_lived = cloud.subscriber().on_topic("telemetry/gw-01/long");
    BOOST_REQUIRE(long_lived.size() == 10u);
    for (const auto& m : long_lived) {
        BOOST_REQUIRE(m.message_expiry.has_value());
        BOOST_TEST(*m.message_expiry < 3600);
        BOOST_TEST(*m.message_expiry > 3500);
    }
    const auto plain = cloud.subscriber().on_topic("telemetry/gw-01/plain");
    BOOST_TEST(plain.size() == 10u);
    for (const auto& m : plain) BOOST_TEST(!m.message_expiry.has_value());
    BOOST_TEST(upstream_number(dir, "cloud", "expired") == 10);
    BOOST_TEST_MESSAGE(
        "expiry: 10 readings with a 2 s expiry queued 3 s were dropped and counted; 10 with 1 h arrived "
        "with Message Expiry Interval "
        << *long_lived.front().message_expiry << " s; 10 without expiry arrived without one");
}

// outbox = "memory" brings an 8 MiB default bound; a reload that switches to
// it must not cut the open disk queue's backlog to that size.
BOOST_AUTO_TEST_CASE(switching_the_outbox_on_reload_keeps_the_backlog_until_restart) {
    TempDir dir;
    Cloud cloud(dir);
    cloud.broker().stop();
    const int n = 100000;  // about 16 MB queued: more than 8 MiB
    const std::string payload = "{seq} " + std::string(100, 'x');
    const std::string sensors = gateway_section(dir, all_plugins(dir)) +
                                emitter("meter", "count = " + std::to_string(n) + "\npayload = \"" + payload + "\"");
    GatewaydProcess gw(dir, sensors + upstream(cloud.broker().url(), "qos = 0\n"));
    GWD_REQUIRE(eventually([&] { return upstream_number(dir, "cloud", "queued") == n; }, 60s), tail(gw.log()));
    const long long bytes = upstream_number(dir, "cloud", "queued_bytes");
    BOOST_REQUIRE(bytes > 8 * 1024 * 1024);

    dir.write("gatewayd.toml", sensors + upstream(cloud.broker().url(), "qos = 0\noutbox = \"memory\"\n"));
    gw.process().signal(SIGHUP);
    GWD_REQUIRE(gw.wait_for_log("take effect at the next restart (so does max_bytes", 10s), tail(gw.log()));
    std::this_thread::sleep_for(500ms);
    BOOST_TEST(upstream_number(dir, "cloud", "queued") == n);
    BOOST_TEST(upstream_number(dir, "cloud", "overflowed") == 0);
    BOOST_TEST_MESSAGE("reload to outbox = \"memory\": " << upstream_number(dir, "cloud", "queued") << " readings ("
                                                         << bytes / 1024 << " KiB) still queued on disk");
}
