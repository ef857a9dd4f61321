#include "mqtt/packets.h"

#include "mqtt/wire.h"

namespace gwd::mqtt {

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

std::optional<Connack> decode_connack(int version, std::string_view body, std::string& error) {
    Cursor c(body);
    Connack a;
    a.session_present = (c.u8() & 0x01) != 0;
    a.reason = c.u8();
    if (version == 5 && c.ok() && !c.empty()) {
        const bool props_ok =
            read_properties(c, [&](std::uint8_t id, std::uint32_t n, std::string_view s, std::string_view) {
                if (id == kAssignedClientId)
                    a.assigned_client_id = std::string(s);
                else if (id == kServerKeepAlive)
                    a.server_keep_alive = static_cast<std::uint16_t>(n);
                else if (id == kReasonString)
                    a.reason_string = std::string(s);
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

bool decode_publish_into(int version, std::uint8_t flags, std::string_view body, Publish& p, std::string& error) {
    Cursor c(body);
    p.dup = (flags & 0x08) != 0;
    p.qos = (flags >> 1) & 0x03;
    p.retain = (flags & 0x01) != 0;
    p.packet_id = 0;
    p.content_type.reset();
    p.message_expiry_s.reset();
    p.user_properties.clear();
    p.topic_alias = false;
    if (p.qos == 3) {
        error = "PUBLISH with QoS 3";
        return false;
    }
    p.topic.assign(c.bytes(c.u16()));
    if (p.qos > 0) p.packet_id = c.u16();
    if (version == 5) {
        const bool props_ok =
            read_properties(c, [&](std::uint8_t id, std::uint32_t n, std::string_view k, std::string_view v) {
                if (id == kContentType)
                    p.content_type = std::string(k);
                else if (id == kMessageExpiry)
                    p.message_expiry_s = n;
                else if (id == kUserProperty)
                    p.user_properties.emplace_back(std::string(k), std::string(v));
                else if (id == kTopicAlias)
                    p.topic_alias = true;
            });
        if (!props_ok) {
            error = "malformed PUBLISH properties";
            return false;
        }
    }
    if (!c.ok()) {
        error = "truncated PUBLISH";
        return false;
    }
    if (p.qos > 0 && p.packet_id == 0) {
        error = "PUBLISH with packet id 0";
        return false;
    }
    p.payload.assign(c.rest());
    return true;
}

std::optional<Publish> decode_publish(int version, std::uint8_t flags, std::string_view body, std::string& error) {
    Publish p;
    if (!decode_publish_into(version, flags, body, p, error)) return std::nullopt;
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

}  // namespace gwd::mqtt
