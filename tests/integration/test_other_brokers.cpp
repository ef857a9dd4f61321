// Brokers other than mosquitto, and broker behaviours mosquitto does not show:
// aedes (npm, MQTT 3.1.1 only) for the upstream and for mqtt_local; the
// scripted stub for a CONNACK 0x84, a DISCONNECT 0x95 for a reading larger
// than an unannounced limit (as ejabberd's max_payload_size does), and a
// publish answered by closing the connection (as AWS IoT Core does for one
// its policy denies). Plus mosquitto for what it can show: a restart right
// after topic aliases came into use, two gateways with one client id.
#define BOOST_TEST_MODULE other_brokers
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <fstream>

#include "aedes.h"
#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"
#include "mqtt_stub_broker.h"

using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

std::string emitter(const std::string& name, const std::string& options) {
    return "[[sensor]]\nname = \"" + name + "\"\nplugin = \"test_emitter\"\n[sensor.options]\n" + options + "\n\n";
}

std::string upstream(const std::string& url, const std::string& extra = "") {
    return "[[upstream]]\nname = \"cloud\"\nurl = \"" + url + "\"\nclient_id = \"gw-01\"\n" + extra +
           "[upstream.backoff]\ninitial = \"100ms\"\nmax = \"300ms\"\n";
}

std::string local_sensor(const std::string& url, const std::string& extra = "") {
    return "[[sensor]]\nname = \"field\"\nplugin = \"mqtt_local\"\n[sensor.options]\nurl = \"" + url +
           "\"\ntopics = [\"sensors/#\"]\n" + extra + "\n";
}

const gwd::JsonValue* field(const gwd::JsonValue* object, const char* key) {
    return object != nullptr ? object->find(key) : nullptr;
}

std::string text_of(const gwd::JsonValue* v) {
    if (v == nullptr) return "(none)";
    if (v->is_string()) return v->as_string();
    if (v->is_number()) return std::to_string(static_cast<long long>(v->as_number().value));
    return "(null)";
}

std::string upstream_field(const TempDir& dir, const char* key) {
    auto status = daemon_status(dir);
    if (!status) return "(no status)";
    return text_of(field(upstream_status(*status, "cloud"), key));
}

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_mqtt5_upstream_on_a_311_only_broker_stops_and_says_what_to_set) {
    Aedes broker;
    TempDir dir;
    const std::string sensors =
        gateway_section(dir, all_plugins(dir)) + emitter("meter", "count = 3\npayload = \"{seq}\"");
    GatewaydProcess gw(dir, sensors + upstream(broker.url()));
    GWD_REQUIRE(gw.wait_for_log("stopped: cannot connect to " + broker.url(), 20s), gw.log() + broker.log());
    const std::string log = gw.log();
    BOOST_TEST(log.find("the broker refused the connection: Unacceptable protocol version (return code 1) (answered in "
                        "MQTT 3.1.1). the broker speaks MQTT 3.1.1 only; set mqtt_version = 4. Readings for it keep "
                        "queueing; it tries again on SIGHUP (systemctl reload gatewayd).") != std::string::npos,
               log);
    BOOST_TEST(upstream_field(dir, "state") == "stopped");
    BOOST_TEST(upstream_field(dir, "last_reason_code") == "1");
    BOOST_TEST(upstream_field(dir, "attempts") == "1");
    // It does not try again by itself: nothing changes until the config does.
    std::this_thread::sleep_for(2s);
    BOOST_TEST(upstream_field(dir, "attempts") == "1");
    BOOST_TEST(count(broker.log(), "unacceptable protocol version") == 1u, broker.log());

    // As told: mqtt_version = 4, and a reload.
    SubscriberOptions v311;
    v311.mqtt_version = 4;
    TestSubscriber app(broker.url(), {"telemetry/#"}, v311);
    dir.write("gatewayd.toml", sensors + upstream(broker.url(), "mqtt_version = 4\n"));
    gw.process().signal(SIGHUP);
    GWD_CHECK(app.wait_for(3, 20s), gw.log());
    BOOST_TEST_MESSAGE("MQTT 5 upstream on aedes: stopped after 1 CONNECT with \"set mqtt_version = 4\"; with it, "
                       << app.count() << " readings arrived");
}

BOOST_AUTO_TEST_CASE(connack_0x84_stops_the_upstream_too) {
    MqttStubBroker::Script s;
    s.on_connect = [](int, const std::string&) { return StubConnack{0x84, {}, {}, {}}; };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir,
                       gateway_section(dir, all_plugins(dir)) + emitter("meter", "count = 1") + upstream(stub.url()));
    GWD_REQUIRE(gw.wait_for_log("stopped: cannot connect to", 20s), gw.log());
    BOOST_TEST(
        gw.log().find("Unsupported Protocol Version (0x84). the broker does not accept MQTT 5; set mqtt_version = 4") !=
            std::string::npos,
        gw.log());
    BOOST_TEST(stub.connections() == 1);
}

BOOST_AUTO_TEST_CASE(mqtt_local_on_a_311_only_broker_says_so_in_status_and_stops_asking) {
    Aedes local;
    Mosquitto cloud;
    TempDir dir;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) + local_sensor(local.url()) + upstream(cloud.url()));
    GWD_REQUIRE(gw.wait_for_log("set mqtt_version = 4", 20s), gw.log());
    BOOST_TEST(gw.log().find(
                   "sensor field: the broker at " + local.url() +
                   " refused the connection: Unacceptable protocol version (return code 1) (answered in MQTT 3.1.1). "
                   "the broker speaks MQTT 3.1.1 only; set mqtt_version = 4; trying again in 10m") != std::string::npos,
               gw.log());
    BOOST_TEST(sensor_field(dir, "field", "state") == "degraded");
    BOOST_TEST(
        sensor_field(dir, "field", "error").find("set mqtt_version = 4; trying again in 10m") != std::string::npos,
        sensor_field(dir, "field", "error"));
    std::this_thread::sleep_for(2s);
    BOOST_TEST(count(local.log(), "unacceptable protocol version") == 1u, local.log());
}

BOOST_AUTO_TEST_CASE(mqtt_local_refused_by_its_broker_says_why_at_once_and_in_status) {
    TempDir dir;
    const auto passwords = dir.path() / "passwords";
    { std::ofstream(passwords) << "sensor:secret\n"; }
    std::string out;
    BOOST_REQUIRE(run_command({"mosquitto_passwd", "-U", passwords.string()}, out) == 0);
    Mosquitto local("allow_anonymous false\npassword_file " + passwords.string() + "\n");
    Mosquitto cloud;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                local_sensor(local.url(), "username = \"sensor\"\npassword = \"wrong\"\n") +
                                upstream(cloud.url()));
    GWD_REQUIRE(gw.wait_for_log("refused the connection: Not authorized (0x87)", 20s), gw.log());
    BOOST_TEST(sensor_field(dir, "field", "state") == "degraded");
    BOOST_TEST(
        sensor_field(dir, "field", "error").find("Not authorized (0x87). check the credentials") != std::string::npos,
        sensor_field(dir, "field", "error"));
    BOOST_TEST(count(gw.log(), "refused the connection") == 1u, gw.log());
}

// What the unit's LoadCredential=local-pass:/path gives the service: the
// file in $CREDENTIALS_DIRECTORY, named in the plugin's options as for the
// daemon's own *_file keys.
BOOST_AUTO_TEST_CASE(mqtt_local_password_file_may_name_a_systemd_credential) {
    TempDir dir;
    const auto passwords = dir.path() / "passwords";
    { std::ofstream(passwords) << "sensor:secret\n"; }
    std::string out;
    BOOST_REQUIRE(run_command({"mosquitto_passwd", "-U", passwords.string()}, out) == 0);
    const auto credentials = dir.path() / "credentials";
    std::filesystem::create_directory(credentials);
    { std::ofstream(credentials / "local-pass") << "secret\n"; }
    Mosquitto local("allow_anonymous false\npassword_file " + passwords.string() + "\n");
    Mosquitto cloud;
    TestSubscriber app(cloud.url(), {"#"});
    GatewaydProcess gw(
        dir,
        gateway_section(dir, all_plugins(dir)) +
            local_sensor(local.url(), "username = \"sensor\"\npassword_file = \"credential:local-pass\"\n") +
            upstream(cloud.url()),
        "gatewayd", {"CREDENTIALS_DIRECTORY=" + credentials.string()});
    GWD_REQUIRE(gw.wait_for_log("subscribed to 1 topic filters", 20s), gw.log());
    TestPublisher(local.url(), 5, "sensor", "secret").publish("sensors/room1/temp", "21.5");
    GWD_REQUIRE(app.wait_for(1, 20s), gw.log());
    BOOST_TEST(app.messages().front().payload == "21.5");
    BOOST_TEST(gw.log().find("Not authorized") == std::string::npos, gw.log());

    // A credential that is not there is named at the start, with the key.
    TempDir other;
    GatewaydProcess missing(other,
                            gateway_section(other, all_plugins(other)) +
                                local_sensor(local.url(), "password_file = \"credential:nope\"\n") +
                                upstream(cloud.url()),
                            "gatewayd", {"CREDENTIALS_DIRECTORY=" + credentials.string()});
    GWD_REQUIRE(missing.wait_for_log("password_file \"" + (credentials / "nope").string() + "\" cannot be read", 20s),
                missing.log());
}

BOOST_AUTO_TEST_CASE(two_gateways_with_one_mqtt_local_client_id_stop_fighting) {
    Mosquitto local;
    Mosquitto cloud;
    TempDir dir_a, dir_b;
    const std::string twin = local_sensor(local.url(), "client_id = \"twin\"\n");
    // Each its own upstream client id: only the local one is shared.
    auto own_upstream = [&](const std::string& id) {
        std::string u = upstream(cloud.url());
        return u.replace(u.find("client_id = \"gw-01\""), std::string("client_id = \"gw-01\"").size(),
                         "client_id = \"" + id + "\"");
    };
    GatewaydProcess a(dir_a, gateway_section(dir_a, all_plugins(dir_a), "gw-a") + twin + own_upstream("gw-a"));
    GatewaydProcess b(dir_b, gateway_section(dir_b, all_plugins(dir_b), "gw-b") + twin + own_upstream("gw-b"));
    const bool one_stopped = eventually(
        [&] {
            return a.log().find("another client uses client id 'twin'") != std::string::npos ||
                   b.log().find("another client uses client id 'twin'") != std::string::npos;
        },
        60s);
    GWD_REQUIRE(one_stopped, a.log() + "\n" + b.log());
    const size_t connections = count(local.log(), "as twin");
    std::this_thread::sleep_for(3s);
    const size_t later = count(local.log(), "as twin");
    BOOST_TEST(later <= connections + 1, local.log());  // the fight is over
    const std::string state_a = sensor_field(dir_a, "field", "state"), state_b = sensor_field(dir_b, "field", "state");
    BOOST_TEST((state_a == "degraded" || state_b == "degraded"), state_a << " / " << state_b);
    BOOST_TEST(a.log().find("another client uses client id 'gw-") == std::string::npos);  // the upstreams are fine
    BOOST_TEST(b.log().find("another client uses client id 'gw-") == std::string::npos);
    BOOST_TEST_MESSAGE("two gateways, one mqtt_local client id: " << connections
                                                                  << " connections before one stopped (it tries again "
                                                                     "in 10 minutes), "
                                                                  << later - connections << " in the 3 s after");
}

BOOST_AUTO_TEST_CASE(a_broker_restart_right_after_alias_use_keeps_topic_aliases) {
    TempDir dir;
    Mosquitto cloud("max_topic_alias 10\n");
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const auto gate = dir.path() / "gate";
    { std::ofstream(gate) << 20 << "\n"; }
    GatewaydProcess gw(dir,
                       gateway_section(dir, all_plugins(dir)) +
                           emitter("meter", "count = 40\npayload = \"{seq}\"\ngate_file = \"" + gate.string() + "\"") +
                           upstream(cloud.url(), "topic_alias = true\n"));
    GWD_REQUIRE(app.wait_for(20, 20s), gw.log());
    BOOST_TEST(upstream_field(dir, "topic_aliases") == "1");
    // Killed within seconds of the aliases coming into use: only a FIN.
    const std::string attempts = upstream_field(dir, "attempts");
    cloud.kill();
    GWD_REQUIRE(
        eventually(
            [&] { return upstream_field(dir, "attempts") != attempts && upstream_field(dir, "state") == "backoff"; },
            30s),
        gw.log());
    cloud.start();
    { std::ofstream(dir.path() / "gate.tmp") << 40 << "\n"; }
    std::filesystem::rename(dir.path() / "gate.tmp", gate);
    GWD_REQUIRE(eventually([&] { return upstream_field(dir, "delivered") == "40"; }, 30s), gw.log());
    BOOST_TEST(gw.log().find("reconnecting without") == std::string::npos, gw.log());
    BOOST_TEST(upstream_field(dir, "topic_aliases") == "1", gw.log());
    BOOST_TEST(count(gw.log(), "10 topic aliases)") == 2u, gw.log());  // both connections used them
}

BOOST_AUTO_TEST_CASE(a_reading_over_an_unannounced_limit_costs_three_reconnects_not_the_aliases) {
    // As ejabberd's max_payload_size: DISCONNECT 0x95, announced nowhere.
    MqttStubBroker::Script s;
    s.on_connect = [](int, const std::string&) { return StubConnack{0, {{prop::topic_alias_maximum, 10u}}, {}, {}}; };
    s.on_publish = [](int, const StubPublish& p) {
        if (p.payload.size() > 1000) return StubPubAction{StubPubAction::Kind::disconnect, 0x95};
        return StubPubAction{};
    };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter("small", "count = 20\npayload = \"{seq}\"") +
                                emitter("big", "count = 1\nfirst_payload_size = 5000\nstart_delay = \"500ms\"") +
                                emitter("late", "count = 5\npayload = \"late {seq}\"\nstart_delay = \"1s\"") +
                                upstream(stub.url(), "topic_alias = true\n"));
    // "big" emits its padded reading and one more: 20 + 1 + 5 go through.
    GWD_REQUIRE(
        eventually([&] { return upstream_field(dir, "sent") == "26" && upstream_field(dir, "dead_lettered") == "1"; },
                   30s),
        gw.log() + "\nsent " + upstream_field(dir, "sent") + ", dead-lettered " + upstream_field(dir, "dead_lettered"));
    BOOST_TEST(stub.connections() == 4, gw.log());  // three drops, then it was set aside
    BOOST_TEST(gw.log().find("was the oldest in flight each of the 3 times the broker closed the connection") !=
                   std::string::npos,
               gw.log());
    BOOST_TEST(gw.log().find("reconnecting without them") == std::string::npos, gw.log());
    BOOST_TEST(gw.log().find("they stay off") == std::string::npos, gw.log());
    bool aliases_on_last = false;
    for (const auto& p : stub.publishes())
        if (p.connection == stub.connections() && p.topic_alias > 0) aliases_on_last = true;
    BOOST_TEST(aliases_on_last);
    BOOST_TEST_MESSAGE("DISCONNECT 0x95 for a 5,000-byte reading: " << stub.connections() - 1
                                                                    << " reconnects, then it went to the dead letters; "
                                                                       "aliases still in use");
}

BOOST_AUTO_TEST_CASE(a_publish_answered_by_closing_is_set_aside_and_not_taken_for_another_client) {
    // AWS IoT Core closes the connection on a publish its policy denies.
    MqttStubBroker::Script s;
    s.on_publish = [](int, const StubPublish& p) {
        if (p.topic == "telemetry/gw-01/secret") return StubPubAction{StubPubAction::Kind::close, 0};
        return StubPubAction{};
    };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter("meter", "count = 30\npayload = \"{seq}\"\nevery = \"20ms\"") +
                                emitter("secret", "count = 1\npayload = \"denied\"\nstart_delay = \"200ms\"") +
                                upstream(stub.url()));
    GWD_REQUIRE(
        eventually([&] { return upstream_field(dir, "sent") == "30" && upstream_field(dir, "dead_lettered") == "1"; },
                   60s),
        gw.log());
    const std::string log = gw.log();
    // (The last cause reads "the broker closed the connection" or, when Paho
    // fails the publish in flight before it reports the loss, "a publish failed".)
    BOOST_TEST(log.find("a message from sensor 'secret' was the oldest in flight each of the 3 times the broker "
                        "closed the connection (last: ") != std::string::npos,
               log);
    BOOST_TEST(log.find("; its topic may not be allowed by the broker's policy; sent to the dead-letter topic") !=
                   std::string::npos,
               log);
    BOOST_TEST(log.find("another client uses client id") == std::string::npos, log);
    BOOST_TEST(upstream_field(dir, "state") == "online");
}

BOOST_AUTO_TEST_CASE(mqtt_local_takes_no_message_larger_than_max_packet_size) {
    Mosquitto local;
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                local_sensor(local.url(), "mqtt_version = 4\nmax_packet_size = \"64KiB\"\n") +
                                upstream(cloud.url()));
    GWD_REQUIRE(gw.wait_for_log("subscribed to 1 topic filters", 20s), gw.log());
    TestPublisher sensors(local.url(), 4);
    sensors.publish("sensors/gw-01/big", std::string(1024 * 1024, 'x'));
    sensors.publish("sensors/gw-01/small", "21.5");
    GWD_REQUIRE(eventually([&] { return !app.on_topic("telemetry/gw-01/small").empty(); }, 20s), gw.log());
    BOOST_TEST(app.on_topic("telemetry/gw-01/big").empty());
    BOOST_TEST(gw.log().find("a message on \"sensors/gw-01/big\" of 1048601 bytes is larger than max_packet_size "
                             "(64.0 KiB); acknowledged and dropped") != std::string::npos,
               gw.log());
    BOOST_TEST(gw.process().running());
}

BOOST_AUTO_TEST_CASE(a_nul_in_a_user_property_from_the_broker_is_refused_not_cut_short) {
    MqttStubBroker::Script s;
    s.on_subscribe = [](int) {
        return std::vector<StubOutgoing>{
            StubOutgoing{"sensors/gw-01/a", "1", 1, {{"vendor", std::string("a\0b", 3)}}},
            StubOutgoing{"sensors/gw-01/b", "2", 1, {{"", "empty key is fine"}}},
        };
    };
    MqttStubBroker local(s);
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) + local_sensor(local.url()) + upstream(cloud.url()));
    GWD_REQUIRE(eventually([&] { return !app.on_topic("telemetry/gw-01/b").empty(); }, 20s), gw.log());
    BOOST_TEST(app.on_topic("telemetry/gw-01/a").empty());
    BOOST_TEST(gw.log().find("a message on \"sensors/gw-01/a\" carries a NUL character") != std::string::npos,
               gw.log());
    const auto b = app.on_topic("telemetry/gw-01/b").front();
    BOOST_TEST((std::find(b.user_properties.begin(), b.user_properties.end(),
                          std::pair<std::string, std::string>{"", "empty key is fine"}) != b.user_properties.end()));
    GWD_CHECK(eventually([&] { return local.pubacks().size() == 2u; }, 10s), gw.log());  // both acknowledged
}
