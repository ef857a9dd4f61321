// The MQTT 3.1.1 / 5.0 wire format's building blocks, written once: packet
// types, big-endian integers, variable byte integers, length-prefixed
// strings, and v5 properties. Everything that reads or writes MQTT bytes by
// hand uses these: the mqtt_local plugin's client, the test stub broker and
// the load benchmark (the upstream speaks through Paho). Pure: no sockets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gwd::mqtt {

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

// MQTT 5.0 section 2.2.2.2: property identifiers.
enum PropertyId : std::uint8_t {
    kPayloadFormat = 0x01,
    kMessageExpiry = 0x02,
    kContentType = 0x03,
    kResponseTopic = 0x08,
    kCorrelationData = 0x09,
    kSubscriptionId = 0x0B,
    kSessionExpiry = 0x11,
    kAssignedClientId = 0x12,
    kServerKeepAlive = 0x13,
    kAuthMethod = 0x15,
    kAuthData = 0x16,
    kRequestProblemInfo = 0x17,
    kWillDelay = 0x18,
    kRequestResponseInfo = 0x19,
    kResponseInfo = 0x1A,
    kServerReference = 0x1C,
    kReasonString = 0x1F,
    kReceiveMaximum = 0x21,
    kTopicAliasMaximum = 0x22,
    kTopicAlias = 0x23,
    kMaximumQos = 0x24,
    kRetainAvailable = 0x25,
    kUserProperty = 0x26,
    kMaximumPacketSize = 0x27,
    kWildcardAvailable = 0x28,
    kSubscriptionIdAvailable = 0x29,
    kSharedSubscriptionAvailable = 0x2A,
};

// How a property's value is written.
enum class PropertyType { byte, two_byte, four_byte, varint, string, string_pair, unknown };
PropertyType property_type(std::uint8_t id);

// The largest remaining length MQTT can express (4 bytes of varint).
inline constexpr std::uint32_t kMaxVarint = 268435455;

void put_u16(std::string& out, std::uint16_t v);
void put_u32(std::string& out, std::uint32_t v);
void put_varint(std::string& out, std::uint32_t v);
// A UTF-8 string or binary data: two bytes of length, then the bytes.
void put_string(std::string& out, std::string_view s);
// A whole packet: the fixed header (type, flags, remaining length) and `body`.
std::string packet(std::uint8_t type, std::uint8_t flags, std::string_view body);

// Reads fields in order; the first shortfall sticks (ok() turns false and
// every later read returns zero or empty).
class Cursor {
public:
    explicit Cursor(std::string_view data) : rest_(data) {}
    bool ok() const { return ok_; }
    bool empty() const { return rest_.empty(); }
    std::string_view rest() const { return rest_; }

    std::uint8_t u8();
    std::uint16_t u16();
    std::uint32_t u32();
    std::uint32_t varint();
    std::string_view bytes(size_t n);
    std::string string() { return std::string(bytes(u16())); }

private:
    bool need(size_t n);
    std::string_view rest_;
    bool ok_ = true;
};

// One v5 property, for writing.
struct Property {
    std::uint8_t id = 0;
    std::variant<std::uint32_t, std::string, std::pair<std::string, std::string>> value;
};
// A property block: its length, then each property.
void put_properties(std::string& out, const std::vector<Property>& properties);

// Walks a v5 property block, calling on(id, number, text, second_text) for
// each property (a number for integers, text for strings and binary data,
// both texts for a user property). An unknown identifier ends the walk
// with false (its length is unknown), as does a malformed block.
template <typename On>
bool read_properties(Cursor& c, On&& on) {
    const std::uint32_t length = c.varint();
    if (!c.ok()) return false;
    Cursor props(c.bytes(length));
    if (!c.ok()) return false;
    while (props.ok() && !props.empty()) {
        const auto id = static_cast<std::uint8_t>(props.varint());
        switch (property_type(id)) {
            case PropertyType::byte: on(id, props.u8(), std::string_view{}, std::string_view{}); break;
            case PropertyType::two_byte: on(id, props.u16(), std::string_view{}, std::string_view{}); break;
            case PropertyType::four_byte: on(id, props.u32(), std::string_view{}, std::string_view{}); break;
            case PropertyType::varint: on(id, props.varint(), std::string_view{}, std::string_view{}); break;
            case PropertyType::string: {
                const std::string_view v = props.bytes(props.u16());
                on(id, 0, v, std::string_view{});
                break;
            }
            case PropertyType::string_pair: {
                const std::string_view k = props.bytes(props.u16());
                const std::string_view v = props.bytes(props.u16());
                on(id, 0, k, v);
                break;
            }
            case PropertyType::unknown: return false;
        }
    }
    return props.ok();
}

}  // namespace gwd::mqtt
