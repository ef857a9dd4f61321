// Which cloud an [[upstream]] speaks to: `profile = "..."` in the file.
#pragma once

#include <optional>
#include <string_view>

namespace gwd {

enum class PlatformProfile { mqtt, aws, huawei, onenet };

// "mqtt", "aws", "huawei", "onenet".
std::string_view profile_name(PlatformProfile profile);
// The profile a name means; nullopt for names it does not know.
std::optional<PlatformProfile> parse_profile(std::string_view name);

}  // namespace gwd
