// What a CONNECT sends to prove who we are. A profile owns its credentials:
// plain MQTT reads a password or password file; Huawei and OneNET derive
// passwords and tokens from the time, and say so, so that an authorization
// failure first retries once with freshly derived ones.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gwd {

struct Credentials {
    std::string client_id;
    std::optional<std::string> username;
    std::optional<std::string> password;
    // When the platform stops accepting these (a OneNET token's et): the
    // session reconnects with fresh ones shortly before.
    std::optional<std::chrono::system_clock::time_point> expires_at;
};

class CredentialSource {
public:
    virtual ~CredentialSource() = default;
    // The credentials of a CONNECT at `now`; nullopt with `error` when a
    // secret cannot be read.
    virtual std::optional<Credentials> at(std::chrono::system_clock::time_point now, std::string& error) const = 0;
    virtual bool time_derived() const = 0;
};

// A fixed client id and user name, and a password given inline or read from
// a file at every connect (so a fixed file is picked up without a restart;
// the trailing newline editors add is not part of it).
class StaticCredentials final : public CredentialSource {
public:
    StaticCredentials(std::string client_id, std::optional<std::string> username, std::optional<std::string> password,
                      std::optional<std::filesystem::path> password_file);
    std::optional<Credentials> at(std::chrono::system_clock::time_point now, std::string& error) const override;
    bool time_derived() const override { return false; }

private:
    Credentials fixed_;
    std::optional<std::filesystem::path> password_file_;
};

// Reads a secret file, without its trailing line breaks.
std::optional<std::string> read_secret_file(const std::filesystem::path& path, std::string& error);

}  // namespace gwd
