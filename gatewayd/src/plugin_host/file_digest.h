// SHA-256 names a plugin build: the same bytes are the same code, whatever
// the file's name, size or time stamp say.
#pragma once

#include <filesystem>
#include <string>

#include "common/sha256.h"

namespace gwd {

// Of the file's content, in lower-case hex; "" when it cannot be read.
std::string file_sha256(const std::filesystem::path& file);

}  // namespace gwd
