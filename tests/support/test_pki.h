// Certificates for TLS tests, made with the openssl command line in a test
// directory: self-signed CAs, a server certificate for 127.0.0.1/localhost,
// and client certificates whose common name is the identity.
#pragma once

#include <filesystem>
#include <string>

#include "temp_dir.h"

namespace gwd::test {

class TestPki {
public:
    // A CA "ca" (ca.pem, ca.key) and server.pem / server.key signed by it.
    explicit TestPki(const TempDir& dir);

    // Another self-signed CA, <name>.pem and <name>.key.
    void add_ca(const std::string& name, const std::string& common_name);
    // <name>.pem and <name>.key: a client certificate for `common_name`, signed by "ca".
    void add_client(const std::string& name, const std::string& common_name);

    std::string file(const std::string& name) const { return (base_ / name).string(); }

private:
    const TempDir& dir_;
    std::filesystem::path base_;
};

}  // namespace gwd::test
