// An outbox in memory, bounded in bytes. Lost on restart: only QoS 0
// upstreams may choose it (outbox = "memory"). A reading counts as stored
// as soon as it is appended: there is nowhere safer it could go.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>

#include "outbox/outbox.h"
#include "outbox/outbox_policy.h"

namespace gwd {

class MemoryOutbox final : public Outbox {
public:
    MemoryOutbox(std::uint64_t max_bytes, OverflowPolicy overflow);

    bool append(std::shared_ptr<const Message> message, StoreTicketPtr ticket = nullptr) override;
    size_t take(size_t max, std::vector<OutboxEntry>& out) override;
    bool remove(std::uint64_t id, Removal why) override;
    void rewind() override;
    bool has_untaken() const override;
    void split_lanes(std::uint64_t first_live) override;
    size_t take_live(size_t max, std::vector<OutboxEntry>& out) override;
    bool has_untaken_live() const override;
    std::uint64_t next_id() const override;
    std::shared_ptr<const Message> get(std::uint64_t id) const override;
    void set_append_listener(std::function<void()> listener) override;
    OutboxStats stats() const override;
    void set_limits(std::uint64_t max_bytes, OverflowPolicy overflow) override;

private:
    struct Slot {
        OutboxEntry entry;
        std::uint64_t size;
        bool acknowledged;
    };
    void pop_acknowledged_front();
    // Drops the oldest entries (counted) until at most `bytes` are held.
    void drop_oldest_until(std::uint64_t bytes);

    mutable std::mutex mutex_;
    std::deque<Slot> slots_;
    size_t next_untaken_ = 0;  // index into slots_
    // Live-first: the first id of the live lane (0: one lane) and the next
    // live id take_live() looks at.
    std::uint64_t live_from_ = 0;
    std::uint64_t live_next_ = 0;
    // The backlog lane ends here (an index into slots_).
    size_t backlog_end_locked() const;
    // The first slot take_live() has not looked at (an index into slots_;
    // slots_ is not empty).
    size_t live_start_locked() const;
    std::uint64_t next_id_ = 1;
    std::uint64_t max_bytes_;
    OverflowPolicy overflow_;
    OutboxStats stats_;
    std::atomic<std::shared_ptr<const std::function<void()>>> listener_;
};

}  // namespace gwd
