// SHA-256 names a plugin build: the same bytes are the same code, whatever
// the file's name, size or time stamp say.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace gwd {

// Lower-case hex; "" only if OpenSSL fails.
std::string sha256_hex(std::string_view bytes);
// Of the file's content; "" when it cannot be read.
std::string file_sha256(const std::filesystem::path& file);

}  // namespace gwd
