#include "mqtt_codec.h"

#include <algorithm>
#include <cstdio>

namespace mqtt_local {

namespace {

// MQTT v5 property identifiers this client reads or writes.
enum Property : std::uint8_t {
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

void put_u16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xFF));
}

void put_u32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void put_varint(std::string& out, std::uint32_t v) {
    do {
        std::uint8_t byte = v % 128;
        v /= 128;
        if (v > 0) byte |= 0x80;
        out.push_back(static_cast<char>(byte));
    } while (v > 0);
}

void put_string(std::string& out, std::string_view s) {
    put_u16(out, static_cast<std::uint16_t>(s.size()));
    out.append(s);
}

std::string packet(std::uint8_t type, std::uint8_t flags, const std::string& body) {
    std::string out;
    out.push_back(static_cast<char>((type << 4) | flags));
    put_varint(out, static_cast<std::uint32_t>(body.size()));
    return out + body;
}

// Reads fields in order; the first shortfall sticks.
class Cursor {
public:
    explicit Cursor(std::string_view data) : rest_(data) {}
    bool ok() const { return ok_; }
    bool empty() const { return rest_.empty(); }
    std::string_view rest() const { return rest_; }

    std::uint8_t u8() {
        if (!need(1)) return 0;
        const auto v = static_cast<std::uint8_t>(rest_[0]);
        rest_.remove_prefix(1);
        return v;
    }
    std::uint16_t u16() {
        if (!need(2)) return 0;
        const auto v = static_cast<std::uint16_t>((static_cast<std::uint8_t>(rest_[0]) << 8) |
                                                  static_cast<std::uint8_t>(rest_[1]));
        rest_.remove_prefix(2);
        return v;
    }
    std::uint32_t u32() {
        if (!need(4)) return 0;
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(rest_[i]);
        rest_.remove_prefix(4);
        return v;
    }
    std::uint32_t varint() {
        std::uint32_t v = 0;
        for (int i = 0, shift = 0; i < 4; ++i, shift += 7) {
            const std::uint8_t byte = u8();
            if (!ok_) return 0;
            v |= std::uint32_t(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) return v;
        }
        ok_ = false;
        return 0;
    }
    std::string_view bytes(size_t n) {
        if (!need(n)) return {};
        std::string_view v = rest_.substr(0, n);
        rest_.remove_prefix(n);
        return v;
    }
    std::string string() { return std::string(bytes(u16())); }

private:
    bool need(size_t n) {
        if (!ok_ || rest_.size() < n) ok_ = false;
        return ok_;
    }
    std::string_view rest_;
    bool ok_ = true;
};

// Walks a v5 property block, calling `on` for each property; unknown
// identifiers end the walk (their length is unknown), as do malformed ones.
template <typename On>
bool read_properties(Cursor& c, On&& on) {
    const std::uint32_t length = c.varint();
    if (!c.ok()) return false;
    Cursor props(c.bytes(length));
    if (!c.ok()) return false;
    while (props.ok() && !props.empty()) {
        const std::uint8_t id = static_cast<std::uint8_t>(props.varint());
        switch (id) {
            case kPayloadFormat:
            case kRequestProblemInfo:
            case kRequestResponseInfo:
            case kMaximumQos:
            case kRetainAvailable:
            case kWildcardAvailable:
            case kSubscriptionIdAvailable:
            case kSharedSubscriptionAvailable:
                on(id, props.u8(), std::string_view{}, std::string_view{});
                break;
            case kServerKeepAlive:
            case kReceiveMaximum:
            case kTopicAliasMaximum:
            case kTopicAlias:
                on(id, props.u16(), std::string_view{}, std::string_view{});
                break;
            case kMessageExpiry:
            case kSessionExpiry:
            case kWillDelay:
            case kMaximumPacketSize:
                on(id, props.u32(), std::string_view{}, std::string_view{});
                break;
            case kSubscriptionId:
                on(id, props.varint(), std::string_view{}, std::string_view{});
                break;
            case kContentType:
            case kResponseTopic:
            case kAssignedClientId:
            case kAuthMethod:
            case kResponseInfo:
            case kServerReference:
            case kReasonString:
            case kCorrelationData:
            case kAuthData: {
                const std::string_view v = props.bytes(props.u16());
                on(id, 0, v, std::string_view{});
                break;
            }
            case kUserProperty: {
                const std::string_view k = props.bytes(props.u16());
                const std::string_view v = props.bytes(props.u16());
                on(id, 0, k, v);
                break;
            }
            default:
                return false;
        }
    }
    return props.ok();
}

}  // namespace

std::string encode_connect(const ConnectOptions& o) {
    std::string body;
    put_string(body, "MQTT");
    body.push_back(static_cast<char>(o.version));
    std::uint8_t flags = 0;
    if (o.username) flags |= 0x80;
    if (o.password) flags |= 0x40;
    if (o.clean_start) flags |= 0x02;
    body.push_back(static_cast<char>(flags));
    put_u16(body, o.keep_alive_s);
    if (o.version == 5) {
        std::string props;
        if (o.session_expiry_s > 0) {
            props.push_back(static_cast<char>(kSessionExpiry));
            put_u32(props, o.session_expiry_s);
        }
        if (o.receive_maximum > 0) {
            props.push_back(static_cast<char>(kReceiveMaximum));
            put_u16(props, o.receive_maximum);
        }
        put_varint(body, static_cast<std::uint32_t>(props.size()));
        body += props;
    }
    put_string(body, o.client_id);
    if (o.username) put_string(body, *o.username);
    if (o.password) put_string(body, *o.password);
    return packet(kConnect, 0, body);
}

std::string encode_subscribe(int version, std::uint16_t packet_id, const std::vector<std::string>& filters, int qos) {
    std::string body;
    put_u16(body, packet_id);
    if (version == 5) put_varint(body, 0);
    for (const auto& filter : filters) {
        put_string(body, filter);
        std::uint8_t options = static_cast<std::uint8_t>(qos & 0x03);
        if (version == 5) options |= 1u << 4;  // retain handling 1
        body.push_back(static_cast<char>(options));
    }
    return packet(kSubscribe, 0x02, body);
}

std::string encode_puback(std::uint16_t packet_id) {
    std::string body;
    put_u16(body, packet_id);  // success needs no reason code in v5 either
    return packet(kPuback, 0, body);
}

std::string encode_pingreq() { return packet(kPingreq, 0, ""); }
std::string encode_disconnect() { return packet(kDisconnect, 0, ""); }

std::string encode_publish(int version, const std::string& topic, std::string_view payload, int qos,
                           std::uint16_t packet_id) {
    std::string body;
    body.reserve(topic.size() + payload.size() + 5);
    put_string(body, topic);
    if (qos > 0) put_u16(body, packet_id);
    if (version == 5) put_varint(body, 0);  // no properties
    body.append(payload);
    return packet(kPublish, static_cast<std::uint8_t>(qos << 1), body);
}

void PacketReader::feed(const char* data, size_t size) {
    if (start_ > 0 && start_ >= buffer_.size() / 2) {
        buffer_.erase(0, start_);
        start_ = 0;
    }
    buffer_.append(data, size);
}

void PacketReader::consume(size_t n) {
    start_ += n;
    if (start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
        // A large packet leaves a large buffer behind: give it back.
        if (buffer_.capacity() > 256 * 1024) buffer_.shrink_to_fit();
    }
}

std::optional<Packet> PacketReader::next(std::string& error) {
    if (skip_ > 0) {
        const size_t drop = static_cast<size_t>(std::min<std::uint64_t>(skip_, buffer_.size() - start_));
        consume(drop);
        skip_ -= drop;
        if (skip_ > 0) return std::nullopt;
    }
    const size_t available = buffer_.size() - start_;
    if (available < 2) return std::nullopt;
    const char* bytes = buffer_.data() + start_;
    std::uint32_t length = 0;
    size_t header = 1;
    for (int shift = 0;; shift += 7) {
        if (header >= available) return std::nullopt;  // length not complete yet
        const auto byte = static_cast<std::uint8_t>(bytes[header++]);
        length |= std::uint32_t(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) break;
        if (header > 4) {
            error = "malformed remaining length";
            return std::nullopt;
        }
    }
    Packet p;
    p.type = static_cast<std::uint8_t>(bytes[0]) >> 4;
    p.flags = static_cast<std::uint8_t>(bytes[0]) & 0x0F;
    if (max_ > 0 && header + length > max_) {
        // Keep the head a PUBLISH needs (topic and packet id), drop the rest.
        if (available < header + 2 && length >= 2) return std::nullopt;
        size_t head = length < 2 ? length : 2;
        if (p.type == kPublish && length >= 2) {
            const size_t topic = (static_cast<std::uint8_t>(bytes[header]) << 8) | static_cast<std::uint8_t>(bytes[header + 1]);
            head = 2 + topic + (((p.flags >> 1) & 0x03) > 0 ? 2 : 0);
        }
        head = std::min<size_t>(head, length);
        if (available < header + head) return std::nullopt;
        p.body.assign(bytes + header, head);
        p.oversized = header + std::uint64_t{length};
        skip_ = length - head;
        consume(header + head);
        return p;
    }
    if (available < header + length) return std::nullopt;
    p.body.assign(bytes + header, length);
    consume(header + length);
    return p;
}

std::optional<Connack> decode_connack(int version, std::string_view body, std::string& error) {
    Cursor c(body);
    Connack a;
    a.session_present = (c.u8() & 0x01) != 0;
    a.reason = c.u8();
    if (version == 5 && c.ok() && !c.empty()) {
        const bool props_ok = read_properties(c, [&](std::uint8_t id, std::uint32_t n, std::string_view s, std::string_view) {
            if (id == kAssignedClientId) a.assigned_client_id = std::string(s);
            else if (id == kServerKeepAlive) a.server_keep_alive = static_cast<std::uint16_t>(n);
            else if (id == kReasonString) a.reason_string = std::string(s);
        });
        if (!props_ok) {
            error = "malformed CONNACK properties";
            return std::nullopt;
        }
    }
    if (!c.ok()) {
        error = "truncated CONNACK";
        return std::nullopt;
    }
    return a;
}

std::optional<Suback> decode_suback(int version, std::string_view body, std::string& error) {
    Cursor c(body);
    Suback s;
    s.packet_id = c.u16();
    if (version == 5 && !read_properties(c, [](std::uint8_t, std::uint32_t, std::string_view, std::string_view) {})) {
        error = "malformed SUBACK properties";
        return std::nullopt;
    }
    while (c.ok() && !c.empty()) s.reasons.push_back(c.u8());
    if (!c.ok() || s.reasons.empty()) {
        error = "truncated SUBACK";
        return std::nullopt;
    }
    return s;
}

std::optional<Publish> decode_publish(int version, std::uint8_t flags, std::string_view body, std::string& error) {
    Cursor c(body);
    Publish p;
    p.dup = (flags & 0x08) != 0;
    p.qos = (flags >> 1) & 0x03;
    p.retain = (flags & 0x01) != 0;
    if (p.qos == 3) {
        error = "PUBLISH with QoS 3";
        return std::nullopt;
    }
    p.topic = c.string();
    if (p.qos > 0) p.packet_id = c.u16();
    if (version == 5) {
        const bool props_ok = read_properties(c, [&](std::uint8_t id, std::uint32_t n, std::string_view k, std::string_view v) {
            if (id == kContentType) p.content_type = std::string(k);
            else if (id == kMessageExpiry) p.message_expiry_s = n;
            else if (id == kUserProperty) p.user_properties.emplace_back(std::string(k), std::string(v));
            else if (id == kTopicAlias) p.topic_alias = true;
        });
        if (!props_ok) {
            error = "malformed PUBLISH properties";
            return std::nullopt;
        }
    }
    if (!c.ok()) {
        error = "truncated PUBLISH";
        return std::nullopt;
    }
    if (p.qos > 0 && p.packet_id == 0) {
        error = "PUBLISH with packet id 0";
        return std::nullopt;
    }
    p.payload = std::string(c.rest());
    return p;
}

std::optional<Publish> decode_publish_head(std::uint8_t flags, std::string_view head, std::string& error) {
    Cursor c(head);
    Publish p;
    p.qos = (flags >> 1) & 0x03;
    p.topic = c.string();
    if (p.qos > 0) p.packet_id = c.u16();
    if (!c.ok() || p.qos == 3 || (p.qos > 0 && p.packet_id == 0)) {
        error = "malformed PUBLISH";
        return std::nullopt;
    }
    return p;
}

int decode_disconnect_reason(int version, std::string_view body) {
    if (version != 5 || body.empty()) return 0;
    return static_cast<std::uint8_t>(body[0]);
}

std::string reason_text(int version, int code) {
    const char* name = nullptr;
    if (version == 4) {
        switch (code) {
            case 1: name = "unacceptable protocol version"; break;
            case 2: name = "client identifier rejected"; break;
            case 3: name = "server unavailable"; break;
            case 4: name = "bad user name or password"; break;
            case 5: name = "not authorized"; break;
            default: name = "refused"; break;
        }
    } else {
        switch (code) {
            case 0x80: name = "Unspecified error"; break;
            case 0x81: name = "Malformed Packet"; break;
            case 0x82: name = "Protocol Error"; break;
            case 0x83: name = "Implementation specific error"; break;
            case 0x84: name = "Unsupported Protocol Version"; break;
            case 0x85: name = "Client Identifier not valid"; break;
            case 0x86: name = "Bad User Name or Password"; break;
            case 0x87: name = "Not authorized"; break;
            case 0x88: name = "Server unavailable"; break;
            case 0x89: name = "Server busy"; break;
            case 0x8A: name = "Banned"; break;
            case 0x8B: name = "Server shutting down"; break;
            case 0x8C: name = "Bad authentication method"; break;
            case 0x8D: name = "Keep Alive timeout"; break;
            case 0x8E: name = "Session taken over"; break;
            case 0x8F: name = "Topic Filter invalid"; break;
            case 0x97: name = "Quota exceeded"; break;
            case 0x9C: name = "Use another server"; break;
            case 0x9D: name = "Server moved"; break;
            case 0x9F: name = "Connection rate exceeded"; break;
            default: name = "refused"; break;
        }
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(code) & 0xFFu);
    return std::string(name) + " (" + hex + ")";
}

}  // namespace mqtt_local
