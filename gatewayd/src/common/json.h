// A small strict JSON (RFC 8259) reader and writer helpers. Used to sniff
// payloads, fold metadata into envelopes and, later, read platform commands.
// No I/O; depth and size are bounded so hostile input cannot exhaust the stack.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gwd {

class JsonValue {
public:
    struct Number {
        std::string text;  // as written, so no precision is lost in transit
        double value = 0;
        // The number as a whole int64, or nothing when it has a fraction, an
        // exponent or does not fit: a cast of `value` would be undefined there.
        std::optional<std::int64_t> integer() const;
    };
    using Array = std::vector<JsonValue>;
    using Object = std::vector<std::pair<std::string, JsonValue>>;  // keeps order

    JsonValue() = default;  // null
    explicit JsonValue(bool b) : v_(b) {}
    explicit JsonValue(Number n) : v_(std::move(n)) {}
    explicit JsonValue(std::string s) : v_(std::move(s)) {}
    explicit JsonValue(Array a) : v_(std::move(a)) {}
    explicit JsonValue(Object o) : v_(std::move(o)) {}

    bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
    bool is_bool() const { return std::holds_alternative<bool>(v_); }
    bool is_number() const { return std::holds_alternative<Number>(v_); }
    bool is_string() const { return std::holds_alternative<std::string>(v_); }
    bool is_array() const { return std::holds_alternative<Array>(v_); }
    bool is_object() const { return std::holds_alternative<Object>(v_); }

    bool as_bool() const { return std::get<bool>(v_); }
    const Number& as_number() const { return std::get<Number>(v_); }
    const std::string& as_string() const { return std::get<std::string>(v_); }
    const Array& as_array() const { return std::get<Array>(v_); }
    const Object& as_object() const { return std::get<Object>(v_); }

    // Member lookup on objects; nullptr when absent or not an object.
    const JsonValue* find(std::string_view key) const;

    // Serializes compactly.
    std::string dump() const;

private:
    std::variant<std::monostate, bool, Number, std::string, Array, Object> v_;
};

struct JsonParseLimits {
    size_t max_depth = 64;
};

// Parses one complete JSON text (surrounding whitespace allowed). On failure
// returns nullopt and sets `error` with the byte offset.
std::optional<JsonValue> json_parse(std::string_view text, std::string& error, JsonParseLimits limits = {});

// True when `text` is one complete JSON text; no tree is built.
bool json_is_valid(std::string_view text);

// `text` as a quoted JSON string. Invalid UTF-8 bytes become U+FFFD.
std::string json_quote(std::string_view text);

// True when `text` is a JSON number as written in JSON ("-1.5e3", not "1.", "+1", "0x1").
bool is_json_number(std::string_view text);

}  // namespace gwd
