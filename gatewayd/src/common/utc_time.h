// RFC 3339 instants in UTC ("2026-11-22T09:15:00Z"), as `gatewayd
// credentials --at` takes them and the status report prints them. Pure.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gwd {

// Accepts YYYY-MM-DDTHH:MM:SSZ (a 't' or ' ' separator, "+00:00" for Z, and
// fractional seconds, which are dropped). nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_utc_time(std::string_view text);

std::string format_utc_time(std::chrono::system_clock::time_point at);

}  // namespace gwd
