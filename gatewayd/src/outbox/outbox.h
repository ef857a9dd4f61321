// The outbox: per upstream, the FIFO between the router and the session.
// Producers append from any thread; one consumer (the upstream session) takes
// entries in order, and removes them only when the platform acknowledged them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/message.h"
#include "config/config.h"

namespace gwd {

struct OutboxEntry {
    std::uint64_t id = 0;  // increasing in append order
    std::shared_ptr<const Message> message;
};

struct OutboxStats {
    std::uint64_t queued = 0;            // entries not yet acknowledged
    std::uint64_t bytes = 0;             // their approximate size
    std::uint64_t appended = 0;          // total accepted
    std::uint64_t delivered = 0;         // acknowledged and removed
    std::uint64_t dropped_overflow = 0;  // removed or refused by max_bytes
    std::int64_t oldest_timestamp_ms = 0;  // of the oldest queued entry; 0 when empty
};

class Outbox {
public:
    virtual ~Outbox() = default;

    // Producer side, thread-safe. Returns false when the overflow policy
    // refused the message (drop-newest); the refusal is counted.
    virtual bool append(std::shared_ptr<const Message> message) = 0;

    // Consumer side. Moves up to `max` entries that were not yet taken into
    // `out`, oldest first.
    virtual size_t take(size_t max, std::vector<OutboxEntry>& out) = 0;
    // The platform acknowledged entry `id`: remove it. Returns false for ids
    // not (or no longer) queued.
    virtual bool acknowledge(std::uint64_t id) = 0;
    // The connection was lost: taken but unacknowledged entries are offered
    // again, in their original order, by the next take().
    virtual void rewind() = 0;
    // Whether take() would return something.
    virtual bool has_untaken() const = 0;
    // The queued message with this id, or nullptr.
    virtual std::shared_ptr<const Message> get(std::uint64_t id) const = 0;

    // Called after every append, on the producer's thread, so a consumer can
    // wake up. May be replaced at any time (a reload replaces the consumer);
    // an empty function removes it.
    virtual void set_append_listener(std::function<void()> listener) = 0;

    virtual OutboxStats stats() const = 0;

    // New bounds (a reload); a smaller max_bytes drops by the new policy.
    virtual void set_limits(std::uint64_t max_bytes, OverflowPolicy overflow) = 0;
};

}  // namespace gwd
