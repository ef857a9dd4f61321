#include "common/encoding.h"

#include "common/text.h"

namespace gwd {

namespace {
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string describe_byte(std::string_view text, size_t i) {
    return "byte " + std::to_string(i) + " ('" + printable(text.substr(i, 1)) + "')";
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
    for (; i + 2 < bytes.size(); i += 3) {
        unsigned v = (s[i] << 16) | (s[i + 1] << 8) | s[i + 2];
        out += kBase64Alphabet[(v >> 18) & 63];
        out += kBase64Alphabet[(v >> 12) & 63];
        out += kBase64Alphabet[(v >> 6) & 63];
        out += kBase64Alphabet[v & 63];
    }
    if (i < bytes.size()) {
        unsigned v = s[i] << 16;
        if (i + 1 < bytes.size()) v |= s[i + 1] << 8;
        out += kBase64Alphabet[(v >> 18) & 63];
        out += kBase64Alphabet[(v >> 12) & 63];
        out += (i + 1 < bytes.size()) ? kBase64Alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text, std::string& error) {
    std::string out;
    out.reserve(text.size() / 4 * 3);
    unsigned accumulator = 0;
    int bits = 0;
    size_t symbols = 0;
    size_t padding = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding > 0) {
            error = "base64 data continues after '=' padding at " + describe_byte(text, i);
            return std::nullopt;
        }
        int v = base64_value(c);
        if (v < 0) {
            error = "not base64: " + describe_byte(text, i);
            return std::nullopt;
        }
        ++symbols;
        accumulator = (accumulator << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((accumulator >> bits) & 0xFF);
        }
    }
    if (symbols == 0) {
        error = "base64 payload is empty";
        return std::nullopt;
    }
    if (symbols % 4 == 1 || padding > 2 || (padding > 0 && (symbols + padding) % 4 != 0)) {
        error = "base64 payload is truncated (" + std::to_string(symbols) + " symbols)";
        return std::nullopt;
    }
    return out;
}

std::string hex_encode(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::optional<std::string> hex_decode(std::string_view text, std::string& error) {
    std::string_view body = trim(text);
    size_t offset = static_cast<size_t>(body.data() - text.data());
    if (body.size() >= 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) {
        body.remove_prefix(2);
        offset += 2;
    }
    std::string out;
    out.reserve(body.size() / 2);
    int high = -1;
    for (size_t i = 0; i < body.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(body[i]);
        if ((c == ' ' || c == ':' || c == '\n' || c == '\r' || c == '\t') && high < 0) continue;
        int v = hex_value(c);
        if (v < 0) {
            error = "not hex: " + describe_byte(text, offset + i);
            return std::nullopt;
        }
        if (high < 0) {
            high = v;
        } else {
            out += static_cast<char>((high << 4) | v);
            high = -1;
        }
    }
    if (high >= 0) {
        error = "hex payload has an odd number of digits";
        return std::nullopt;
    }
    if (out.empty()) {
        error = "hex payload is empty";
        return std::nullopt;
    }
    return out;
}

}  // namespace gwd
