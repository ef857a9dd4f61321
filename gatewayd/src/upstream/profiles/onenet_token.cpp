#include "upstream/profiles/onenet_token.h"

#include "common/encoding.h"
#include "upstream/profiles/hmac.h"

namespace gwd {

std::string_view onenet_method_name(OnenetSignMethod method) {
    switch (method) {
        case OnenetSignMethod::md5: return "md5";
        case OnenetSignMethod::sha1: return "sha1";
        case OnenetSignMethod::sha256: return "sha256";
    }
    return "sha256";
}

std::string url_encode_component(std::string_view text) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += ch;
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 0x0F];
        }
    }
    return out;
}

bool is_onenet_identifier(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::optional<std::string> onenet_token(const OnenetTokenRequest& request, std::string& error) {
    std::string decode_error;
    const auto key = base64_decode(request.device_key, decode_error);
    if (!key || key->empty()) {
        error = "the OneNET device key is not base64" + (decode_error.empty() ? std::string() : ": " + decode_error);
        return std::nullopt;
    }
    const std::string method(onenet_method_name(request.method));
    const std::string res = "products/" + request.product_id + "/devices/" + request.device_name;
    const std::string et = std::to_string(request.expires_at);
    const std::string for_signature = et + "\n" + method + "\n" + res + "\n" + std::string(kOnenetTokenVersion);
    const HmacDigest digest = request.method == OnenetSignMethod::md5    ? HmacDigest::md5
                              : request.method == OnenetSignMethod::sha1 ? HmacDigest::sha1
                                                                         : HmacDigest::sha256;
    const std::string sign = base64_encode(hmac(digest, *key, for_signature));
    return "version=" + std::string(kOnenetTokenVersion) + "&res=" + url_encode_component(res) + "&et=" + et +
           "&method=" + method + "&sign=" + url_encode_component(sign);
}

}  // namespace gwd
