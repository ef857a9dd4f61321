#include "config/platform_profile.h"

namespace gwd {

std::string_view profile_name(PlatformProfile profile) {
    switch (profile) {
        case PlatformProfile::mqtt: return "mqtt";
        case PlatformProfile::aws: return "aws";
        case PlatformProfile::huawei: return "huawei";
        case PlatformProfile::onenet: return "onenet";
    }
    return "mqtt";
}

std::optional<PlatformProfile> parse_profile(std::string_view name) {
    for (auto p : {PlatformProfile::mqtt, PlatformProfile::aws, PlatformProfile::huawei, PlatformProfile::onenet})
        if (profile_name(p) == name) return p;
    return std::nullopt;
}

}  // namespace gwd
