#define BOOST_TEST_MODULE mqtt_profile
#include <boost/test/unit_test.hpp>

#include "common/json.h"
#include "upstream/profiles/mqtt_profile.h"

using namespace gwd;

namespace {
UpstreamConfig upstream(int version, bool envelope) {
    UpstreamConfig u;
    u.name = "cloud";
    u.mqtt_version = version;
    u.envelope = envelope;
    u.topic = "telemetry/{gateway}/{sensor}";
    u.dead_letter_topic = "deadletter/{gateway}/{instance}/{sensor}";
    return u;
}

Message seed_message() {
    Message m;
    m.sensor = "sensor02";
    m.instance = "field";
    m.timestamp_ms = 1763802000123;
    m.payload = "23.7";
    m.content_type = "text/plain";
    m.utf8 = true;
    m.properties = {{"vendor", "huawei"}, {"hw_revision", "8.2"}};
    return m;
}

MqttUplinkCodec codec(const UpstreamConfig& u) { return MqttUplinkCodec(u, "gw-01", {{"field", "mqtt_local"}}); }
}  // namespace

BOOST_AUTO_TEST_CASE(v5_carries_metadata_as_properties) {
    auto c = codec(upstream(5, false));
    const Message m = seed_message();  // the request borrows its payload: it must outlive the request
    auto r = c.encode(m, 1);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->topic == "telemetry/gw-01/sensor02");
    BOOST_TEST(r->payload_bytes() == "23.7");
    BOOST_TEST(*r->content_type_text() == "text/plain");
    BOOST_TEST(*r->payload_format == 1);
    BOOST_TEST(r->qos == 1);
    BOOST_TEST((r->properties == UserProperties{{"vendor", "huawei"}, {"hw_revision", "8.2"}}));
}

BOOST_AUTO_TEST_CASE(envelope_folds_metadata_into_json) {
    auto c = codec(upstream(4, true));
    auto r = c.encode(seed_message(), 1);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->payload == R"({"gateway":"gw-01","sensor":"sensor02","ts":1763802000123,"content_type":"text/plain",)"
                             R"("properties":{"vendor":"huawei","hw_revision":"8.2"},"payload":"23.7"})");
    BOOST_TEST(r->properties.empty());
}

BOOST_AUTO_TEST_CASE(envelope_embeds_json_and_encodes_binary) {
    auto c = codec(upstream(4, true));
    Message json = seed_message();
    json.payload = "{\"t\": 23.7}";
    json.content_type = "application/json";
    json.properties = {{"tag", "a"}, {"tag", "b"}};
    std::string error;
    auto parsed = json_parse(c.encode(json, 1)->payload, error);
    BOOST_REQUIRE(parsed);
    BOOST_TEST(parsed->find("payload")->find("t")->as_number().text == "23.7");
    BOOST_TEST(parsed->find("properties")->find("tag")->as_array().size() == 2u);

    Message binary = seed_message();
    binary.payload = std::string("\x00\xff", 2);
    binary.content_type = "application/octet-stream";
    binary.utf8 = false;
    parsed = json_parse(c.encode(binary, 1)->payload, error);
    BOOST_REQUIRE(parsed);
    BOOST_TEST(parsed->find("payload_encoding")->as_string() == "base64");
    BOOST_TEST(parsed->find("payload")->as_string() == "AP8=");
}

BOOST_AUTO_TEST_CASE(dead_letters_go_to_their_topic_with_the_error) {
    auto c = codec(upstream(5, false));
    Message m = seed_message();
    m.kind = Message::Kind::dead_letter;
    m.error = "base64 decoding failed";
    auto r = c.encode(m, 1);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->topic == "deadletter/gw-01/field/sensor02");
    BOOST_TEST(r->properties.back().key == "error");
    BOOST_TEST(r->properties.back().value == "base64 decoding failed");
    BOOST_TEST(!r->retain);
}

BOOST_AUTO_TEST_CASE(no_dead_letter_topic_means_not_carried) {
    UpstreamConfig u = upstream(5, false);
    u.dead_letter_topic.clear();
    auto c = codec(u);
    Message m = seed_message();
    m.kind = Message::Kind::dead_letter;
    BOOST_TEST(!c.encode(m, 1));
}
