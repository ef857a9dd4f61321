// One connection to the local broker: TCP, or TLS (OpenSSL) over it.
// Blocking writes; reads wait with poll() on the socket and on a wake-up
// descriptor, so the plugin's thread can also react to "stored" reports.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "mqtt/broker_url.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace mqtt_local {

// Where the broker is (mqtt/broker_url.h parses the url option).
using BrokerAddress = gwd::mqtt::BrokerUrl;

struct TlsSettings {
    std::string ca_file;    // empty: the system's trust store
    std::string cert_file;  // client certificate, with key_file
    std::string key_file;
    bool verify = true;
};

class BrokerLink {
public:
    static std::unique_ptr<BrokerLink> connect(const BrokerAddress& address, const TlsSettings& tls,
                                               std::chrono::milliseconds timeout, std::string& error);
    ~BrokerLink();
    BrokerLink(const BrokerLink&) = delete;
    BrokerLink& operator=(const BrokerLink&) = delete;

    bool send(const std::string& bytes, std::string& error);

    enum class Wait { data, timeout, woken, closed };
    // Waits up to `timeout` for bytes (appended to `out`) or for `wake_fd`.
    Wait wait(int wake_fd, std::chrono::milliseconds timeout, std::string& out, std::string& error);

private:
    BrokerLink() = default;
    int fd_ = -1;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
};

}  // namespace mqtt_local
