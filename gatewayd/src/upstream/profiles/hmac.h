// HMAC over OpenSSL, for the platforms' credential algorithms.
#pragma once

#include <string>
#include <string_view>

namespace gwd {

enum class HmacDigest { md5, sha1, sha256 };

// The raw MAC bytes (16, 20 or 32 of them).
std::string hmac(HmacDigest digest, std::string_view key, std::string_view message);

}  // namespace gwd
