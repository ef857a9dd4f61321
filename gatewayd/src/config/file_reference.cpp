#include "config/file_reference.h"

namespace gwd {

std::optional<std::filesystem::path> resolve_file_reference(std::string_view value, const char* credentials_directory,
                                                            std::string& error) {
    if (!value.starts_with(kCredentialPrefix)) return std::filesystem::path(value);
    const std::string_view name = value.substr(kCredentialPrefix.size());
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
        error = "'" + std::string(value) + "' must name a credential as credential:NAME (no '/')";
        return std::nullopt;
    }
    if (credentials_directory == nullptr || *credentials_directory == '\0') {
        error = "'" + std::string(value) +
                "' is a systemd credential, but gatewayd got none (CREDENTIALS_DIRECTORY is not set): add "
                "LoadCredential=" + std::string(name) + ":/path/to/file to the unit (a drop-in), or name the file itself";
        return std::nullopt;
    }
    return std::filesystem::path(credentials_directory) / std::string(name);
}

}  // namespace gwd
