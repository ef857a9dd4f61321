#include "common/units.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace gwd {

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a non-negative decimal number with an optional fraction.
bool read_number(std::string_view text, size_t& pos, double& value) {
    size_t start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        while (pos < text.size() && is_digit(text[pos])) ++pos;
    }
    if (pos == start || (pos == start + 1 && text[start] == '.')) return false;
    // strtod, not stod: "1e400"-sized input must become an error, not an exception.
    const std::string digits(text.substr(start, pos - start));
    errno = 0;
    value = std::strtod(digits.c_str(), nullptr);
    return errno != ERANGE && std::isfinite(value);
}
}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error) {
    if (text.empty()) {
        error = "is empty; write a duration such as \"5s\"";
        return std::nullopt;
    }
    double total_ms = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        double value = 0;
        if (!read_number(text, pos, value)) {
            error = "is not a duration; write a number with a unit, e.g. \"500ms\", \"5s\", \"2m\", \"1h\"";
            return std::nullopt;
        }
        size_t unit_start = pos;
        while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
        std::string_view unit = text.substr(unit_start, pos - unit_start);
        double scale = 0;
        if (unit == "ms")
            scale = 1;
        else if (unit == "s")
            scale = 1000;
        else if (unit == "m" || unit == "min")
            scale = 60'000;
        else if (unit == "h")
            scale = 3'600'000;
        else if (unit == "d")
            scale = 86'400'000;
        else if (unit.empty()) {
            error = "needs a unit, e.g. \"" + std::string(text) + "s\" (units: ms, s, m, h, d)";
            return std::nullopt;
        } else {
            error = "has unknown unit \"" + std::string(unit) + "\" (units: ms, s, m, h, d)";
            return std::nullopt;
        }
        total_ms += value * scale;
    }
    if (total_ms > static_cast<double>(std::numeric_limits<std::int64_t>::max()) / 2) {
        error = "is too large";
        return std::nullopt;
    }
    return std::chrono::milliseconds(std::llround(total_ms));
}

std::optional<std::uint64_t> parse_size(std::string_view text, std::string& error) {
    size_t pos = 0;
    double value = 0;
    if (!read_number(text, pos, value)) {
        error = "is not a size; write a number with a unit, e.g. \"64KiB\", \"256MiB\", \"1GiB\"";
        return std::nullopt;
    }
    std::string_view unit = text.substr(pos);
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    double scale = 0;
    if (unit.empty() || unit == "B")
        scale = 1;
    else if (unit == "KiB")
        scale = 1024.0;
    else if (unit == "MiB")
        scale = 1024.0 * 1024;
    else if (unit == "GiB")
        scale = 1024.0 * 1024 * 1024;
    else if (unit == "TiB")
        scale = 1024.0 * 1024 * 1024 * 1024;
    else if (unit == "kB" || unit == "KB")
        scale = 1e3;
    else if (unit == "MB")
        scale = 1e6;
    else if (unit == "GB")
        scale = 1e9;
    else if (unit == "TB")
        scale = 1e12;
    else {
        error = "has unknown unit \"" + std::string(unit) + "\" (units: B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)";
        return std::nullopt;
    }
    double bytes = value * scale;
    if (bytes >= 0x1p64) {  // does not fit a uint64_t
        error = "is too large";
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(std::round(bytes));
}

std::string format_duration(std::chrono::milliseconds d) {
    std::int64_t ms = d.count();
    if (ms == 0) return "0s";
    std::string out;
    if (ms < 0) {
        out = "-";
        ms = -ms;
    }
    if (ms < 1000) return out + std::to_string(ms) + "ms";
    if (ms % 1000 != 0 && ms < 60'000) {
        std::string frac = std::to_string(ms % 1000);
        frac.insert(0, 3 - frac.size(), '0');
        while (frac.back() == '0') frac.pop_back();
        return out + std::to_string(ms / 1000) + "." + frac + "s";
    }
    const std::int64_t units[] = {86'400'000, 3'600'000, 60'000, 1000, 1};
    const char* names[] = {"d", "h", "m", "s", "ms"};
    for (int i = 0; i < 5; ++i) {
        if (ms >= units[i]) {
            out += std::to_string(ms / units[i]) + names[i];
            ms %= units[i];
        }
    }
    return out;
}

std::string format_size(std::uint64_t n) {
    char buffer[32];
    if (n < 1024) return std::to_string(n) + " B";
    const double v = static_cast<double>(n);
    if (n < 1024ull * 1024)
        std::snprintf(buffer, sizeof buffer, "%.1f KiB", v / 1024);
    else if (n < 1024ull * 1024 * 1024)
        std::snprintf(buffer, sizeof buffer, "%.1f MiB", v / (1024.0 * 1024));
    else
        std::snprintf(buffer, sizeof buffer, "%.1f GiB", v / (1024.0 * 1024 * 1024));
    return buffer;
}

}  // namespace gwd
