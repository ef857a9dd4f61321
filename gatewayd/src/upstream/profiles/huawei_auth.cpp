#include "upstream/profiles/huawei_auth.h"

#include <cstdio>
#include <ctime>

#include "common/encoding.h"
#include "upstream/profiles/hmac.h"

namespace gwd {

namespace {

std::string utc(std::chrono::system_clock::time_point at, const char* format) {
    const std::time_t t = std::chrono::system_clock::to_time_t(at);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    const size_t n = std::strftime(text, sizeof text, format, &tm);
    return std::string(text, n);
}

}  // namespace

std::string huawei_timestamp(std::chrono::system_clock::time_point at) { return utc(at, "%Y%m%d%H"); }

std::string huawei_event_time(std::chrono::system_clock::time_point at) { return utc(at, "%Y%m%dT%H%M%SZ"); }

std::string huawei_event_time_ms(std::chrono::system_clock::time_point at) {
    const auto ms = std::chrono::floor<std::chrono::milliseconds>(at);
    const auto second = std::chrono::floor<std::chrono::seconds>(ms);
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>((ms - second).count()));
    return utc(second, "%Y-%m-%dT%H:%M:%S") + fraction;
}

std::string huawei_password(std::string_view secret, std::string_view timestamp) {
    return hex_encode(hmac(HmacDigest::sha256, timestamp, secret));
}

Credentials huawei_credentials(const std::string& device_id, std::string_view secret, int sign_type,
                               std::chrono::system_clock::time_point at) {
    const std::string timestamp = huawei_timestamp(at);
    Credentials c;
    c.client_id = device_id + "_0_" + std::to_string(sign_type) + "_" + timestamp;
    c.username = device_id;
    c.password = huawei_password(secret, timestamp);
    return c;
}

}  // namespace gwd
