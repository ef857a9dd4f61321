#include "sysfs_attributes.h"

#include <charconv>

namespace gwd::hwmon {

namespace {

struct Family {
    std::string_view prefix, kind, unit;
    int decimals;
};

// Documentation/hwmon/sysfs-interface.rst: temp in millidegrees Celsius,
// fans in RPM, in (voltage) in millivolts, curr in milliamperes, power in
// microwatts, energy in microjoules, humidity in milli-percent.
constexpr Family kFamilies[] = {
    {"temp", "temperature", "°C", 3}, {"fan", "fan", "RPM", 0},   {"in", "voltage", "V", 3},
    {"curr", "current", "A", 3},      {"power", "power", "W", 6}, {"energy", "energy", "J", 6},
    {"humidity", "humidity", "%", 3},
};

}  // namespace

std::optional<Attribute> classify_input(std::string_view file_name) {
    constexpr std::string_view suffix = "_input";
    if (file_name.size() <= suffix.size() || !file_name.ends_with(suffix)) return std::nullopt;
    const std::string_view stem = file_name.substr(0, file_name.size() - suffix.size());
    for (const Family& f : kFamilies) {
        if (!stem.starts_with(f.prefix)) continue;
        const std::string_view index = stem.substr(f.prefix.size());
        if (index.empty() || index.find_first_not_of("0123456789") != std::string_view::npos) continue;
        return Attribute{f.kind, f.unit, f.decimals, std::string(stem)};
    }
    return std::nullopt;
}

Attribute thermal_zone_temperature() { return Attribute{"temperature", "°C", 3, "temp"}; }

std::string scaled_text(std::int64_t raw, int decimals) {
    const bool negative = raw < 0;
    // As unsigned, so the most negative value has a magnitude too.
    std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(raw) : static_cast<std::uint64_t>(raw);
    std::uint64_t scale = 1;
    for (int i = 0; i < decimals; ++i) scale *= 10;
    std::string out = (negative ? "-" : "") + std::to_string(magnitude / scale);
    std::uint64_t fraction = magnitude % scale;
    if (fraction == 0) return out;
    std::string digits = std::to_string(fraction);
    digits.insert(0, static_cast<size_t>(decimals) - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    return out + "." + digits;
}

std::string name_part(std::string_view text) {
    std::string out;
    bool gap = false;
    for (char c : text) {
        const bool keep =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!keep) {
            gap = true;
            continue;
        }
        if (gap && !out.empty()) out += '_';
        gap = false;
        out += c;
    }
    return out;
}

std::optional<std::int64_t> parse_sysfs_integer(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}

}  // namespace gwd::hwmon
