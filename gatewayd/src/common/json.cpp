#include "common/json.h"

#include <bit>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "common/text.h"

namespace gwd {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Stands in for a value or a string when the parser only validates, so that
// validation builds nothing and allocates nothing.
struct Nothing {};

// One recursive-descent pass. With Build false it only validates: the same
// grammar, without a JsonValue or a std::string made along the way.
template <bool Build>
class Parser {
public:
    using Value = std::conditional_t<Build, JsonValue, Nothing>;
    using Text = std::conditional_t<Build, std::string, Nothing>;

    Parser(std::string_view text, JsonParseLimits limits) : s_(text), limits_(limits) {}

    bool parse_document(Value& out) {
        skip_ws();
        if (!parse_value(out, 0)) return false;
        skip_ws();
        if (pos_ != s_.size()) return fail("unexpected data after the JSON value");
        return true;
    }

    std::string error() const { return error_ + " at byte " + std::to_string(pos_); }

private:
    bool fail(const char* why) {
        if (error_.empty()) error_ = why;
        return false;
    }

    void skip_ws() {
        while (pos_ < s_.size() && is_ws(s_[pos_])) ++pos_;
    }

    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) return fail("invalid literal");
        pos_ += word.size();
        return true;
    }

    template <typename T>
    static void set(Value& out, T&& value) {
        if constexpr (Build) out = JsonValue(std::forward<T>(value));
    }

    static void put(Text& out, std::string_view bytes) {
        if constexpr (Build) out.append(bytes);
    }

    bool parse_value(Value& out, size_t depth) {
        if (depth > limits_.max_depth) return fail("nesting too deep");
        if (pos_ >= s_.size()) return fail("unexpected end of input");
        char c = s_[pos_];
        switch (c) {
            case '{': return parse_object(out, depth);
            case '[': return parse_array(out, depth);
            case '"': {
                Text str;
                if (!parse_string(str)) return false;
                set(out, std::move(str));
                return true;
            }
            case 't':
                if (!literal("true")) return false;
                set(out, true);
                return true;
            case 'f':
                if (!literal("false")) return false;
                set(out, false);
                return true;
            case 'n':
                if (!literal("null")) return false;
                if constexpr (Build) out = JsonValue();
                return true;
            default: return parse_number(out);
        }
    }

    bool parse_number(Value& out) {
        size_t start = pos_;
        if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
        if (pos_ >= s_.size()) return fail("invalid number");
        if (s_[pos_] == '0') {
            ++pos_;
        } else if (s_[pos_] >= '1' && s_[pos_] <= '9') {
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
        } else {
            return fail("invalid value");
        }
        if (pos_ < s_.size() && s_[pos_] == '.') {
            ++pos_;
            size_t digits = pos_;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
            if (pos_ == digits) return fail("invalid number");
        }
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
            size_t digits = pos_;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
            if (pos_ == digits) return fail("invalid number");
        }
        if constexpr (Build) {
            JsonValue::Number n;
            n.text = std::string(s_.substr(start, pos_ - start));
            n.value = std::strtod(n.text.c_str(), nullptr);
            out = JsonValue(std::move(n));
        } else {
            (void)out;
            (void)start;
        }
        return true;
    }

    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    bool read_hex4(unsigned& out) {
        if (pos_ + 4 > s_.size()) return fail("truncated \\u escape");
        out = 0;
        for (int i = 0; i < 4; ++i) {
            int v = hex(s_[pos_ + i]);
            if (v < 0) return fail("invalid \\u escape");
            out = (out << 4) | static_cast<unsigned>(v);
        }
        pos_ += 4;
        return true;
    }

    static void append_utf8(Text& out, unsigned cp) {
        char bytes[4];
        size_t n = 0;
        if (cp < 0x80) {
            bytes[n++] = static_cast<char>(cp);
        } else if (cp < 0x800) {
            bytes[n++] = static_cast<char>(0xC0 | (cp >> 6));
            bytes[n++] = static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            bytes[n++] = static_cast<char>(0xE0 | (cp >> 12));
            bytes[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            bytes[n++] = static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            bytes[n++] = static_cast<char>(0xF0 | (cp >> 18));
            bytes[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            bytes[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            bytes[n++] = static_cast<char>(0x80 | (cp & 0x3F));
        }
        put(out, std::string_view(bytes, n));
    }

    // Skips eight bytes at a time while none of them ends the run: no quote,
    // backslash, control character or non-ASCII byte (checked one by one).
    void skip_plain_bytes() {
        constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
        auto has_zero = [&](std::uint64_t v) { return (v - ones) & ~v & highs; };
        while (pos_ + 8 <= s_.size()) {
            std::uint64_t w;
            std::memcpy(&w, s_.data() + pos_, 8);
            const std::uint64_t special = (w & highs) | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) |
                                          ((w - ones * 0x20) & ~w & highs);  // a byte below 0x20
            if (special != 0) {
                // The lowest flagged byte is the first special one (a borrow only
                // flags bytes above a true hit): go straight to it.
                pos_ += static_cast<size_t>(std::countr_zero(special)) / 8;
                return;
            }
            pos_ += 8;
        }
    }

    bool parse_string(Text& out) {
        ++pos_;  // opening quote
        size_t run_start = pos_;
        bool non_ascii = false;  // in the run since run_start: only then is its UTF-8 worth checking
        while (true) {
            skip_plain_bytes();
            if (pos_ >= s_.size()) return fail("unterminated string");
            unsigned char c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') {
                put(out, s_.substr(run_start, pos_ - run_start));
                if (non_ascii && !is_valid_utf8(s_.substr(run_start, pos_ - run_start)))
                    return fail("invalid UTF-8 in string");
                ++pos_;
                return true;
            }
            if (c < 0x20) return fail("control character in string");
            if (c != '\\') {
                non_ascii |= c >= 0x80;
                ++pos_;
                continue;
            }
            if (non_ascii && !is_valid_utf8(s_.substr(run_start, pos_ - run_start)))
                return fail("invalid UTF-8 in string");
            non_ascii = false;
            put(out, s_.substr(run_start, pos_ - run_start));
            ++pos_;
            if (pos_ >= s_.size()) return fail("unterminated string");
            char e = s_[pos_++];
            switch (e) {
                case '"': put(out, "\""); break;
                case '\\': put(out, "\\"); break;
                case '/': put(out, "/"); break;
                case 'b': put(out, "\b"); break;
                case 'f': put(out, "\f"); break;
                case 'n': put(out, "\n"); break;
                case 'r': put(out, "\r"); break;
                case 't': put(out, "\t"); break;
                case 'u': {
                    unsigned cp = 0;
                    if (!read_hex4(cp)) return false;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        unsigned low = 0;
                        if (s_.substr(pos_, 2) != "\\u") return fail("unpaired surrogate");
                        pos_ += 2;
                        if (!read_hex4(low)) return false;
                        if (low < 0xDC00 || low > 0xDFFF) return fail("unpaired surrogate");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        return fail("unpaired surrogate");
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: --pos_; return fail("invalid escape");
            }
            run_start = pos_;
        }
    }

    bool parse_array(Value& out, size_t depth) {
        ++pos_;
        std::conditional_t<Build, JsonValue::Array, Nothing> items;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            set(out, std::move(items));
            return true;
        }
        while (true) {
            skip_ws();
            Value item;
            if (!parse_value(item, depth + 1)) return false;
            if constexpr (Build) items.push_back(std::move(item));
            skip_ws();
            if (pos_ >= s_.size()) return fail("unterminated array");
            if (s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (s_[pos_] == ']') {
                ++pos_;
                break;
            }
            return fail("expected ',' or ']'");
        }
        set(out, std::move(items));
        return true;
    }

    bool parse_object(Value& out, size_t depth) {
        ++pos_;
        std::conditional_t<Build, JsonValue::Object, Nothing> members;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == '}') {
            ++pos_;
            set(out, std::move(members));
            return true;
        }
        while (true) {
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a member name");
            Text key;
            if (!parse_string(key)) return false;
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':'");
            ++pos_;
            skip_ws();
            Value value;
            if (!parse_value(value, depth + 1)) return false;
            if constexpr (Build) members.emplace_back(std::move(key), std::move(value));
            skip_ws();
            if (pos_ >= s_.size()) return fail("unterminated object");
            if (s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (s_[pos_] == '}') {
                ++pos_;
                break;
            }
            return fail("expected ',' or '}'");
        }
        set(out, std::move(members));
        return true;
    }

    std::string_view s_;
    JsonParseLimits limits_;
    size_t pos_ = 0;
    std::string error_;
};

void dump_to(const JsonValue& v, std::string& out) {
    if (v.is_null()) {
        out += "null";
    } else if (v.is_bool()) {
        out += v.as_bool() ? "true" : "false";
    } else if (v.is_number()) {
        out += v.as_number().text;
    } else if (v.is_string()) {
        out += json_quote(v.as_string());
    } else if (v.is_array()) {
        out += '[';
        bool first = true;
        for (const auto& item : v.as_array()) {
            if (!first) out += ',';
            first = false;
            dump_to(item, out);
        }
        out += ']';
    } else {
        out += '{';
        bool first = true;
        for (const auto& [key, item] : v.as_object()) {
            if (!first) out += ',';
            first = false;
            out += json_quote(key);
            out += ':';
            dump_to(item, out);
        }
        out += '}';
    }
}

}  // namespace

std::optional<std::int64_t> JsonValue::Number::integer() const {
    std::int64_t n = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc() || ptr != end) return std::nullopt;
    return n;
}

const JsonValue* JsonValue::find(std::string_view key) const {
    if (!is_object()) return nullptr;
    for (const auto& [k, v] : as_object())
        if (k == key) return &v;
    return nullptr;
}

std::string JsonValue::dump() const {
    std::string out;
    dump_to(*this, out);
    return out;
}

std::optional<JsonValue> json_parse(std::string_view text, std::string& error, JsonParseLimits limits) {
    Parser<true> parser(text, limits);
    JsonValue value;
    if (!parser.parse_document(value)) {
        error = parser.error();
        return std::nullopt;
    }
    return value;
}

bool json_is_valid(std::string_view text) {
    Parser<false> parser(text, JsonParseLimits{});
    Nothing ignored;
    return parser.parse_document(ignored);
}

std::string json_quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    size_t i = 0;
    while (i < text.size()) {
        unsigned char c = s[i];
        if (c == '"') {
            out += "\\\"";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            // Copy one well-formed UTF-8 sequence, or replace one bad byte.
            size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
            if (len != 0 && i + len <= text.size() && is_valid_utf8(text.substr(i, len))) {
                out.append(text.substr(i, len));
                i += len;
                continue;
            }
            out += "\xEF\xBF\xBD";
        }
        ++i;
    }
    out += '"';
    return out;
}

bool is_json_number(std::string_view text) {
    if (text.empty()) return false;
    char c = text.front();
    if (c != '-' && (c < '0' || c > '9')) return false;
    Parser<false> parser(text, JsonParseLimits{});
    Nothing ignored;
    return parser.parse_document(ignored);
}

}  // namespace gwd
