#include "upstream/profiles/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace gwd {

std::string hmac(HmacDigest digest, std::string_view key, std::string_view message) {
    const EVP_MD* md = digest == HmacDigest::md5 ? EVP_md5() : digest == HmacDigest::sha1 ? EVP_sha1() : EVP_sha256();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), out, &length);
    return std::string(reinterpret_cast<const char*>(out), length);
}

}  // namespace gwd
