#include "upstream/profiles/platform_credentials.h"

#include "common/utc_time.h"
#include "upstream/profiles/huawei_auth.h"
#include "upstream/profiles/onenet_token.h"

namespace gwd {

std::optional<Credentials> HuaweiCredentials::at(std::chrono::system_clock::time_point now, std::string& error) const {
    auto secret = read_secret_file(settings_.secret_file, error);
    if (!secret) {
        error = "the device secret: " + error;
        return std::nullopt;
    }
    if (secret->empty()) {
        error = "the device secret file '" + settings_.secret_file.string() + "' is empty";
        return std::nullopt;
    }
    return huawei_credentials(settings_.device_id, *secret, settings_.sign_type, now);
}

std::optional<Credentials> OnenetCredentials::at(std::chrono::system_clock::time_point now, std::string& error) const {
    auto key = read_secret_file(settings_.key_file, error);
    if (!key) {
        error = "the device key: " + error;
        return std::nullopt;
    }
    OnenetTokenRequest request;
    request.product_id = settings_.product_id;
    request.device_name = settings_.device_name;
    request.device_key = *key;
    request.method = settings_.method == OnenetMethod::md5    ? OnenetSignMethod::md5
                     : settings_.method == OnenetMethod::sha1 ? OnenetSignMethod::sha1
                                                              : OnenetSignMethod::sha256;
    const auto expires = std::chrono::time_point_cast<std::chrono::seconds>(
        settings_.token_expires_at.value_or(now + settings_.token_validity));
    if (expires <= now) {
        error = "token_expires_at (" + format_utc_time(expires) +
                ") has passed, so OneNET would refuse the token; set a later one, or token_validity instead";
        return std::nullopt;
    }
    request.expires_at = expires.time_since_epoch().count();
    auto token = onenet_token(request, error);
    if (!token) {
        error = "the device key in '" + settings_.key_file.string() + "': " + error;
        return std::nullopt;
    }
    Credentials c;
    c.client_id = settings_.device_name;
    c.username = settings_.product_id;
    c.password = std::move(*token);
    c.expires_at = expires;
    return c;
}

std::vector<std::filesystem::path> credential_files(const UpstreamConfig& u) {
    std::vector<std::filesystem::path> files;
    for (const auto& f : {u.password_file, u.cert_file, u.key_file, u.ca_file}) {
        if (f) files.push_back(*f);
    }
    if (u.profile == PlatformProfile::huawei && !u.huawei.secret_file.empty()) files.push_back(u.huawei.secret_file);
    if (u.profile == PlatformProfile::onenet && !u.onenet.key_file.empty()) files.push_back(u.onenet.key_file);
    return files;
}

std::unique_ptr<CredentialSource> make_credentials(const UpstreamConfig& u) {
    if (u.profile == PlatformProfile::huawei) return std::make_unique<HuaweiCredentials>(u.huawei);
    if (u.profile == PlatformProfile::onenet) return std::make_unique<OnenetCredentials>(u.onenet);
    // mqtt, and aws (mutual TLS: the certificate is the credential)
    return std::make_unique<StaticCredentials>(u.client_id, u.username, u.password, u.password_file);
}

}  // namespace gwd
