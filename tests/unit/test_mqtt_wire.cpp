// The MQTT wire room (gatewayd/src/mqtt/): packets, the stream reader,
// properties, reason names and broker URLs.
#define BOOST_TEST_MODULE mqtt_wire
#include <boost/test/unit_test.hpp>

#include "mqtt/broker_url.h"
#include "mqtt/packet_reader.h"
#include "mqtt/packets.h"
#include "mqtt/reason_codes.h"
#include "mqtt/wire.h"

using namespace gwd::mqtt;

namespace {
std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

std::string u16(int v) { return bytes({(v >> 8) & 0xFF, v & 0xFF}); }
std::string str(const std::string& s) { return u16(static_cast<int>(s.size())) + s; }

// Splits a packet into its parts through the reader, as the plugin does.
Packet one_packet(const std::string& wire) {
    PacketReader reader;
    reader.feed(wire.data(), wire.size());
    std::string error;
    auto p = reader.next(error);
    BOOST_REQUIRE_MESSAGE(p.has_value(), error);
    return *p;
}
}  // namespace

BOOST_AUTO_TEST_CASE(connect_v5_asks_to_resume_the_session) {
    ConnectOptions o;
    o.version = 5;
    o.client_id = "gw-field";
    o.keep_alive_s = 30;
    o.clean_start = false;
    o.session_expiry_s = 86400;
    o.receive_maximum = 1000;
    o.username = "u";
    o.password = "p";
    const Packet p = one_packet(encode_connect(o));
    BOOST_TEST(p.type == kConnect);
    const std::string expected = str("MQTT") + bytes({5, 0xC0}) + u16(30) +
                                 bytes({8, 0x11, 0x00, 0x01, 0x51, 0x80, 0x21}) + u16(1000) + str("gw-field") +
                                 str("u") + str("p");
    BOOST_TEST(p.body == expected);
}

BOOST_AUTO_TEST_CASE(connect_v311_has_no_properties_and_a_clean_session_flag) {
    ConnectOptions o;
    o.version = 4;
    o.client_id = "c";
    o.keep_alive_s = 60;
    o.clean_start = true;
    const Packet p = one_packet(encode_connect(o));
    BOOST_TEST(p.body == str("MQTT") + bytes({4, 0x02}) + u16(60) + str("c"));
}

BOOST_AUTO_TEST_CASE(subscribe_v5_asks_for_retained_messages_only_once) {
    const Packet p = one_packet(encode_subscribe(5, 7, {"a/#", "b/+"}, 1));
    BOOST_TEST(p.type == kSubscribe);
    BOOST_TEST(p.flags == 0x02);
    BOOST_TEST(p.body == u16(7) + bytes({0}) + str("a/#") + bytes({0x11}) + str("b/+") + bytes({0x11}));
    const Packet v4 = one_packet(encode_subscribe(4, 7, {"a/#"}, 1));
    BOOST_TEST(v4.body == u16(7) + str("a/#") + bytes({0x01}));
}

BOOST_AUTO_TEST_CASE(the_reader_waits_for_whole_packets_fed_byte_by_byte) {
    std::string payload(300, 'x');  // a two-byte remaining length
    const std::string body = str("t") + u16(9) + payload;
    std::string wire = bytes({0x32}) +
                       bytes({static_cast<int>((body.size() & 0x7F) | 0x80), static_cast<int>(body.size() >> 7)}) +
                       body;
    wire += encode_pingreq();
    PacketReader reader;
    std::string error;
    int packets = 0;
    for (char c : wire) {
        reader.feed(&c, 1);
        while (auto p = reader.next(error)) {
            ++packets;
            if (packets == 1) {
                BOOST_TEST(p->type == kPublish);
                auto publish = decode_publish(4, p->flags, p->body, error);
                BOOST_REQUIRE(publish.has_value());
                BOOST_TEST(publish->topic == "t");
                BOOST_TEST(publish->packet_id == 9);
                BOOST_TEST(publish->qos == 1);
                BOOST_TEST(publish->payload == payload);
            } else {
                BOOST_TEST(p->type == kPingreq);
            }
        }
        BOOST_REQUIRE(error.empty());
    }
    BOOST_TEST(packets == 2);
}

BOOST_AUTO_TEST_CASE(a_v5_publish_carries_content_type_expiry_and_properties_in_order) {
    const std::string props = bytes({0x03}) + str("application/json") + bytes({0x02, 0, 0, 0, 60}) + bytes({0x26}) +
                              str("unit") + str("C") + bytes({0x26}) + str("unit") + str("K") + bytes({0x01, 1});
    const std::string body =
        str("sensors/gw/s1") + u16(3) + bytes({static_cast<int>(props.size())}) + props + "{\"v\":1}";
    std::string error;
    auto p = decode_publish(5, 0x0B, body, error);  // dup, QoS 1, retain
    BOOST_REQUIRE_MESSAGE(p.has_value(), error);
    BOOST_TEST(p->dup);
    BOOST_TEST(p->retain);
    BOOST_TEST(p->qos == 1);
    BOOST_TEST(p->packet_id == 3);
    BOOST_TEST(p->content_type.value_or("") == "application/json");
    BOOST_TEST(p->message_expiry_s.value_or(0) == 60u);
    BOOST_REQUIRE(p->user_properties.size() == 2u);
    BOOST_TEST(p->user_properties[0].second == "C");
    BOOST_TEST(p->user_properties[1].second == "K");
    BOOST_TEST(p->payload == "{\"v\":1}");
}

BOOST_AUTO_TEST_CASE(malformed_publishes_are_refused_with_a_reason) {
    std::string error;
    BOOST_TEST(!decode_publish(4, 0x06, str("t") + u16(1), error));  // QoS 3
    BOOST_TEST(error.find("QoS 3") != std::string::npos);
    error.clear();
    BOOST_TEST(!decode_publish(4, 0x02, str("t") + u16(0), error));  // packet id 0
    BOOST_TEST(error.find("packet id 0") != std::string::npos);
    error.clear();
    BOOST_TEST(!decode_publish(4, 0x02, bytes({0, 9, 't'}), error));  // topic longer than the packet
    BOOST_TEST(error.find("truncated") != std::string::npos);
    error.clear();
    BOOST_TEST(!decode_publish(5, 0x00, str("t") + bytes({2, 0x7F, 0}), error));  // unknown property
    BOOST_TEST(error.find("properties") != std::string::npos);
    PacketReader reader;
    const std::string garbage = bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
    reader.feed(garbage.data(), garbage.size());
    error.clear();
    BOOST_TEST(!reader.next(error));
    BOOST_TEST(error.find("remaining length") != std::string::npos);
}

// mqtt_local reads every packet into one Packet: nothing of a packet
// (an oversized mark, a longer body) may stay for the next.
BOOST_AUTO_TEST_CASE(a_reused_packet_holds_only_the_latest) {
    PacketReader reader(16);
    const std::string big = bytes({0x30, 20}) + str("t") + std::string(17, 'x');
    const std::string small = bytes({0x30, 4}) + str("t") + "y";
    const std::string ack = bytes({0x40, 2}) + u16(7);
    const std::string wire = big + small + ack;
    std::string error;
    Packet p;
    BOOST_TEST(!reader.next(p, error));  // nothing fed yet
    reader.feed(wire.data(), wire.size());
    BOOST_REQUIRE(reader.next(p, error));
    BOOST_TEST(p.oversized == 22u);
    BOOST_TEST(p.body == str("t"));  // only the head of a PUBLISH over the limit
    BOOST_REQUIRE(reader.next(p, error));
    BOOST_TEST(p.oversized == 0u);
    BOOST_TEST(p.type == kPublish);
    BOOST_TEST(p.body == str("t") + "y");
    BOOST_REQUIRE(reader.next(p, error));
    BOOST_TEST(p.type == kPuback);
    BOOST_TEST(p.body == u16(7));
    BOOST_TEST(!reader.next(p, error));
    BOOST_TEST(error.empty());
}

BOOST_AUTO_TEST_CASE(connack_reports_session_and_server_settings) {
    std::string error;
    const std::string props = bytes({0x12}) + str("auto-1") + bytes({0x13}) + u16(20);
    auto a = decode_connack(5, bytes({1, 0, static_cast<int>(props.size())}) + props, error);
    BOOST_REQUIRE_MESSAGE(a.has_value(), error);
    BOOST_TEST(a->session_present);
    BOOST_TEST(a->reason == 0);
    BOOST_TEST(a->assigned_client_id.value_or("") == "auto-1");
    BOOST_TEST(a->server_keep_alive.value_or(0) == 20);
    auto refused = decode_connack(4, bytes({0, 5}), error);
    BOOST_REQUIRE(refused.has_value());
    BOOST_TEST(refused->reason == 5);
    BOOST_TEST(gwd::describe_reason(4, 5) == "Not authorized (return code 5)");
    BOOST_TEST(gwd::describe_reason(5, 0x87) == "Not authorized (0x87)");
}

BOOST_AUTO_TEST_CASE(suback_reasons_say_which_filters_were_refused) {
    std::string error;
    auto s = decode_suback(5, u16(1) + bytes({0, 1, 0x87}), error);
    BOOST_REQUIRE(s.has_value());
    BOOST_TEST((s->reasons == std::vector<int>{1, 0x87}));
}

BOOST_AUTO_TEST_CASE(properties_written_are_read_back_whatever_their_type) {
    std::string block;
    put_properties(block, {{kMessageExpiry, 3600u},
                           {kTopicAlias, 7u},
                           {kPayloadFormat, 1u},
                           {kSubscriptionId, 300u},
                           {kContentType, std::string("text/plain")},
                           {kUserProperty, std::pair<std::string, std::string>("unit", "degC")}});
    Cursor c(block);
    std::vector<std::string> seen;
    BOOST_TEST(read_properties(c, [&](std::uint8_t id, std::uint32_t n, std::string_view k, std::string_view v) {
        seen.push_back(std::to_string(id) + "=" + (k.empty() ? std::to_string(n) : std::string(k)) +
                       (v.empty() ? "" : ":" + std::string(v)));
    }));
    BOOST_TEST(c.empty());
    BOOST_TEST((seen == std::vector<std::string>{"2=3600", "35=7", "1=1", "11=300", "3=text/plain", "38=unit:degC"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_property_or_a_short_block_stops_the_walk) {
    const std::string unknown = bytes({2, 0x7F, 0});
    Cursor c(unknown);
    BOOST_TEST(!read_properties(c, [](std::uint8_t, std::uint32_t, std::string_view, std::string_view) {}));
    const std::string short_block = bytes({5, kMessageExpiry, 0, 0});
    Cursor d(short_block);
    BOOST_TEST(!read_properties(d, [](std::uint8_t, std::uint32_t, std::string_view, std::string_view) {}));
}

BOOST_AUTO_TEST_CASE(variable_byte_integers_at_their_boundaries) {
    for (std::uint32_t v : {0u, 127u, 128u, 16383u, 16384u, 2097151u, 2097152u, kMaxVarint}) {
        std::string out;
        put_varint(out, v);
        Cursor c(out);
        BOOST_TEST(c.varint() == v);
        BOOST_TEST(c.ok());
        BOOST_TEST(c.empty());
    }
    const std::string five_bytes = bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x01});  // a Cursor borrows its bytes
    Cursor five(five_bytes);
    five.varint();
    BOOST_TEST(!five.ok());  // more than four bytes is malformed
}

BOOST_AUTO_TEST_CASE(broker_urls_in_every_accepted_form) {
    std::string error;
    BOOST_TEST(parse_broker_url("tcp://broker", error)->str() == "tcp://broker:1883");
    BOOST_TEST(parse_broker_url("mqtts://broker", error)->str() == "ssl://broker:8883");
    BOOST_TEST(parse_broker_url("TLS://10.0.0.1:8884/", error)->str() == "ssl://10.0.0.1:8884");
    const auto v6 = parse_broker_url("mqtt://[::1]:1884", error);
    BOOST_REQUIRE(v6.has_value());
    BOOST_TEST(v6->host == "::1");  // for getaddrinfo
    BOOST_TEST(v6->str() == "tcp://[::1]:1884");
    BOOST_TEST(!parse_broker_url("broker:1883", error));
    BOOST_TEST(error.find("needs a scheme") != std::string::npos);
    BOOST_TEST(!parse_broker_url("http://broker", error));
    BOOST_TEST(error.find("unsupported scheme 'http://'") != std::string::npos);
    BOOST_TEST(!parse_broker_url("tcp://broker:0", error));
    BOOST_TEST(error == "has port 0, outside 1..65535");
    BOOST_TEST(!parse_broker_url("tcp://[::1", error));
    BOOST_TEST(!parse_broker_url("tcp://broker/path", error));
    BOOST_TEST(!parse_broker_url("tcp://:1883", error));
    BOOST_TEST(error == "has no host");
}

BOOST_AUTO_TEST_CASE(a_host_and_port_takes_the_default_port_when_it_names_none) {
    std::string error;
    BOOST_TEST(parse_host_port("other", 8883, error)->port == 8883);
    BOOST_TEST(parse_host_port("other:1", 8883, error)->port == 1);
    BOOST_TEST(!parse_host_port("other:x", 8883, error));
}
