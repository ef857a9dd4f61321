#include "common/liveness.h"

#include <algorithm>

namespace gwd {

std::shared_ptr<Heartbeat> Liveness::enroll(std::string name) {
    auto heart = std::make_shared<Heartbeat>(std::move(name));
    std::lock_guard lock(mutex_);
    // A new thread has not had a round yet: it counts as moving until the next look.
    entries_.push_back({heart, ~std::uint64_t{0}});
    return heart;
}

std::vector<std::string> Liveness::stalled() {
    std::vector<std::string> names;
    std::lock_guard lock(mutex_);
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [](const Entry& e) { return e.heart.expired(); }),
                   entries_.end());
    for (Entry& e : entries_) {
        auto heart = e.heart.lock();
        if (!heart) continue;
        const std::uint64_t now = heart->count();
        if (now == e.last_count && !heart->excused()) names.push_back(heart->name());
        e.last_count = now;
    }
    return names;
}

Liveness& process_liveness() {
    static Liveness liveness;
    return liveness;
}

}  // namespace gwd
