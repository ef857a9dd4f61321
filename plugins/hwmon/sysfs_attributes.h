// What the Linux hwmon and thermal sysfs files mean: which attribute a file
// name is, its unit and scale (Documentation/hwmon/sysfs-interface.rst),
// values as exact decimal text, and reading names from labels. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gwd::hwmon {

struct Attribute {
    std::string_view kind;  // "temperature", "fan", "voltage", "current", "power", "energy", "humidity"
    std::string_view unit;  // "°C", "RPM", "V", "A", "W", "J", "%"
    int decimals = 0;       // the file holds value * 10^decimals (millidegrees: 3)
    std::string stem;       // "temp1": the file name without _input; its label is <stem>_label
};

// The attribute a hwmon file holds, for the *_input files we read
// ("temp1_input", "fan2_input", "in0_input", "curr1_input", "power1_input",
// "energy1_input", "humidity1_input"); nullopt for any other file.
std::optional<Attribute> classify_input(std::string_view file_name);

// The attribute of a thermal zone's "temp" file (millidegrees Celsius).
Attribute thermal_zone_temperature();

// `raw` / 10^decimals as the shortest exact decimal: 45000 → "45",
// 45500 → "45.5", -1250 → "-1.25", 1234 (decimals 0) → "1234".
std::string scaled_text(std::int64_t raw, int decimals);

// A label or chip name as part of a reading name: letters, digits, '-' and
// '_' kept, runs of anything else (spaces, dots, slashes) become one '_',
// none at either end. "Package id 0" → "Package_id_0". Empty when nothing is left.
std::string name_part(std::string_view text);

// Parses a sysfs number ("45000\n"); nullopt for anything else.
std::optional<std::int64_t> parse_sysfs_integer(std::string_view text);

}  // namespace gwd::hwmon
