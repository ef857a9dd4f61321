#include "mqtt/wire.h"

namespace gwd::mqtt {

PropertyType property_type(std::uint8_t id) {
    switch (id) {
        case kPayloadFormat:
        case kRequestProblemInfo:
        case kRequestResponseInfo:
        case kMaximumQos:
        case kRetainAvailable:
        case kWildcardAvailable:
        case kSubscriptionIdAvailable:
        case kSharedSubscriptionAvailable: return PropertyType::byte;
        case kServerKeepAlive:
        case kReceiveMaximum:
        case kTopicAliasMaximum:
        case kTopicAlias: return PropertyType::two_byte;
        case kMessageExpiry:
        case kSessionExpiry:
        case kWillDelay:
        case kMaximumPacketSize: return PropertyType::four_byte;
        case kSubscriptionId: return PropertyType::varint;
        case kContentType:
        case kResponseTopic:
        case kCorrelationData:
        case kAssignedClientId:
        case kAuthMethod:
        case kAuthData:
        case kResponseInfo:
        case kServerReference:
        case kReasonString: return PropertyType::string;
        case kUserProperty: return PropertyType::string_pair;
        default: return PropertyType::unknown;
    }
}

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

std::string packet(std::uint8_t type, std::uint8_t flags, std::string_view body) {
    std::string out;
    out.reserve(body.size() + 5);
    out.push_back(static_cast<char>((type << 4) | flags));
    put_varint(out, static_cast<std::uint32_t>(body.size()));
    out.append(body);
    return out;
}

bool Cursor::need(size_t n) {
    if (!ok_ || rest_.size() < n) ok_ = false;
    return ok_;
}

std::uint8_t Cursor::u8() {
    if (!need(1)) return 0;
    const auto v = static_cast<std::uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return v;
}

std::uint16_t Cursor::u16() {
    if (!need(2)) return 0;
    const auto v =
        static_cast<std::uint16_t>((static_cast<std::uint8_t>(rest_[0]) << 8) | static_cast<std::uint8_t>(rest_[1]));
    rest_.remove_prefix(2);
    return v;
}

std::uint32_t Cursor::u32() {
    if (!need(4)) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(rest_[static_cast<size_t>(i)]);
    rest_.remove_prefix(4);
    return v;
}

std::uint32_t Cursor::varint() {
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

std::string_view Cursor::bytes(size_t n) {
    if (!need(n)) return {};
    std::string_view v = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return v;
}

void put_properties(std::string& out, const std::vector<Property>& properties) {
    std::string body;
    for (const auto& p : properties) {
        put_varint(body, p.id);
        switch (property_type(p.id)) {
            case PropertyType::byte: body.push_back(static_cast<char>(std::get<std::uint32_t>(p.value))); break;
            case PropertyType::two_byte:
                put_u16(body, static_cast<std::uint16_t>(std::get<std::uint32_t>(p.value)));
                break;
            case PropertyType::four_byte: put_u32(body, std::get<std::uint32_t>(p.value)); break;
            case PropertyType::varint: put_varint(body, std::get<std::uint32_t>(p.value)); break;
            case PropertyType::string: put_string(body, std::get<std::string>(p.value)); break;
            case PropertyType::string_pair: {
                const auto& [k, v] = std::get<std::pair<std::string, std::string>>(p.value);
                put_string(body, k);
                put_string(body, v);
                break;
            }
            case PropertyType::unknown: break;  // not written: a reader could not skip it
        }
    }
    put_varint(out, static_cast<std::uint32_t>(body.size()));
    out += body;
}

}  // namespace gwd::mqtt
