// The interface through which the plugin host hands readings to the next
// stage (normalize -> route -> outbox). The host knows nothing beyond it.
#pragma once

#include "common/message.h"
#include "common/store_ticket.h"

namespace gwd {

enum class EmitOutcome {
    accepted,       // normalized and queued for at least one upstream
    unrouted,       // normalized, but no upstream takes this sensor
    dead_lettered,  // the payload failed to decode; queued as a dead letter
    dropped,        // the payload failed to decode and the policy drops it
    refused,        // every upstream that takes it refused it: a full queue (drop-newest) or a full disk
};

class ReadingSink {
public:
    virtual ~ReadingSink() = default;
    // Thread-safe; called from plugin threads. `ticket`, when set, is shared
    // with every outbox the reading enters; the caller settles its own share.
    virtual EmitOutcome accept(const ReadingView& reading, const StoreTicketPtr& ticket = nullptr) = 0;
};

}  // namespace gwd
