// Where a cloud profile sends a dead letter: to the upstream's
// dead_letter_topic when one is set (the payload as it was, the reason in a
// user property), else nowhere (dropped and counted by the session). The
// platforms let devices publish to their own topics only, so cloud profiles
// default to none.
#pragma once

#include <optional>

#include "config/config.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

std::optional<PublishRequest> dead_letter_publish(const UpstreamConfig& upstream, const std::string& gateway_id,
                                                  const Message& message);

}  // namespace gwd
