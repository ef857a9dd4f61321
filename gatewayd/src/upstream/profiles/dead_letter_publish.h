// Where a cloud profile sends a dead letter: to the upstream's
// dead_letter_topic when one is set (the payload as it was, the reason in a
// user property), else nowhere (dropped and counted by the session). The
// platforms let devices publish to their own topics only, so cloud profiles
// default to none.
#pragma once

#include <optional>

#include "config/config.h"
#include "topics/topic_template.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

class DeadLetterPublisher {
public:
    DeadLetterPublisher(const UpstreamConfig& upstream, std::string gateway_id);
    std::optional<PublishRequest> encode(const Message& message) const;

private:
    std::optional<TopicTemplate> topic_;
    std::string gateway_id_;
    std::string upstream_name_;
    int qos_;
};

}  // namespace gwd
