// The outbox: per upstream, the FIFO between the router and the session.
// Producers append from any thread; one consumer (the upstream session) takes
// entries in order, and removes them only when the platform acknowledged
// them (or they expired, or cannot go to this upstream at all).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/message.h"
#include "common/store_ticket.h"
#include "outbox/outbox_policy.h"

namespace gwd {

struct OutboxEntry {
    std::uint64_t id = 0;  // increasing in append order
    std::shared_ptr<const Message> message;
};

// Why an entry leaves the queue without being dropped by the byte budget.
enum class Removal { delivered, expired, discarded };

struct OutboxStats {
    std::uint64_t queued = 0;             // entries not yet removed
    std::uint64_t bytes = 0;              // their size, as counted against max_bytes
    std::uint64_t appended = 0;           // accepted since start
    std::uint64_t delivered = 0;          // acknowledged by the platform
    std::uint64_t expired = 0;            // past their message expiry before they could be sent
    std::uint64_t discarded = 0;          // removed because this upstream cannot take them
    std::uint64_t dropped_overflow = 0;   // removed or refused by max_bytes (or a full disk)
    std::uint64_t dropped_disk_full = 0;  // of those, because the disk was full or failing
    std::uint64_t damaged = 0;            // records found damaged on disk and skipped
    std::uint64_t recovered = 0;          // entries found on disk at start
    std::int64_t oldest_accepted_ms = 0;  // of the oldest queued entry; 0 when empty
    bool durable = false;                 // kept on disk
    std::string problem;                  // a storage problem right now (disk full, I/O error)
    std::string found_at_start;           // what was wrong with the queue file at start (damaged, salvaged, empty)
};

class Outbox {
public:
    virtual ~Outbox() = default;

    // Producer side, thread-safe. Returns false when the overflow policy
    // refused the message (drop-newest); the refusal is counted. When
    // `ticket` is set, the caller has taken a share for this outbox with
    // hold(), and the outbox settles that share exactly once: when the entry
    // is stored, delivered or dropped, or at once when it is refused.
    virtual bool append(std::shared_ptr<const Message> message, StoreTicketPtr ticket = nullptr) = 0;

    // Consumer side: one thread. Moves up to `max` entries that were not yet
    // taken into `out`, oldest first.
    virtual size_t take(size_t max, std::vector<OutboxEntry>& out) = 0;
    // Removes entry `id`. Returns false for ids not (or no longer) queued.
    virtual bool remove(std::uint64_t id, Removal why) = 0;
    // The platform acknowledged entry `id`.
    bool acknowledge(std::uint64_t id) { return remove(id, Removal::delivered); }
    // The connection was lost: taken but unacknowledged entries are offered
    // again, in their original order, by the next take().
    virtual void rewind() = 0;
    // Whether take() would return something.
    virtual bool has_untaken() const = 0;

    // Live-first replay (replay = "live-first"): entries with ids from
    // `first_live` on form the live lane, which take_live() gives, oldest
    // first; take() then gives only the backlog below it. rewind() ends the
    // split. Each lane keeps its order.
    virtual void split_lanes(std::uint64_t first_live) = 0;
    virtual size_t take_live(size_t max, std::vector<OutboxEntry>& out) = 0;
    virtual bool has_untaken_live() const = 0;
    // The id the next append gets.
    virtual std::uint64_t next_id() const = 0;
    // The consumer holds what it took back on purpose (a batch lingering for
    // company): store it when the source pauses rather than wait for its
    // delivery, so a source that waits for stored() sends the company.
    virtual void consumer_lingers() {}
    // The queued message with this id, or nullptr.
    virtual std::shared_ptr<const Message> get(std::uint64_t id) const = 0;

    // Called after every append, on the producer's thread, so a consumer can
    // wake up. May be replaced at any time (a reload replaces the consumer);
    // an empty function removes it.
    virtual void set_append_listener(std::function<void()> listener) = 0;

    virtual OutboxStats stats() const = 0;

    // New bounds (a reload); a smaller max_bytes drops by the new policy.
    virtual void set_limits(std::uint64_t max_bytes, OverflowPolicy overflow) = 0;

    // Makes what is queued as safe as this outbox can (written and synced);
    // appends after it are refused. Stats stay readable.
    virtual void close() {}
};

}  // namespace gwd
