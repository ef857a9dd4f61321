#include "upstream/profiles/credentials.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include "common/error_text.h"

namespace gwd {

std::optional<std::string> read_secret_file(const std::filesystem::path& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read '" + path.string() + "': " + gwd::error_text(errno);
        return std::nullopt;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string secret = buffer.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    return secret;
}

StaticCredentials::StaticCredentials(std::string client_id, std::optional<std::string> username,
                                     std::optional<std::string> password,
                                     std::optional<std::filesystem::path> password_file)
    : fixed_{std::move(client_id), std::move(username), std::move(password), std::nullopt},
      password_file_(std::move(password_file)) {}

std::optional<Credentials> StaticCredentials::at(std::chrono::system_clock::time_point, std::string& error) const {
    Credentials c = fixed_;
    if (password_file_) {
        auto secret = read_secret_file(*password_file_, error);
        if (!secret) return std::nullopt;
        c.password = std::move(secret);
    }
    return c;
}

}  // namespace gwd
