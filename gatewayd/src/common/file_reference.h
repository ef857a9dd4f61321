// What a *_file key may name: a path, or "credential:NAME", a systemd
// credential (LoadCredential=NAME:/path or ImportCredential=NAME in the unit
// or a drop-in), which systemd puts at $CREDENTIALS_DIRECTORY/NAME, readable
// by the service alone and never on disk in clear when it was encrypted.
// Pure: the directory is an argument.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace gwd {

inline constexpr std::string_view kCredentialPrefix = "credential:";
// Where systemd puts gatewayd.service's credentials; used when
// CREDENTIALS_DIRECTORY is not set (a command run from a shell).
inline constexpr const char* kServiceCredentialsDirectory = "/run/credentials/gatewayd.service";

// The file `value` names; nullopt with `error` (a sentence to follow the
// key's name) when it cannot be resolved. `credentials_directory`: the
// environment's CREDENTIALS_DIRECTORY, or null when unset (then the
// service's own directory is meant).
std::optional<std::filesystem::path> resolve_file_reference(std::string_view value, const char* credentials_directory,
                                                            std::string& error);

}  // namespace gwd
