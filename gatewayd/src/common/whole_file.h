// Whole small files (records, plugin images): read in one go, and replaced
// so that a crash or a power cut leaves either the old or the new content,
// never a torn one.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace gwd {

// False (errno set) when `path` cannot be opened or read.
bool read_whole_file(const std::filesystem::path& path, std::string& out);

// Writes all of `bytes` to `fd` (retrying short writes and EINTR); false
// with errno set when it cannot.
bool write_all(int fd, std::string_view bytes);

// Writes `bytes` to a temporary file beside `path`, syncs it, renames it
// over `path` and syncs the directory. Returns "" or what went wrong.
std::string replace_file_durably(const std::filesystem::path& path, std::string_view bytes, mode_t mode = 0600);

}  // namespace gwd
