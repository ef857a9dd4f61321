#include "common/file_reference.h"

namespace gwd {

std::optional<std::filesystem::path> resolve_file_reference(std::string_view value, const char* credentials_directory,
                                                            std::string& error) {
    if (!value.starts_with(kCredentialPrefix)) return std::filesystem::path(value);
    const std::string_view name = value.substr(kCredentialPrefix.size());
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
        error = "'" + std::string(value) + "' must name a credential as credential:NAME (no '/')";
        return std::nullopt;
    }
    // Outside the service (gatewayd --check-config or status from a shell):
    // where systemd puts the service's credentials while it runs.
    const bool from_service = credentials_directory != nullptr && *credentials_directory != '\0';
    return std::filesystem::path(from_service ? credentials_directory : kServiceCredentialsDirectory) /
           std::string(name);
}

}  // namespace gwd
