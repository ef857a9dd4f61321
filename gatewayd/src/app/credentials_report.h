// `gatewayd credentials --upstream NAME [--at TIME] [--show-secret]`: what a
// CONNECT of that upstream at that instant sends, for users debugging
// platform authentication (the Huawei hour, the OneNET token's et).
#pragma once

#include <chrono>
#include <string>

#include "config/config.h"

namespace gwd {

// The report, or an empty string with `error` (a secret file cannot be read).
std::string credentials_report(const UpstreamConfig& upstream, std::chrono::system_clock::time_point at,
                               bool show_secret, std::string& error);

// "c751…820a (64 characters; --show-secret prints it)"
std::string mask_secret(const std::string& secret);

}  // namespace gwd
