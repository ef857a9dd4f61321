// Batches against a real mosquitto: readings for one topic travel as one
// JSON array, nothing is lost or repeated, each topic keeps its order, and a
// batch the broker refuses goes to the dead letters whole. Every step waits
// for progress (status counts, arrivals), never for time.
#define BOOST_TEST_MODULE batching
#include <boost/test/unit_test.hpp>

#include <map>

#include "common/json.h"
#include "emitter_gate.h"
#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

std::string upstream(const Mosquitto& broker, const std::string& batch) {
    return "[[upstream]]\nname = \"cloud\"\nurl = \"" + broker.url() + "\"\nclient_id = \"gw-01\"\n" +
           "dead_letter_topic = \"deadletter/{gateway}/{sensor}\"\nbatch = " + batch +
           "\n[upstream.backoff]\ninitial = \"100ms\"\nmax = \"1s\"\n";
}

// The readings of the batches that arrived, per topic, in arrival order;
// `sizes` gets the number of readings of each message.
std::map<std::string, std::vector<std::string>> unpack(const std::vector<ReceivedMessage>& messages,
                                                       std::vector<size_t>& sizes) {
    std::map<std::string, std::vector<std::string>> readings;
    for (const auto& m : messages) {
        std::string error;
        auto doc = gwd::json_parse(m.payload, error);
        BOOST_REQUIRE_MESSAGE(doc && doc->is_array(), m.topic << ": not a JSON array: " << m.payload);
        BOOST_TEST(m.content_type.value_or("") == "application/json");
        for (const auto& element : doc->as_array()) {
            const gwd::JsonValue* sensor = element.find("sensor");
            const gwd::JsonValue* payload = element.find("payload");
            BOOST_REQUIRE(sensor && payload);
            BOOST_TEST(m.topic == "telemetry/gw-01/" + sensor->as_string());
            readings[m.topic].push_back(payload->is_number() ? payload->as_number().text : payload->as_string());
        }
        sizes.push_back(doc->as_array().size());
    }
    return readings;
}

std::vector<std::string> sequence(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(std::to_string(i));
    return out;
}

}  // namespace

// The cloud is paused (SIGSTOP) while two sensors queue 1,000 readings
// each: once it reads again, the backlog goes in batches of 100.
BOOST_AUTO_TEST_CASE(batches_carry_every_reading_once_and_in_order_per_topic) {
    TempDir dir;
    Mosquitto cloud;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    Gate gate(dir);
    const int n = 1000;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) + gated_emitter("a", gate, n) +
                                gated_emitter("b", gate, n) + upstream(cloud, "{ max_readings = 100 }"));
    GWD_REQUIRE(gw.wait_for_log("connected to " + cloud.url(), 15s), gw.log());
    cloud.pause();
    gate.open_to(n);
    GWD_REQUIRE(eventually([&] { return upstream_number(dir, "cloud", "queued") == 2 * n; }, 60s),
                "queued " << upstream_number(dir, "cloud", "queued") << "\n"
                          << gw.log());
    cloud.resume();
    GWD_REQUIRE(eventually([&] { return upstream_number(dir, "cloud", "sent") == 2 * n; }, 60s),
                "sent " << upstream_number(dir, "cloud", "sent") << "\n"
                        << gw.log());
    // What was acknowledged has been forwarded (the subscriber is on loopback); wait for the last of it.
    std::vector<size_t> sizes;
    GWD_REQUIRE(eventually(
                    [&] {
                        size_t readings = 0;
                        for (const auto& m : subscriber.messages()) {
                            std::string error;
                            auto doc = gwd::json_parse(m.payload, error);
                            readings += doc && doc->is_array() ? doc->as_array().size() : 0;
                        }
                        return readings >= 2 * static_cast<size_t>(n);
                    },
                    30s),
                subscriber.count() << " messages");
    const auto messages = subscriber.messages();
    const auto readings = unpack(messages, sizes);
    BOOST_TEST(readings.at("telemetry/gw-01/a") == sequence(n), boost::test_tools::per_element());
    BOOST_TEST(readings.at("telemetry/gw-01/b") == sequence(n), boost::test_tools::per_element());
    size_t largest = 0;
    for (size_t s : sizes) largest = std::max(largest, s);
    BOOST_TEST(largest == 100u);
    // While paused, the window's first publishes went with what was there;
    // the backlog behind them goes 100 at a time: 2 x 1,000 readings in well under 2,000 messages.
    BOOST_TEST(messages.size() <= 2u * n / 100 + static_cast<size_t>(upstream_number(dir, "cloud", "window")) + 2);
    BOOST_TEST_MESSAGE("batches: " << 2 * n << " readings in " << messages.size() << " messages (largest " << largest
                                   << ", window " << upstream_number(dir, "cloud", "window") << ")");
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

// The ACL denies one topic: each of its batches is refused (PUBACK 0x87)
// and every reading in it reaches the dead-letter topic, counted one by one.
BOOST_AUTO_TEST_CASE(a_refused_batch_goes_to_the_dead_letters_whole) {
    TempDir dir;
    auto acl = dir.write("acl",
                         "topic readwrite telemetry/gw-01/allowed\ntopic readwrite deadletter/#\n"
                         "topic read telemetry/#\n");
    // A large queue bound, not 0: see test_supervision (mosquitto 2.0.11 would drop the connection).
    Mosquitto cloud("acl_file " + acl.string() + "\nmax_queued_messages 1000000\n");
    TestSubscriber subscriber(cloud.url(), {"telemetry/#", "deadletter/#"});
    Gate gate(dir);
    const int n = 25;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) + gated_emitter("denied", gate, n) +
                                gated_emitter("allowed", gate, n) +
                                upstream(cloud, "{ max_readings = 10, linger = \"1s\" }"));
    GWD_REQUIRE(gw.wait_for_log("connected to " + cloud.url(), 15s), gw.log());
    gate.open_to(n);
    GWD_REQUIRE(eventually(
                    [&] {
                        return upstream_number(dir, "cloud", "dead_lettered") == n &&
                               upstream_number(dir, "cloud", "sent") == n;
                    },
                    30s),
                "dead-lettered " << upstream_number(dir, "cloud", "dead_lettered") << ", sent "
                                 << upstream_number(dir, "cloud", "sent") << "\n"
                                 << gw.log());
    GWD_REQUIRE(eventually([&] { return subscriber.on_topic("deadletter/gw-01/denied").size() == n; }, 30s),
                subscriber.on_topic("deadletter/gw-01/denied").size());
    const auto dead = subscriber.on_topic("deadletter/gw-01/denied");
    for (int i = 0; i < n; ++i) {
        BOOST_TEST(dead[i].payload == std::to_string(i));
        bool refused = false;
        for (const auto& [k, v] : dead[i].user_properties) refused |= k == "reason_code" && v == "0x87";
        BOOST_TEST(refused);
    }
    BOOST_TEST(subscriber.on_topic("telemetry/gw-01/denied").empty());
    std::vector<size_t> sizes;
    const auto allowed = unpack(subscriber.on_topic("telemetry/gw-01/allowed"), sizes);
    BOOST_TEST(allowed.at("telemetry/gw-01/allowed") == sequence(n), boost::test_tools::per_element());
    BOOST_TEST(sizes.size() < static_cast<size_t>(n));                 // they did travel together
    BOOST_TEST(gw.log().find("lost") == std::string::npos, gw.log());  // the connection stayed up
    BOOST_TEST_MESSAGE("refused batches: " << n << " readings dead-lettered one by one; the allowed " << n
                                           << " arrived in " << sizes.size() << " messages");
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}
