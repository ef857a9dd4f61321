// China Mobile OneNET device token (OneNET's token algorithm page,
// https://open.iot.10086.cn/doc/multiprotocol/book/manual/auth/token.html, and the official C SDK's
// dev_token_generate(), cm-heclouds/OneNET_AIO_c onenet/utils/dev_token.c): the MQTT password of a
// device whose client id is its device name and whose user name is its product id.
//
//   StringForSignature = et + "\n" + method + "\n" + res + "\n" + version
//   sign  = base64(HMAC_<method>(base64decode(device key), StringForSignature))
//   token = version=2018-10-31&res={urlenc(res)}&et={et}&method={method}&sign={urlenc(sign)}
//
// with res = "products/{product_id}/devices/{device_name}" and et the Unix
// time (seconds) after which the platform refuses the token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gwd {

enum class OnenetSignMethod { md5, sha1, sha256 };

struct OnenetTokenRequest {
    std::string product_id;
    std::string device_name;
    std::string device_key;  // base64, as the console shows it
    OnenetSignMethod method = OnenetSignMethod::sha256;
    std::int64_t expires_at = 0;  // et: Unix seconds
};

inline constexpr std::string_view kOnenetTokenVersion = "2018-10-31";

std::string_view onenet_method_name(OnenetSignMethod method);

// The token, or nullopt with `error` when the key is not base64.
std::optional<std::string> onenet_token(const OnenetTokenRequest& request, std::string& error);

// Percent-encodes every byte but A-Z a-z 0-9 - . _ ~ (what both official
// SDKs produce for product ids, device names and base64 signatures).
std::string url_encode_component(std::string_view text);

// Device names and product ids the two official SDKs encode alike:
// non-empty, letters, digits, '.', '_' and '-' only.
bool is_onenet_identifier(std::string_view text);

}  // namespace gwd
