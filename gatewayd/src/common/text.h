// Small text helpers shared by several rooms. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gwd {

// True when `bytes` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view bytes);

// Why `text` may not travel as an MQTT UTF-8 string (topic, content type, user
// property), or empty when it may: MQTT 5.0 section 1.5.4 forbids U+0000 and
// says control characters and non-characters should not appear, and brokers
// such as mosquitto close the connection when they do. One such property
// would otherwise be re-sent, and refused, forever.
std::string mqtt_string_problem(std::string_view text);

std::string ascii_lower(std::string_view text);
std::string_view trim(std::string_view text);
// The fields of one line of tab-separated text (records in state_dir).
std::vector<std::string_view> split_tabs(std::string_view line);

// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a plausible
// typo (distance at most max(2, len/3)), else one that `word` extends or
// abbreviates; empty when none is.
std::string nearest_match(std::string_view word, const std::vector<std::string>& candidates);

// Simple glob with '*' (any run) and '?' (one byte), case-insensitive.
bool glob_match_icase(std::string_view pattern, std::string_view text);

// Quotes a value for a log line: printable ASCII as is, the rest escaped,
// cut after `max` bytes with "...".
std::string printable(std::string_view bytes, size_t max = 64);
// How much of a cloud message a log line quotes when it explains a refusal.
inline constexpr size_t kQuotedMessage = 200;

}  // namespace gwd
