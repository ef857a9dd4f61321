#include "plugin_host/file_digest.h"

#include "common/sha256.h"
#include "common/whole_file.h"

namespace gwd {

std::string file_sha256(const std::filesystem::path& file) {
    std::string bytes;
    if (!read_whole_file(file, bytes)) return {};
    return sha256_hex(bytes);
}

}  // namespace gwd
