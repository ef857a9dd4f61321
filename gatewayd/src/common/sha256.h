// SHA-256 (FIPS 180-4). Pure. gatewayd names plugin builds by it; computing
// it here rather than through OpenSSL keeps a daemon without TLS or platform
// credentials from initializing OpenSSL at all (its configuration and
// providers: 3.4 MiB of resident memory, measured).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gwd {

std::array<std::uint8_t, 32> sha256(std::string_view bytes);
// The same, in lower-case hex (64 characters).
std::string sha256_hex(std::string_view bytes);

}  // namespace gwd
