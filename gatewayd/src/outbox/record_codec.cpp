#include "outbox/record_codec.h"

#include "common/crc32c.h"

namespace gwd {

namespace {

constexpr size_t kHeaderSize = 1 + 4;  // format, CRC
constexpr size_t kFixedSize = 1 + 1 + 8 * 3;

size_t varint_size(std::uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

size_t string_size(const std::string& s) { return varint_size(s.size()) + s.size(); }

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7F) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

void put_fixed(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_string(std::string& out, const std::string& s) {
    put_varint(out, s.size());
    out += s;
}

// Reads fields front to back; the first failure sticks and names the field.
class Reader {
public:
    explicit Reader(std::string_view bytes) : rest_(bytes) {}

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    bool at_end() const { return rest_.empty(); }

    std::uint64_t fixed(int bytes, const char* what) {
        if (!ok()) return 0;
        if (rest_.size() < static_cast<size_t>(bytes)) return fail(what);
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v |= std::uint64_t(static_cast<unsigned char>(rest_[i])) << (8 * i);
        rest_.remove_prefix(bytes);
        return v;
    }

    std::uint64_t varint(const char* what) {
        if (!ok()) return 0;
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (rest_.empty()) return fail(what);
            const auto byte = static_cast<unsigned char>(rest_.front());
            rest_.remove_prefix(1);
            v |= std::uint64_t(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) return v;
        }
        return fail(what);
    }

    std::string string(const char* what) {
        const std::uint64_t n = varint(what);
        if (!ok()) return {};
        if (n > rest_.size()) {
            fail(what);
            return {};
        }
        std::string s(rest_.substr(0, n));
        rest_.remove_prefix(n);
        return s;
    }

private:
    std::uint64_t fail(const char* what) {
        if (error_.empty()) error_ = std::string("truncated at ") + what;
        return 0;
    }
    std::string_view rest_;
    std::string error_;
};

}  // namespace

size_t encoded_record_size(const Message& m) {
    size_t n = kHeaderSize + kFixedSize + string_size(m.sensor) + string_size(m.instance) +
               string_size(m.content_type) + string_size(m.error) + varint_size(m.properties.size()) +
               string_size(m.payload);
    for (const auto& p : m.properties) n += string_size(p.key) + string_size(p.value);
    return n;
}

std::string encode_record(const Message& m) {
    std::string out;
    encode_record(m, out);
    return out;
}

void encode_record(const Message& m, std::string& out) {
    out.clear();
    out.reserve(encoded_record_size(m));
    out.push_back(static_cast<char>(kRecordFormat));
    put_fixed(out, 0, 4);  // CRC, filled in below
    out.push_back(static_cast<char>(m.kind));
    out.push_back(static_cast<char>(m.utf8 ? 1 : 0));
    put_fixed(out, static_cast<std::uint64_t>(m.timestamp_ms), 8);
    put_fixed(out, static_cast<std::uint64_t>(m.accepted_ms), 8);
    put_fixed(out, static_cast<std::uint64_t>(m.expires_at_ms), 8);
    put_string(out, m.sensor);
    put_string(out, m.instance);
    put_string(out, m.content_type);
    put_string(out, m.error);
    put_varint(out, m.properties.size());
    for (const auto& p : m.properties) {
        put_string(out, p.key);
        put_string(out, p.value);
    }
    put_string(out, m.payload);
    const std::uint32_t crc = crc32c(std::string_view(out).substr(kHeaderSize));
    for (int i = 0; i < 4; ++i) out[1 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
}

std::optional<Message> decode_record(std::string_view bytes, std::string& error) {
    if (bytes.size() < kHeaderSize + kFixedSize) {
        error = "record of " + std::to_string(bytes.size()) + " bytes is shorter than any valid record";
        return std::nullopt;
    }
    if (static_cast<std::uint8_t>(bytes[0]) != kRecordFormat) {
        error = "unknown record format " + std::to_string(static_cast<unsigned>(static_cast<std::uint8_t>(bytes[0])));
        return std::nullopt;
    }
    Reader header(bytes.substr(1, 4));
    const auto stored_crc = static_cast<std::uint32_t>(header.fixed(4, "crc"));
    if (crc32c(bytes.substr(kHeaderSize)) != stored_crc) {
        error = "checksum mismatch (torn or damaged record)";
        return std::nullopt;
    }
    Reader r(bytes.substr(kHeaderSize));
    Message m;
    const auto kind = r.fixed(1, "kind");
    if (kind > static_cast<std::uint64_t>(Message::Kind::dead_letter)) {
        error = "unknown message kind " + std::to_string(kind);
        return std::nullopt;
    }
    m.kind = static_cast<Message::Kind>(kind);
    m.utf8 = (r.fixed(1, "flags") & 1u) != 0;
    m.timestamp_ms = static_cast<std::int64_t>(r.fixed(8, "timestamp"));
    m.accepted_ms = static_cast<std::int64_t>(r.fixed(8, "accepted time"));
    m.expires_at_ms = static_cast<std::int64_t>(r.fixed(8, "expiry"));
    m.sensor = r.string("sensor");
    m.instance = r.string("instance");
    m.content_type = r.string("content type");
    m.error = r.string("error");
    const std::uint64_t count = r.varint("property count");
    for (std::uint64_t i = 0; r.ok() && i < count; ++i) {
        UserProperty p;
        p.key = r.string("property key");
        p.value = r.string("property value");
        if (r.ok()) m.properties.push_back(std::move(p));
    }
    m.payload = r.string("payload");
    if (!r.ok()) {
        error = r.error();
        return std::nullopt;
    }
    if (!r.at_end()) {
        error = "trailing bytes after the payload";
        return std::nullopt;
    }
    return m;
}

}  // namespace gwd
