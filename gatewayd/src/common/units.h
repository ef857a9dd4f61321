// Durations and sizes as users write them in the config: strings with units.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gwd {

// "250ms", "5s", "2m", "1h", "1d", and sums such as "1m30s". A bare number is
// refused because "5" could mean seconds or milliseconds. On failure returns
// nullopt and sets `error` to a sentence fragment ("needs a unit, e.g. \"5s\"").
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error);

// "512B", "64KiB", "256MiB", "1GiB", "10MB" (powers of 1000), or a bare number
// of bytes.
std::optional<std::uint64_t> parse_size(std::string_view text, std::string& error);

// For people: "512 B", "1.5 KiB", "137.0 MiB", "2.1 GiB".
std::string format_size(std::uint64_t bytes);

// The shortest exact spelling: 1500ms -> "1.5s", 90000ms -> "1m30s".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace gwd
