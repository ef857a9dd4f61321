#include "outbox/memory_outbox.h"

#include <algorithm>

namespace gwd {

MemoryOutbox::MemoryOutbox(std::uint64_t max_bytes, OverflowPolicy overflow)
    : max_bytes_(max_bytes), overflow_(overflow) {}

bool MemoryOutbox::append(std::shared_ptr<const Message> message, StoreTicketPtr ticket) {
    const std::uint64_t size = message->approximate_size();
    {
        std::lock_guard lock(mutex_);
        if (stats_.bytes + size > max_bytes_) {
            if (overflow_ == OverflowPolicy::drop_newest || size > max_bytes_) {
                ++stats_.dropped_overflow;
                if (ticket) ticket->settle(false);
                return false;
            }
            drop_oldest_until(max_bytes_ - size);
        }
        slots_.push_back(Slot{OutboxEntry{next_id_++, std::move(message)}, size, false});
        stats_.bytes += size;
        ++stats_.queued;
        ++stats_.appended;
    }
    if (ticket) ticket->settle(true);
    if (auto listener = listener_.load(std::memory_order_acquire); listener && *listener) (*listener)();
    return true;
}

size_t MemoryOutbox::backlog_end_locked() const {
    if (live_from_ == 0 || slots_.empty()) return slots_.size();
    const std::uint64_t front = slots_.front().entry.id;
    return live_from_ <= front ? 0 : std::min<size_t>(slots_.size(), live_from_ - front);
}

size_t MemoryOutbox::live_start_locked() const {
    const std::uint64_t front = slots_.front().entry.id;
    return live_next_ > front ? live_next_ - front : 0;
}

size_t MemoryOutbox::take(size_t max, std::vector<OutboxEntry>& out) {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    const size_t end = backlog_end_locked();
    while (n < max && next_untaken_ < end) {
        const Slot& slot = slots_[next_untaken_++];
        if (slot.acknowledged) continue;
        out.push_back(slot.entry);
        ++n;
    }
    return n;
}

bool MemoryOutbox::remove(std::uint64_t id, Removal why) {
    std::lock_guard lock(mutex_);
    // Ids increase along the deque, so a binary search finds the slot.
    auto it = std::lower_bound(slots_.begin(), slots_.end(), id,
                               [](const Slot& s, std::uint64_t wanted) { return s.entry.id < wanted; });
    if (it == slots_.end() || it->entry.id != id || it->acknowledged) return false;
    it->acknowledged = true;
    --stats_.queued;
    switch (why) {
        case Removal::delivered: ++stats_.delivered; break;
        case Removal::expired: ++stats_.expired; break;
        case Removal::discarded: ++stats_.discarded; break;
    }
    pop_acknowledged_front();
    return true;
}

void MemoryOutbox::pop_acknowledged_front() {
    while (!slots_.empty() && slots_.front().acknowledged) {
        stats_.bytes -= slots_.front().size;
        slots_.pop_front();
        if (next_untaken_ > 0) --next_untaken_;
    }
}

void MemoryOutbox::rewind() {
    std::lock_guard lock(mutex_);
    next_untaken_ = 0;
    live_from_ = live_next_ = 0;
}

void MemoryOutbox::split_lanes(std::uint64_t first_live) {
    std::lock_guard lock(mutex_);
    live_from_ = live_next_ = first_live;
}

size_t MemoryOutbox::take_live(size_t max, std::vector<OutboxEntry>& out) {
    std::lock_guard lock(mutex_);
    if (live_from_ == 0 || slots_.empty()) return 0;
    size_t n = 0;
    for (size_t i = live_start_locked(); n < max && i < slots_.size(); ++i) {
        const Slot& slot = slots_[i];
        live_next_ = slot.entry.id + 1;
        if (slot.acknowledged) continue;
        out.push_back(slot.entry);
        ++n;
    }
    return n;
}

bool MemoryOutbox::has_untaken_live() const {
    std::lock_guard lock(mutex_);
    if (live_from_ == 0 || slots_.empty()) return false;
    for (size_t i = live_start_locked(); i < slots_.size(); ++i)
        if (!slots_[i].acknowledged) return true;
    return false;
}

std::uint64_t MemoryOutbox::next_id() const {
    std::lock_guard lock(mutex_);
    return next_id_;
}

bool MemoryOutbox::has_untaken() const {
    std::lock_guard lock(mutex_);
    for (size_t i = next_untaken_, end = backlog_end_locked(); i < end; ++i)
        if (!slots_[i].acknowledged) return true;
    return false;
}

std::shared_ptr<const Message> MemoryOutbox::get(std::uint64_t id) const {
    std::lock_guard lock(mutex_);
    auto it = std::lower_bound(slots_.begin(), slots_.end(), id,
                               [](const Slot& s, std::uint64_t wanted) { return s.entry.id < wanted; });
    if (it == slots_.end() || it->entry.id != id || it->acknowledged) return nullptr;
    return it->entry.message;
}

void MemoryOutbox::set_append_listener(std::function<void()> listener) {
    listener_.store(std::make_shared<const std::function<void()>>(std::move(listener)), std::memory_order_release);
}

void MemoryOutbox::set_limits(std::uint64_t max_bytes, OverflowPolicy overflow) {
    std::lock_guard lock(mutex_);
    max_bytes_ = max_bytes;
    overflow_ = overflow;
    // Both policies shed the oldest when the bound shrinks below what is queued:
    // refusing what is already accepted is not possible.
    drop_oldest_until(max_bytes_);
}

void MemoryOutbox::drop_oldest_until(std::uint64_t bytes) {
    while (!slots_.empty() && stats_.bytes > bytes) {
        const Slot& oldest = slots_.front();
        stats_.bytes -= oldest.size;
        if (!oldest.acknowledged) {
            ++stats_.dropped_overflow;
            --stats_.queued;
        }
        slots_.pop_front();
        if (next_untaken_ > 0) --next_untaken_;
    }
}

OutboxStats MemoryOutbox::stats() const {
    std::lock_guard lock(mutex_);
    OutboxStats s = stats_;
    s.oldest_accepted_ms = 0;
    for (const auto& slot : slots_) {
        if (!slot.acknowledged) {
            s.oldest_accepted_ms = slot.entry.message->accepted_ms;
            break;
        }
    }
    return s;
}

}  // namespace gwd
