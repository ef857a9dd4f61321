// A real mosquitto set up to behave like a cloud platform, and what tests of
// the cloud profiles share: the platforms' credentials computed with
// openssl on the command line (not gatewayd's code), ACLs that let the
// device use its own topics only, and waiting for a platform message.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/json.h"
#include "mosquitto.h"
#include "mqtt_client.h"
#include "temp_dir.h"
#include "test_pki.h"

namespace gwd::test {

// Runs `script` with sh; its output, trailing blanks removed. Fails the test
// when it exits non-zero.
std::string shell(const std::string& script);

// A broker that behaves like the platform: `user` gets in with `password`
// and may use `device_filter` only; the test's "cloud" client (anonymous)
// may use `cloud_filter`. `extra`: more mosquitto.conf lines.
std::unique_ptr<Mosquitto> platform_broker(const TempDir& dir, const std::string& user, const std::string& password,
                                           const std::string& cloud_filter, const std::string& device_filter,
                                           const std::string& extra = {});

// AWS IoT Core: mutual TLS on its own port (require_certificate,
// use_identity_as_username), the device "gw-01" allowed $aws/things/gw-01/#,
// dt/gw-01/#, cmd/gw-01/# (read) and reply/# (write); the cloud client
// (plain listener) anything.
struct AwsLikeBroker {
    explicit AwsLikeBroker(const TempDir& dir);
    std::string tls_url() const;
    // The [[upstream]] lines that connect to it as gw-01.
    std::string upstream_tls_keys() const;

    TestPki pki;
    int tls_port;
    std::unique_ptr<Mosquitto> broker;
};

// Huawei IoTDA for device `device` with secret "s3cret", sign_type 0: the
// password of the current hour (kept off the last seconds of an hour), the
// device limited to $oc/devices/<device>/#, the cloud client to $oc/#.
struct HuaweiLikeBroker {
    HuaweiLikeBroker(const TempDir& dir, std::string device);
    // The [upstream.huawei] table that connects to it.
    std::string huawei_table() const;

    std::string device;
    std::filesystem::path secret_file;
    std::string base;  // $oc/devices/<device>/sys/
    std::unique_ptr<Mosquitto> broker;
};

// Huawei's password for `hour`: HMAC-SHA256(key = hour, message = secret),
// lowercase hex, by openssl.
std::string huawei_password(const std::string& secret, const std::string& hour);

// "YYYYMMDDHH" now, in UTC.
std::string utc_hour_now();
// Keeps a test that derives the hour's password off the last seconds of an hour.
void avoid_hour_boundary();

JsonValue json(const std::string& text);
std::string number_text(const JsonValue* v);

// The first message on `topic` whose payload passes `match`, waiting up to `timeout`.
std::optional<ReceivedMessage> wait_for_message(const TestSubscriber& sub, const std::string& topic,
                                                const std::function<bool(const JsonValue&)>& match,
                                                std::chrono::milliseconds timeout = std::chrono::seconds(10));

inline bool any_json(const JsonValue&) { return true; }

}  // namespace gwd::test
