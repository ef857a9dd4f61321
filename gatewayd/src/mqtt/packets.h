// The MQTT 3.1.1 / 5.0 packets a subscribing client speaks, as bytes: the
// mqtt_local plugin's client (which must choose when a QoS 1 message is
// acknowledged, after gatewayd stored it, which the Paho libraries decide
// for themselves) and the load benchmark. Pure: no sockets, no clocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mqtt/wire.h"

namespace gwd::mqtt {

struct ConnectOptions {
    int version = 5;  // 4 (3.1.1) or 5
    std::string client_id;
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::uint16_t keep_alive_s = 30;
    bool clean_start = false;
    std::uint32_t session_expiry_s = 0;     // v5
    std::uint16_t receive_maximum = 0;      // v5; 0: not sent (65535)
    std::uint32_t maximum_packet_size = 0;  // v5; 0: not sent (no limit)
};

std::string encode_connect(const ConnectOptions& options);
// Retain handling 1 (v5): retained messages only for a new subscription, so
// a resumed session does not get them again.
std::string encode_subscribe(int version, std::uint16_t packet_id, const std::vector<std::string>& filters, int qos);
std::string encode_puback(std::uint16_t packet_id);
// A PUBLISH without properties (what a sensor sends; used by bench/ as a load generator).
std::string encode_publish(int version, const std::string& topic, std::string_view payload, int qos,
                           std::uint16_t packet_id);
std::string encode_pingreq();
std::string encode_disconnect();

struct Connack {
    bool session_present = false;
    int reason = 0;  // v5 reason code, or the 3.1.1 return code
    std::optional<std::string> assigned_client_id;
    std::optional<std::uint16_t> server_keep_alive;
    std::optional<std::string> reason_string;
};

struct Suback {
    std::uint16_t packet_id = 0;
    std::vector<int> reasons;  // granted QoS, or >= 0x80 when refused
};

struct Publish {
    std::string topic;
    std::uint16_t packet_id = 0;
    int qos = 0;
    bool dup = false;
    bool retain = false;
    std::string payload;
    // MQTT v5 properties the reading carries on.
    std::optional<std::string> content_type;
    std::optional<std::uint32_t> message_expiry_s;
    std::vector<std::pair<std::string, std::string>> user_properties;
    bool topic_alias = false;  // the server used one (we never allow it)
};

std::optional<Connack> decode_connack(int version, std::string_view body, std::string& error);
std::optional<Suback> decode_suback(int version, std::string_view body, std::string& error);
std::optional<Publish> decode_publish(int version, std::uint8_t flags, std::string_view body, std::string& error);
// The same into `out`, whose strings keep their capacity from the last
// PUBLISH: a reader of many PUBLISHes allocates nothing for each.
bool decode_publish_into(int version, std::uint8_t flags, std::string_view body, Publish& out, std::string& error);
// The topic, QoS and packet id of a PUBLISH from its head alone (an
// oversized packet); payload and properties stay empty.
std::optional<Publish> decode_publish_head(std::uint8_t flags, std::string_view head, std::string& error);
// The reason of a server DISCONNECT (v5), 0 when it gives none.
int decode_disconnect_reason(int version, std::string_view body);

}  // namespace gwd::mqtt
