#include "line_format.h"

#include <charconv>
#include <cmath>

#include "common/json.h"

namespace exec_plugin {

namespace {

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

ParsedLine failure(std::string why) { return ParsedLine{{}, std::move(why)}; }

ParsedLine parse_value(std::string_view line) {
    LineReading r;
    const auto space = line.find_first_of(" \t");
    if (space == std::string_view::npos) {
        r.payload = line;
    } else {
        r.name = line.substr(0, space);
        r.payload = trim(line.substr(space + 1));
    }
    return ParsedLine{{std::move(r)}, {}};
}

// A property value as text: strings as they are, numbers and booleans as written.
std::optional<std::string> scalar_text(const gwd::JsonValue& v) {
    if (v.is_string()) return v.as_string();
    if (v.is_number()) return v.as_number().text;
    if (v.is_bool()) return v.as_bool() ? "true" : "false";
    return std::nullopt;
}

ParsedLine parse_json(std::string_view line) {
    std::string error;
    const auto doc = gwd::json_parse(line, error);
    if (!doc) return failure("not JSON: " + error);
    if (!doc->is_object()) return failure("a JSON reading must be an object");
    LineReading r;
    const gwd::JsonValue* value = nullptr;
    for (const auto& [key, v] : doc->as_object()) {
        if (key == "name") {
            if (!v.is_string()) return failure("\"name\" must be a string");
            r.name = v.as_string();
        } else if (key == "value") {
            value = &v;
        } else if (key == "content_type") {
            if (!v.is_string()) return failure("\"content_type\" must be a string");
            r.content_type = v.as_string();
        } else if (key == "properties") {
            if (v.is_object()) {
                for (const auto& [k, pv] : v.as_object()) {
                    auto text = scalar_text(pv);
                    if (!text) return failure("property \"" + k + "\" must be a string, number or boolean");
                    r.properties.emplace_back(k, *text);
                }
            } else if (v.is_array()) {  // [["k", "v"], ...]: keeps duplicates
                for (const auto& pair : v.as_array()) {
                    const bool ok = pair.is_array() && pair.as_array().size() == 2 && pair.as_array()[0].is_string() &&
                                    scalar_text(pair.as_array()[1]);
                    if (!ok) return failure("\"properties\" as a list holds [\"key\", value] pairs");
                    r.properties.emplace_back(pair.as_array()[0].as_string(), *scalar_text(pair.as_array()[1]));
                }
            } else {
                return failure("\"properties\" must be an object or a list of [\"key\", value] pairs");
            }
        } else if (key == "timestamp_ms") {
            if (!v.is_number() || v.as_number().value < 0 || std::floor(v.as_number().value) != v.as_number().value)
                return failure("\"timestamp_ms\" must be a whole number of milliseconds since 1970");
            r.timestamp_ms = static_cast<std::int64_t>(v.as_number().value);
        } else {
            return failure("unknown key \"" + key + "\" (name, value, content_type, properties, timestamp_ms)");
        }
    }
    if (value == nullptr) return failure("a JSON reading needs a \"value\"");
    if (value->is_string()) {
        r.payload = value->as_string();
    } else {
        r.payload = value->is_number() ? value->as_number().text : value->dump();
        if (r.content_type.empty() && (value->is_object() || value->is_array())) r.content_type = "application/json";
    }
    return ParsedLine{{std::move(r)}, {}};
}

// Influx line protocol: https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/
class InfluxScanner {
public:
    explicit InfluxScanner(std::string_view line) : s_(line) {}

    // Up to an unescaped char of `stops`; backslash escapes of `escapable` are undone.
    std::string until(std::string_view stops, std::string_view escapable) {
        std::string out;
        while (at_ < s_.size() && stops.find(s_[at_]) == std::string_view::npos) {
            if (s_[at_] == '\\' && at_ + 1 < s_.size() && escapable.find(s_[at_ + 1]) != std::string_view::npos) ++at_;
            out += s_[at_++];
        }
        return out;
    }
    bool take(char c) {
        if (at_ < s_.size() && s_[at_] == c) {
            ++at_;
            return true;
        }
        return false;
    }
    bool done() const { return at_ >= s_.size(); }
    char peek() const { return done() ? '\0' : s_[at_]; }
    std::string_view rest() const { return s_.substr(at_); }
    void skip(size_t n) { at_ += n; }

private:
    std::string_view s_;
    size_t at_ = 0;
};

// A field value as payload text, or an error.
std::optional<std::string> influx_field(InfluxScanner& in, std::string& error) {
    if (in.take('"')) {
        std::string text;
        while (!in.done() && in.peek() != '"') {
            if (in.peek() == '\\' && (in.rest().substr(1, 1) == "\"" || in.rest().substr(1, 1) == "\\")) in.skip(1);
            text += in.peek();
            in.skip(1);
        }
        if (!in.take('"')) {
            error = "a string field value lacks its closing quote";
            return std::nullopt;
        }
        return text;
    }
    const std::string raw = in.until(", ", "");
    if (raw.empty()) {
        error = "a field has no value";
        return std::nullopt;
    }
    for (const char* t : {"t", "T", "true", "True", "TRUE"})
        if (raw == t) return "true";
    for (const char* f : {"f", "F", "false", "False", "FALSE"})
        if (raw == f) return "false";
    std::string number = raw;
    if (number.back() == 'i' || number.back() == 'u') number.pop_back();
    double parsed = 0;
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), parsed);
    if (ec != std::errc() || ptr != number.data() + number.size() || number.empty()) {
        error = "field value \"" + raw + "\" is not a number, a boolean or a quoted string";
        return std::nullopt;
    }
    return number;
}

ParsedLine parse_influx(std::string_view line) {
    InfluxScanner in(line);
    const std::string measurement = in.until(", ", ", ");
    if (measurement.empty()) return failure("influx line protocol: no measurement");
    std::vector<std::pair<std::string, std::string>> tags;
    while (in.take(',')) {
        std::string key = in.until("=, ", ",= ");
        if (!in.take('=') || key.empty()) return failure("influx line protocol: a tag is not key=value");
        std::string value = in.until(", ", ",= ");
        if (value.empty()) return failure("influx line protocol: tag \"" + key + "\" has no value");
        tags.emplace_back(std::move(key), std::move(value));
    }
    if (!in.take(' ')) return failure("influx line protocol: no fields after the measurement");
    ParsedLine out;
    do {
        std::string key = in.until("= ", ",= ");
        if (!in.take('=') || key.empty()) return failure("influx line protocol: a field is not key=value");
        std::string error;
        auto value = influx_field(in, error);
        if (!value) return failure("influx line protocol: " + error);
        LineReading r;
        r.name = key == "value" ? measurement : measurement + "." + key;
        r.payload = std::move(*value);
        r.properties = tags;
        out.readings.push_back(std::move(r));
    } while (in.take(','));
    if (in.take(' ')) {
        const std::string_view stamp = trim(in.rest());
        std::int64_t ns = 0;
        const auto [ptr, ec] = std::from_chars(stamp.data(), stamp.data() + stamp.size(), ns);
        if (ec != std::errc() || ptr != stamp.data() + stamp.size() || ns < 0)
            return failure("influx line protocol: the timestamp is not a whole number of nanoseconds");
        for (auto& r : out.readings) r.timestamp_ms = ns / 1000000;
    } else if (!in.done()) {
        return failure("influx line protocol: unexpected text after the fields");
    }
    return out;
}

// The second space-separated part is a key=value list: influx.
bool looks_like_influx(std::string_view line) {
    InfluxScanner in(line);
    in.until(" ", " ,");
    if (!in.take(' ')) return false;
    const std::string key = in.until("= ", ",= ");
    return !key.empty() && in.take('=');
}

}  // namespace

std::optional<LineFormat> line_format_named(std::string_view name) {
    if (name == "auto") return LineFormat::automatic;
    if (name == "value") return LineFormat::value;
    if (name == "json") return LineFormat::json;
    if (name == "influx") return LineFormat::influx;
    return std::nullopt;
}

ParsedLine parse_line(std::string_view line, LineFormat format) {
    line = trim(line);
    if (line.empty() || line.front() == '#') return {};
    switch (format) {
        case LineFormat::value: return parse_value(line);
        case LineFormat::json: return parse_json(line);
        case LineFormat::influx: return parse_influx(line);
        case LineFormat::automatic: break;
    }
    if (line.front() == '{') return parse_json(line);
    if (looks_like_influx(line)) return parse_influx(line);
    return parse_value(line);
}

}  // namespace exec_plugin
