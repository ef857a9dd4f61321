// What the upstream does with each reason code mosquitto 2.0.11 cannot
// send, against a scripted broker stub: stop, slow down, follow a redirect,
// detect another client with the same id, reconnect without topic aliases,
// dead-letter a refused publish, and unstick a message the broker chokes on.
#define BOOST_TEST_MODULE reason_codes
#include <boost/test/unit_test.hpp>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"
#include "mqtt_stub_broker.h"

using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

std::string config(const TempDir& dir, const std::string& url, const std::string& upstream_extra = "",
                   const std::string& emitter = "count = 5\npayload = \"{seq}\"") {
    return gateway_section(dir, all_plugins(dir)) +
           "[[sensor]]\nname = \"meter\"\nplugin = \"test_emitter\"\n[sensor.options]\n" + emitter + "\n\n" +
           "[[upstream]]\nname = \"cloud\"\nurl = \"" + url + "\"\nclient_id = \"gw-01\"\n" + upstream_extra +
           "[upstream.backoff]\ninitial = \"100ms\"\nmax = \"1s\"\nthrottled_floor = \"3s\"\n";
}

std::string state_of(const TempDir& dir) {
    auto status = daemon_status(dir);
    if (!status) return "(no answer)";
    return upstream_status(*status, "cloud")->find("state")->as_string();
}

double number_of(const TempDir& dir, const char* key) {
    auto status = daemon_status(dir);
    if (!status) return -1;
    const auto* v = upstream_status(*status, "cloud")->find(key);
    return v && v->is_number() ? v->as_number().value : -1;
}

MqttStubBroker::Script refuse_connect(int reason) {
    MqttStubBroker::Script s;
    s.on_connect = [reason](int, const std::string&) { return StubConnack{reason, {}, {}, {}}; };
    return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(authorization_codes_stop_after_one_connect) {
    for (int code : {0x86, 0x8A, 0x8C, 0x85, 0x87}) {
        BOOST_TEST_CONTEXT("CONNACK 0x" << std::hex << code) {
            MqttStubBroker stub(refuse_connect(code));
            TempDir dir;
            GatewaydProcess gw(dir, config(dir, stub.url()));
            GWD_REQUIRE(gw.wait_for_log("stopped: cannot connect to", 10s), gw.log());
            std::this_thread::sleep_for(2s);
            BOOST_TEST_MESSAGE("0x" << std::hex << code << std::dec << ": " << stub.connections()
                                    << " connection attempt(s), state " << state_of(dir));
            BOOST_TEST(stub.connections() == 1);
            BOOST_TEST(state_of(dir) == "stopped");
            BOOST_TEST(number_of(dir, "last_reason_code") == code);
        }
    }
}

BOOST_AUTO_TEST_CASE(throttling_codes_wait_for_the_floor) {
    for (int code : {0x89, 0x97, 0x88, 0x9F}) {
        BOOST_TEST_CONTEXT("CONNACK 0x" << std::hex << code) {
            MqttStubBroker stub(refuse_connect(code));
            TempDir dir;
            GatewaydProcess gw(dir, config(dir, stub.url()));
            BOOST_REQUIRE(stub.wait_for_connections(1, 10s));
            std::this_thread::sleep_for(2s);  // below the 3 s floor
            BOOST_TEST(stub.connections() == 1);
            BOOST_TEST(state_of(dir) == "backoff");
            BOOST_TEST(stub.wait_for_connections(2, 5s));
            BOOST_TEST_MESSAGE("0x" << std::hex << code << std::dec << ": second attempt after the 3 s floor; "
                                    << stub.connections() << " attempts");
            BOOST_TEST(gw.log().find("[throttled]") != std::string::npos);
        }
    }
}

// paho.mqtt.c 1.3 drops the properties of a refused CONNACK (nextOrClose
// passes only the code on), so a Server Reference reaches gatewayd only on a
// server DISCONNECT; a CONNACK 0x9C/0x9D is retried like any transient refusal.
BOOST_AUTO_TEST_CASE(redirect_is_followed_when_allowed) {
    for (int code : {0x9C, 0x9D}) {
        BOOST_TEST_CONTEXT("DISCONNECT 0x" << std::hex << code) {
            Mosquitto real;
            TestSubscriber subscriber(real.url(), {"telemetry/#"});
            MqttStubBroker::Script s;
            const std::string reference = "127.0.0.1:" + std::to_string(real.port());
            s.on_connect = [code, reference](int, const std::string&) {
                return StubConnack{0, {}, code, {{prop::server_reference, reference}}};
            };
            MqttStubBroker stub(s);
            TempDir dir;
            GatewaydProcess gw(dir, config(dir, stub.url(), "follow_server_reference = true\n"));
            GWD_REQUIRE(subscriber.wait_for(5, 15s), gw.log());
            BOOST_TEST(stub.connections() == 1);
            BOOST_TEST(gw.log().find("the broker redirects to " + real.url()) != std::string::npos);
            BOOST_TEST_MESSAGE("0x" << std::hex << code << std::dec << ": 1 connection to the stub, then online at "
                                    << real.url() << ", 5 readings delivered there");
        }
    }
}

BOOST_AUTO_TEST_CASE(redirect_is_not_followed_unless_allowed) {
    Mosquitto real;
    MqttStubBroker::Script s;
    const std::string reference = "127.0.0.1:" + std::to_string(real.port());
    s.on_connect = [reference](int, const std::string&) {
        return StubConnack{0, {}, 0x9C, {{prop::server_reference, reference}}};
    };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir, config(dir, stub.url()));
    GWD_CHECK(gw.wait_for_log("set follow_server_reference = true to allow", 15s), gw.log());
    BOOST_TEST(stub.wait_for_connections(2, 10s));  // and it stays with the broker it was configured for
}

BOOST_AUTO_TEST_CASE(a_connack_redirect_without_a_visible_reference_is_retried) {
    MqttStubBroker stub(refuse_connect(0x9C));
    TempDir dir;
    GatewaydProcess gw(dir, config(dir, stub.url(), "follow_server_reference = true\n"));
    BOOST_REQUIRE(stub.wait_for_connections(2, 10s));
    BOOST_TEST(gw.log().find("Use another server (0x9C) [transient]") != std::string::npos, gw.log());
}

BOOST_AUTO_TEST_CASE(repeated_session_takeovers_stop_with_a_clear_reason) {
    MqttStubBroker::Script s;
    s.on_connect = [](int, const std::string&) { return StubConnack{0, {}, 0x8E, {}}; };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir, config(dir, stub.url()));
    GWD_REQUIRE(gw.wait_for_log("another client uses client id 'gw-01'", 15s), gw.log());
    std::this_thread::sleep_for(2s);
    BOOST_TEST_MESSAGE("session takeovers before stopping: " << stub.connections());
    BOOST_TEST(stub.connections() == 3);
    BOOST_TEST(state_of(dir) == "stopped");
}

BOOST_AUTO_TEST_CASE(topic_alias_refusal_reconnects_without_aliases) {
    MqttStubBroker::Script s;
    s.on_connect = [](int, const std::string&) { return StubConnack{0, {{prop::topic_alias_maximum, 10u}}, {}, {}}; };
    s.on_publish = [](int, const StubPublish& p) {
        if (p.topic_alias > 0) return StubPubAction{StubPubAction::Kind::disconnect, 0x94};
        return StubPubAction{};
    };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir, config(dir, stub.url(), "topic_alias = true\n", "count = 10\npayload = \"{seq}\""));
    GWD_REQUIRE(eventually(
                    [&] {
                        size_t acked = 0;
                        for (const auto& p : stub.publishes())
                            if (p.topic_alias == 0 && p.connection > 1) ++acked;
                        return acked >= 9;
                    },
                    15s),
                gw.log());
    // Either the 0x94 came through, or two drops in a row right after the
    // aliases came into use gave them away (Paho may lose a DISCONNECT's reason).
    const std::string log = gw.log();
    BOOST_TEST((log.find("the broker refused our topic aliases; they stay off") != std::string::npos ||
                log.find("reconnecting without them until a connection stays up") != std::string::npos),
               log);
    const int last = stub.connections();
    BOOST_TEST_MESSAGE("DISCONNECT 0x94: " << last << " connections; all 10 readings acknowledged, "
                                           << "none with an alias on the last connection");
    for (const auto& p : stub.publishes()) {
        if (p.connection == last) BOOST_TEST(p.topic_alias == 0, "connection " << p.connection << "\n" << log);
        BOOST_TEST(p.topic == "telemetry/gw-01/meter");
    }
}

BOOST_AUTO_TEST_CASE(topic_aliases_save_the_topic_on_repeat_publishes) {
    MqttStubBroker::Script s;
    s.on_connect = [](int, const std::string&) { return StubConnack{0, {{prop::topic_alias_maximum, 10u}}, {}, {}}; };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir, config(dir, stub.url(), "topic_alias = true\n", "count = 10\npayload = \"{seq}\""));
    GWD_REQUIRE(stub.wait_for_publishes(10, 15s), gw.log());
    const auto p = stub.publishes();
    BOOST_TEST(p[0].topic_alias == 0);  // first use: full topic
    BOOST_TEST(p[1].topic_alias == 1);  // second: topic and alias
    BOOST_TEST(!p[1].topic_was_empty);
    for (size_t i = 2; i < p.size(); ++i) {  // then the alias alone
        BOOST_TEST(p[i].topic_alias == 1);
        BOOST_TEST(p[i].topic_was_empty);
        BOOST_TEST(p[i].topic == "telemetry/gw-01/meter");
    }
}

BOOST_AUTO_TEST_CASE(a_refused_publish_is_dead_lettered_and_blocks_nothing) {
    for (int code : {0x87, 0x90, 0x80}) {
        BOOST_TEST_CONTEXT("PUBACK 0x" << std::hex << code) {
            MqttStubBroker::Script s;
            s.on_publish = [code](int, const StubPublish& p) {
                if (p.topic.starts_with("telemetry/") && p.payload == "2")
                    return StubPubAction{StubPubAction::Kind::acknowledge, code};
                return StubPubAction{};
            };
            MqttStubBroker stub(s);
            TempDir dir;
            GatewaydProcess gw(dir, config(dir, stub.url()));
            GWD_REQUIRE(stub.wait_for_publishes(6, 15s), gw.log());
            std::this_thread::sleep_for(300ms);
            const auto publishes = stub.publishes();
            std::vector<std::string> data;
            const StubPublish* dead = nullptr;
            for (const auto& p : publishes) {
                if (p.topic == "deadletter/gw-01/meter")
                    dead = &p;
                else
                    data.push_back(p.payload);
            }
            BOOST_TEST((data == std::vector<std::string>{"0", "1", "2", "3", "4"}));
            BOOST_REQUIRE(dead != nullptr);
            BOOST_TEST(dead->payload == "2");
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02X", code);
            bool has_code = false;
            for (const auto& [k, v] : dead->user_properties) has_code |= (k == "reason_code" && v == hex);
            BOOST_TEST(has_code);
            BOOST_TEST(stub.connections() == 1);               // the connection was never dropped
            BOOST_TEST(number_of(dir, "dead_lettered") == 1);  // counted once the broker took the dead letter
            BOOST_TEST(number_of(dir, "sent") == 4);
        }
    }
}

BOOST_AUTO_TEST_CASE(quota_exceeded_slows_down_and_retries_the_message) {
    MqttStubBroker::Script s;
    std::atomic<int> refused{0};
    s.on_publish = [&](int, const StubPublish&) {
        if (refused.fetch_add(1) < 3) return StubPubAction{StubPubAction::Kind::acknowledge, 0x97};
        return StubPubAction{};
    };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir, config(dir, stub.url()));
    GWD_REQUIRE(eventually([&] { return number_of(dir, "sent") == 5; }, 20s), gw.log());
    BOOST_TEST(gw.log().find("Quota exceeded (0x97); slowing down to") != std::string::npos);
    BOOST_TEST_MESSAGE("PUBACK 0x97 three times: " << stub.connections() << " connection, all 5 readings delivered, "
                                                   << "pace " << number_of(dir, "publish_rate_limit") << "/s");
    BOOST_TEST(number_of(dir, "dead_lettered") == 0);
    BOOST_TEST(stub.connections() == 1);
}

BOOST_AUTO_TEST_CASE(a_message_the_broker_chokes_on_is_set_aside_after_three_tries) {
    MqttStubBroker::Script s;
    s.on_publish = [](int, const StubPublish& p) {
        if (p.payload == "poison" && p.topic.starts_with("telemetry/"))
            return StubPubAction{StubPubAction::Kind::close, 0};
        return StubPubAction{};
    };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                "[[sensor]]\nname = \"bad\"\nplugin = \"test_emitter\"\n[sensor.options]\n"
                                "count = 1\npayload = \"poison\"\n\n"
                                "[[sensor]]\nname = \"good\"\nplugin = \"test_emitter\"\n[sensor.options]\n"
                                "count = 3\npayload = \"{seq}\"\nstart_delay = \"200ms\"\n\n"
                                "[[upstream]]\nname = \"cloud\"\nurl = \"" +
                                stub.url() +
                                "\"\n"
                                "[upstream.backoff]\ninitial = \"100ms\"\nmax = \"200ms\"\n");
    GWD_REQUIRE(eventually([&] { return number_of(dir, "sent") >= 3 && number_of(dir, "dead_lettered") >= 1; }, 20s),
                gw.log());
    BOOST_TEST(gw.log().find("was the oldest in flight each of the 3 times the broker closed the connection") !=
                   std::string::npos,
               gw.log());
    size_t poison_data = 0, good = 0;
    bool dead_letter_with_payload = false;
    for (const auto& p : stub.publishes()) {
        if (p.payload == "poison" && p.topic == "telemetry/gw-01/bad") ++poison_data;
        if (p.topic == "telemetry/gw-01/good") ++good;
        // The payload stays with the dead letter: its size was not the complaint.
        if (p.topic == "deadletter/gw-01/bad" && p.payload == "poison") dead_letter_with_payload = true;
    }
    BOOST_TEST(poison_data == 3u);
    BOOST_TEST(good >= 3u);
    BOOST_TEST(dead_letter_with_payload);
    BOOST_TEST(gw.log().find("another client uses client id") == std::string::npos);  // not mistaken for a takeover
}

BOOST_AUTO_TEST_CASE(assigned_client_identifier_is_used) {
    MqttStubBroker::Script s;
    s.on_connect = [](int, const std::string&) {
        return StubConnack{0, {{prop::assigned_client_identifier, std::string("stub-assigned-7")}}, {}, {}};
    };
    MqttStubBroker stub(s);
    TempDir dir;
    std::string text = config(dir, stub.url());
    text.replace(text.find("client_id = \"gw-01\""), std::string("client_id = \"gw-01\"").size(), "client_id = \"\"");
    GatewaydProcess gw(dir, text);
    GWD_REQUIRE(stub.wait_for_publishes(5, 15s), gw.log());
    BOOST_TEST(stub.client_ids().front().empty());
    auto status = daemon_status(dir);
    BOOST_REQUIRE(status);
    BOOST_TEST(upstream_status(*status, "cloud")->find("client_id")->as_string() == "stub-assigned-7");
}

BOOST_AUTO_TEST_CASE(a_shorter_server_keep_alive_costs_one_reconnect) {
    MqttStubBroker::Script s;
    s.on_connect = [](int, const std::string&) { return StubConnack{0, {{prop::server_keep_alive, 20u}}, {}, {}}; };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir, config(dir, stub.url()));
    GWD_REQUIRE(stub.wait_for_publishes(5, 15s), gw.log());
    std::this_thread::sleep_for(1500ms);
    BOOST_TEST(stub.connections() == 2);
    BOOST_TEST(gw.log().find("the broker asks for a keep alive of 20s; reconnecting with it") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(maximum_qos_zero_is_honoured) {
    MqttStubBroker::Script s;
    s.on_connect = [](int, const std::string&) { return StubConnack{0, {{prop::maximum_qos, 0u}}, {}, {}}; };
    MqttStubBroker stub(s);
    TempDir dir;
    GatewaydProcess gw(dir, config(dir, stub.url()));
    GWD_REQUIRE(stub.wait_for_publishes(5, 15s), gw.log());
    for (const auto& p : stub.publishes()) BOOST_TEST(p.qos == 0);
    BOOST_TEST(gw.log().find("the broker allows QoS 0 only") != std::string::npos);
}
