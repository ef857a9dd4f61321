// The credential sources of the cloud profiles. Each derives what a CONNECT
// sends from the console fields and the secret file, read again at every
// attempt (so a fixed file needs no restart), and from the clock.
#pragma once

#include <vector>

#include "config/config.h"
#include "upstream/profiles/credentials.h"

namespace gwd {

// Huawei IoTDA: client id {device_id}_0_{sign_type}_{YYYYMMDDHH}, user name
// the device id, password HMAC-SHA256(hour, secret).
class HuaweiCredentials final : public CredentialSource {
public:
    explicit HuaweiCredentials(HuaweiSettings settings) : settings_(std::move(settings)) {}
    std::optional<Credentials> at(std::chrono::system_clock::time_point now, std::string& error) const override;
    bool time_derived() const override { return true; }

private:
    HuaweiSettings settings_;
};

// OneNET: client id the device name, user name the product id, password a
// token valid until now + token_validity.
class OnenetCredentials final : public CredentialSource {
public:
    explicit OnenetCredentials(OnenetSettings settings) : settings_(std::move(settings)) {}
    std::optional<Credentials> at(std::chrono::system_clock::time_point now, std::string& error) const override;
    bool time_derived() const override { return true; }

private:
    OnenetSettings settings_;
};

// Every file a CONNECT of this upstream reads: a change re-arms an upstream
// stopped by an authorization failure.
std::vector<std::filesystem::path> credential_files(const UpstreamConfig& upstream);

// The credential source an upstream's profile uses.
std::unique_ptr<CredentialSource> make_credentials(const UpstreamConfig& upstream);

}  // namespace gwd
