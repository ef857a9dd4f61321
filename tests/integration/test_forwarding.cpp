// End to end: sensors publish to a local mosquitto, gatewayd (mqtt_local
// plugin) normalizes and forwards to a second mosquitto standing in for the
// cloud, where a subscriber checks topic, payload and every v5 property.
#define BOOST_TEST_MODULE forwarding
#include <boost/test/unit_test.hpp>

#include <regex>

#include "common/json.h"
#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;
using Props = std::vector<std::pair<std::string, std::string>>;

namespace {

std::string local_sensor(const Mosquitto& local) {
    return "[[sensor]]\n"
           "name = \"field\"\n"
           "plugin = \"mqtt_local\"\n"
           "[sensor.options]\n"
           "url = \"" +
           local.url() +
           "\"\n"
           "topics = [\"sensors/gateway01/#\"]\n\n";
}

std::string upstream(const Mosquitto& cloud, const std::string& extra = "") {
    return "[[upstream]]\n"
           "name = \"cloud\"\n"
           "profile = \"mqtt\"\n"
           "url = \"" +
           cloud.url() +
           "\"\n"
           "client_id = \"gw-01\"\n"
           "qos = 1\n"
           "topic = \"telemetry/{gateway}/{sensor}\"\n" +
           extra + "\n";
}

// Publishes the three sensors of the MQTT v5 user-property example (a Xiaomi
// text/plain reading, a Huawei base64 one, a plain one).
void publish_seed_readings(const Mosquitto& local) {
    TestPublisher sensors(local.url());
    sensors.publish("sensors/gateway01/sensor01", "23.4",
                    {{"Content-Type", "text/plain"}, {"Hardware-Revision", "Xiaomi-rev1.17c"}});
    sensors.publish("sensors/gateway01/sensor02",
                    "MjMuNw==", {{"Content-Type", "base64"}, {"Hardware-Manufacturer", "Huawei-rev8.2"}});
    sensors.publish("sensors/gateway01/sensor03", "24.4");
}

// A test_emitter sensor (tests/plugins/test_emitter.c) with these options.
std::string emitter_sensor(const std::string& options) {
    return "[[sensor]]\nname = \"burst\"\nplugin = \"test_emitter\"\n[sensor.options]\n" + options + "\n\n";
}

void wait_until_ready(const GatewaydProcess& gw, const Mosquitto& cloud) {
    GWD_REQUIRE(gw.wait_for_log("connected to " + cloud.url(), 15s), gw.log());
    GWD_REQUIRE(gw.wait_for_log("subscribed to 1 topic filters", 15s), gw.log());
}

ReceivedMessage only(const std::vector<ReceivedMessage>& messages, const std::string& topic) {
    GWD_REQUIRE(messages.size() == 1u, topic << ": " << messages.size() << " messages");
    return messages[0];
}

}  // namespace

BOOST_AUTO_TEST_CASE(seed_sensors_arrive_normalized_over_mqtt5) {
    Mosquitto local, cloud;
    TempDir dir;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway_section(dir) + local_sensor(local) + upstream(cloud));
    wait_until_ready(gw, cloud);

    publish_seed_readings(local);
    GWD_REQUIRE(subscriber.wait_for(3, 15s), gw.log());

    const auto s1 = only(subscriber.on_topic("telemetry/gw-01/sensor01"), "sensor01");
    BOOST_TEST(s1.payload == "23.4");
    BOOST_TEST(*s1.content_type == "text/plain");
    BOOST_TEST(*s1.payload_format == 1);
    BOOST_TEST(s1.qos == 1);
    BOOST_TEST((s1.user_properties == Props{{"vendor", "xiaomi"}, {"hw_revision", "1.17c"}}));

    const auto s2 = only(subscriber.on_topic("telemetry/gw-01/sensor02"), "sensor02");
    BOOST_TEST(s2.payload == "23.7");
    BOOST_TEST(*s2.content_type == "text/plain");
    BOOST_TEST(*s2.payload_format == 1);
    BOOST_TEST((s2.user_properties == Props{{"vendor", "huawei"}, {"hw_revision", "8.2"}}));

    const auto s3 = only(subscriber.on_topic("telemetry/gw-01/sensor03"), "sensor03");
    BOOST_TEST(s3.payload == "24.4");
    BOOST_TEST(*s3.content_type == "text/plain");
    BOOST_TEST(*s3.payload_format == 1);
    BOOST_TEST(s3.user_properties.empty());

    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(mqtt311_upstream_gets_metadata_folded_into_json) {
    Mosquitto local, cloud;
    TempDir dir;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway_section(dir) + local_sensor(local) + upstream(cloud, "mqtt_version = 4\n"));
    wait_until_ready(gw, cloud);
    BOOST_TEST(gw.log().find("(MQTT 3.1.1,") != std::string::npos);

    publish_seed_readings(local);
    GWD_REQUIRE(subscriber.wait_for(3, 15s), gw.log());

    std::string error;
    const auto s2 = only(subscriber.on_topic("telemetry/gw-01/sensor02"), "sensor02");
    BOOST_TEST(!s2.content_type.has_value());  // no properties on 3.1.1
    auto json = gwd::json_parse(s2.payload, error);
    GWD_REQUIRE(json, s2.payload << ": " << error);
    BOOST_TEST(json->find("gateway")->as_string() == "gw-01");
    BOOST_TEST(json->find("sensor")->as_string() == "sensor02");
    BOOST_TEST(json->find("content_type")->as_string() == "text/plain");
    BOOST_TEST(json->find("payload")->as_string() == "23.7");
    BOOST_TEST(json->find("properties")->find("vendor")->as_string() == "huawei");
    BOOST_TEST(json->find("properties")->find("hw_revision")->as_string() == "8.2");
    BOOST_TEST(json->find("ts")->is_number());

    const auto s3 = only(subscriber.on_topic("telemetry/gw-01/sensor03"), "sensor03");
    json = gwd::json_parse(s3.payload, error);
    BOOST_REQUIRE(json);
    BOOST_TEST(json->find("payload")->as_string() == "24.4");
    BOOST_TEST(json->find("properties") == nullptr);
}

BOOST_AUTO_TEST_CASE(undecodable_payload_is_dead_lettered_and_the_next_one_flows) {
    Mosquitto local, cloud;
    TempDir dir;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#", "deadletter/#"});
    GatewaydProcess gw(dir, gateway_section(dir) + local_sensor(local) + upstream(cloud));
    wait_until_ready(gw, cloud);

    TestPublisher sensors(local.url());
    sensors.publish("sensors/gateway01/sensor02", "MjM!Nw==", {{"Content-Type", "base64"}});
    sensors.publish("sensors/gateway01/sensor02", "MjMuNw==", {{"Content-Type", "base64"}});
    GWD_REQUIRE(subscriber.wait_for(2, 15s), gw.log());

    const auto dead = only(subscriber.on_topic("deadletter/gw-01/sensor02"), "dead letter");
    BOOST_TEST(dead.payload == "MjM!Nw==");
    BOOST_TEST((dead.user_properties ==
                Props{{"Content-Type", "base64"}, {"error", "base64 decoding failed: not base64: byte 3 ('!')"}}));
    BOOST_TEST(only(subscriber.on_topic("telemetry/gw-01/sensor02"), "good").payload == "23.7");
    BOOST_TEST(gw.log().find("base64 decoding failed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(simulated_plugin_feeds_the_upstream) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway_section(dir) +
                                "[[sensor]]\nname = \"lab\"\nplugin = \"simulated\"\ninterval = \"100ms\"\n"
                                "[sensor.options]\nvalues = \"seed\"\ncount = 2\n\n" +
                                upstream(cloud));
    GWD_REQUIRE(subscriber.wait_for(6, 15s), gw.log());
    for (const char* name : {"sensor01", "sensor02", "sensor03"}) {
        auto messages = subscriber.on_topic(std::string("telemetry/gw-01/") + name);
        BOOST_TEST(messages.size() == 2u, name);
        BOOST_TEST(*messages[0].content_type == "text/plain");
    }
    BOOST_TEST(subscriber.on_topic("telemetry/gw-01/sensor02")[0].payload == "23.7");
}

BOOST_AUTO_TEST_CASE(receive_maximum_of_the_broker_bounds_the_window_and_order_is_kept) {
    Mosquitto cloud("max_inflight_messages 3\n");
    TempDir dir;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter_sensor("count = 500\npayload = \"{seq}\"\nstart_delay = \"300ms\"") +
                                upstream(cloud));
    GWD_REQUIRE(gw.wait_for_log("up to 3 publishes in flight", 15s), gw.log());
    GWD_REQUIRE(subscriber.wait_for(500, 30s), gw.log());
    const auto messages = subscriber.messages();
    for (size_t i = 0; i < messages.size(); ++i) {
        if (messages[i].payload != std::to_string(i)) {
            BOOST_FAIL("message " << i << " carries " << messages[i].payload);
        }
    }
}

BOOST_AUTO_TEST_CASE(sigterm_stops_gracefully_after_delivering_what_was_accepted) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter_sensor("count = 20000\npayload = \"{seq}\"") + upstream(cloud));
    GWD_REQUIRE(gw.wait_for_log("connected to " + cloud.url(), 15s), gw.log());
    const auto status = gw.stop(20s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 0);
    // "stopped: cloud stopped, sent N, queued 0; readings M"
    std::smatch m;
    const std::string log = gw.log();
    GWD_REQUIRE(std::regex_search(log, m, std::regex("sent (\\d+), queued (\\d+); readings (\\d+)")), log);
    const size_t sent = std::stoul(m[1]), queued = std::stoul(m[2]), readings = std::stoul(m[3]);
    BOOST_TEST_MESSAGE("accepted " << readings << " readings, sent " << sent << " before exit");
    BOOST_TEST(queued == 0u);
    BOOST_TEST(sent == readings);
    BOOST_TEST(readings > 0u);
    BOOST_TEST(subscriber.wait_for(sent, 15s));
    BOOST_TEST(subscriber.count() == sent);
}

BOOST_AUTO_TEST_CASE(a_message_above_the_maximum_packet_size_is_dead_lettered_and_the_rest_flow) {
    // mosquitto announces max_packet_size in CONNACK and closes the connection
    // on a larger packet; sent anyway, such a message would block the queue.
    Mosquitto cloud("max_packet_size 2000\n");
    TempDir dir;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#", "deadletter/#"});
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter_sensor("count = 5\npayload = \"{seq}\"\nfirst_payload_size = 5000\n"
                                               "start_delay = \"300ms\"") +
                                upstream(cloud));
    GWD_REQUIRE(subscriber.wait_for(6, 30s), gw.log());
    const auto data = subscriber.on_topic("telemetry/gw-01/burst");
    BOOST_REQUIRE(data.size() == 5u);
    for (size_t i = 0; i < data.size(); ++i) BOOST_TEST(data[i].payload == std::to_string(i));
    const auto dead = only(subscriber.on_topic("deadletter/gw-01/burst"), "dead letter");
    BOOST_TEST(dead.payload.empty());
    BOOST_TEST(
        (dead.user_properties ==
         Props{{"payload_size", "5000"}, {"error", "larger than the broker's Maximum Packet Size of 2000 bytes"}}));
    BOOST_TEST(gw.log().find("lost") == std::string::npos, gw.log());
}

BOOST_AUTO_TEST_CASE(a_wide_window_on_mqtt311_is_not_refused_by_paho) {
    // MQTT 3.1.1 has no Receive Maximum, so max_inflight alone bounds the
    // window; Paho's own queue limit (100 by default) must not cut it short.
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter_sensor("count = 3000\npayload = \"{seq}\"\nstart_delay = \"300ms\"") +
                                upstream(cloud, "mqtt_version = 4\nenvelope = false\nmax_inflight = 500\n"));
    GWD_REQUIRE(subscriber.wait_for(3000, 30s), gw.log());
    BOOST_TEST(gw.log().find("lost") == std::string::npos, gw.log());
    BOOST_TEST(gw.log().find("up to 500 publishes in flight") != std::string::npos);
}
