// The few MQTT 3.1.1 / 5.0 packets a subscriber needs, as bytes. Pure: no
// sockets, no clocks. The plugin keeps its own client because it must choose
// when a QoS 1 message is acknowledged (after gatewayd stored it), which the
// Paho libraries decide for themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mqtt_local {

enum PacketType : std::uint8_t {
    kConnect = 1,
    kConnack = 2,
    kPublish = 3,
    kPuback = 4,
    kSubscribe = 8,
    kSuback = 9,
    kPingreq = 12,
    kPingresp = 13,
    kDisconnect = 14,
    kAuth = 15,
};

struct ConnectOptions {
    int version = 5;  // 4 (3.1.1) or 5
    std::string client_id;
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::uint16_t keep_alive_s = 30;
    bool clean_start = false;
    std::uint32_t session_expiry_s = 0;  // v5
    std::uint16_t receive_maximum = 0;   // v5; 0: not sent (65535)
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

struct Packet {
    std::uint8_t type = 0;
    std::uint8_t flags = 0;
    std::string body;  // everything after the fixed header (see oversized)
    // Non-zero: the packet was this many bytes, more than the reader's
    // limit, and `body` holds only its head (a PUBLISH's topic and packet
    // id); the rest was skipped without being kept.
    std::uint64_t oversized = 0;
};

// Cuts a byte stream into packets.
// Consumed bytes are dropped once they make up half the buffer, so a read
// that carries a thousand packets costs one move, not a thousand. A packet
// larger than `max_packet_size` (0: no limit) is never held whole: its head
// is returned and the rest dropped as it arrives, so a broker that ignores
// our Maximum Packet Size (or speaks 3.1.1, which has none) cannot make us
// hold 200 MiB.
class PacketReader {
public:
    explicit PacketReader(std::uint32_t max_packet_size = 0) : max_(max_packet_size) {}
    void feed(const char* data, size_t size);
    // The next whole packet; nullopt when more bytes are needed, or with
    // `error` set when the stream is not MQTT.
    std::optional<Packet> next(std::string& error);

private:
    void consume(size_t n);

    std::string buffer_;
    size_t start_ = 0;       // the first byte not yet returned
    std::uint32_t max_ = 0;
    std::uint64_t skip_ = 0;  // bytes of an oversized packet still to drop
};

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
// The topic, QoS and packet id of a PUBLISH from its head alone (an
// oversized packet); payload and properties stay empty.
std::optional<Publish> decode_publish_head(std::uint8_t flags, std::string_view head, std::string& error);
// The reason of a server DISCONNECT (v5), 0 when it gives none.
int decode_disconnect_reason(int version, std::string_view body);

// "Not authorized (0x87)": CONNACK, SUBACK and DISCONNECT codes for logs.
std::string reason_text(int version, int code);

}  // namespace mqtt_local
