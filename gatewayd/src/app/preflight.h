// Checks of the machine a start depends on, beyond the config file itself:
// the state directory. Shared by --check-config and the start.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "config/diagnostics.h"

namespace gwd {

// Whether state_dir exists (or could be created) and is writable.
void check_state_dir(const Config& config, Diagnostics& diags);

// Creates state_dir (mode 0750) when missing; false with a diagnostic when it cannot.
bool prepare_state_dir(const Config& config, Diagnostics& diags);

// Files holding secrets (password_file, private keys, device secrets) that
// every user of the machine may read: one warning sentence each. Not errors:
// the daemon runs, but the user should know.
std::vector<std::string> secret_file_warnings(const Config& config);

}  // namespace gwd
