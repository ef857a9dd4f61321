// Builds what an upstream's profile consists of: its credentials (what
// CONNECT sends), its uplink codec (message -> platform publish) and, for the
// cloud profiles, its agent (downlink commands, shadow, replies).
#pragma once

#include <memory>

#include "config/config.h"
#include "upstream/profiles/credentials.h"
#include "upstream/profiles/platform_agent.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

struct Profile {
    std::unique_ptr<CredentialSource> credentials;
    std::unique_ptr<UplinkCodec> codec;
    std::unique_ptr<PlatformAgent> agent;  // null for profile = "mqtt"
};

Profile make_profile(const UpstreamConfig& upstream, const Config& config);

}  // namespace gwd
