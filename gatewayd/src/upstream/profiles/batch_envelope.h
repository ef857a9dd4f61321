// Several readings in one publish, for profiles whose consumer reads JSON
// (profile = "mqtt" and "aws" with `batch`): a JSON array of the envelopes
// of message_envelope.h, oldest first,
//
//   [{"gateway":"gw-01","sensor":"t1","ts":1763803200123,"content_type":"application/json",
//     "properties":{"unit":"C"},"payload":{"v":21.5}},
//    {"gateway":"gw-01","sensor":"t1","ts":1763803201123,...}]
//
// Each element carries all of its reading's metadata, so it stands alone.
// The MQTT v5 user properties of the publish itself are the pairs every
// reading of the batch has (same key, same value, in the first's order), so a
// subscriber that routes on properties still can.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/message.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

std::string envelope_array(std::span<const UplinkItem> items, std::string_view gateway_id);

// The user properties all of `items` share; at most `max_bytes` of keys and
// values (0: no limit), whole pairs only.
UserProperties shared_properties(std::span<const UplinkItem> items, size_t max_bytes = 0);

}  // namespace gwd
