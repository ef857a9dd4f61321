// Word back to the plugin that emitted a reading. Each outbox the reading
// enters holds a share of its ticket and settles it once the reading is
// safely stored there, delivered, or dropped by policy. When the last share
// settles, the listener hears whether every outbox stored it, and the plugin
// may let go of its own copy (mqtt_local then acknowledges the message to its
// local broker, which until then would send it again).
#pragma once

#include <atomic>
#include <memory>

namespace gwd {

class StoreListener {
public:
    virtual ~StoreListener() = default;
    // `stored` is false when some outbox dropped the reading (overflow,
    // expiry, no upstream): its fate is decided all the same.
    virtual void settled(void* ack_context, bool stored) = 0;
};

class StoreTicket {
public:
    // Starts with one share, the emitter's; it settles that after routing.
    StoreTicket(std::shared_ptr<StoreListener> listener, void* ack_context)
        : listener_(std::move(listener)), ack_context_(ack_context) {}

    void hold() { shares_.fetch_add(1, std::memory_order_relaxed); }

    void settle(bool stored) {
        if (!stored) all_stored_.store(false, std::memory_order_relaxed);
        if (shares_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            listener_->settled(ack_context_, all_stored_.load(std::memory_order_relaxed));
        }
    }

private:
    std::shared_ptr<StoreListener> listener_;
    void* ack_context_;
    std::atomic<int> shares_{1};
    std::atomic<bool> all_stored_{true};
};

using StoreTicketPtr = std::shared_ptr<StoreTicket>;

}  // namespace gwd
