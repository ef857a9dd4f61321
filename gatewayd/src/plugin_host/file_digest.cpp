#include "plugin_host/file_digest.h"

#include <openssl/evp.h>

#include "common/whole_file.h"

namespace gwd {

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) return {};
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

std::string file_sha256(const std::filesystem::path& file) {
    std::string bytes;
    if (!read_whole_file(file, bytes)) return {};
    return sha256_hex(bytes);
}

}  // namespace gwd
