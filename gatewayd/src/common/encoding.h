// Transfer encodings seen on sensor payloads: base64 (RFC 4648, standard and
// URL-safe alphabets) and hex. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gwd {

std::string base64_encode(std::string_view bytes);

// Accepts both alphabets, optional '=' padding and embedded line breaks.
// On failure returns nullopt and describes the first offending byte in `error`.
std::optional<std::string> base64_decode(std::string_view text, std::string& error);

std::string hex_encode(std::string_view bytes);

// Accepts upper and lower case, optional "0x" prefix and whitespace between
// byte pairs.
std::optional<std::string> hex_decode(std::string_view text, std::string& error);

}  // namespace gwd
