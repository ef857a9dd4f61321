// What one line of a sensor command's output says: pure code, no I/O.
//
//   value   "temperature 21.5" (name, a space, the value) or a bare "21.5"
//           (named after the sensor's `reading` option)
//   json    {"name": "t", "value": 21.5, "content_type": "text/plain",
//            "properties": {"unit": "C"}, "timestamp_ms": 1700000000000}
//   influx  Influx line protocol: weather,room=lab temp=21.5,hum=40i 1700000000000000000
//           one reading per field, named "<measurement>.<field>" ("<measurement>"
//           for a field called "value"); tags become user properties
//   auto    json when the line starts with '{', influx when its second
//           space-separated part is a key=value list, value otherwise
//
// Blank lines and lines starting with '#' say nothing and are no error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace exec_plugin {

enum class LineFormat { automatic, value, json, influx };

// "auto", "value", "json", "influx"; nullopt for anything else.
std::optional<LineFormat> line_format_named(std::string_view name);

struct LineReading {
    std::string name;  // empty: the default reading name
    std::string payload;
    std::string content_type;  // empty: none declared
    std::vector<std::pair<std::string, std::string>> properties;
    std::int64_t timestamp_ms = 0;  // 0: now
};

struct ParsedLine {
    std::vector<LineReading> readings;
    std::string error;  // one sentence when the line is not a reading
};

ParsedLine parse_line(std::string_view line, LineFormat format);

}  // namespace exec_plugin
