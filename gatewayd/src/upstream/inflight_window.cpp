#include "upstream/inflight_window.h"

#include <algorithm>

namespace gwd {

namespace {
template <typename Deque>
auto find_entry(Deque& entries, std::uint64_t id) {
    return std::lower_bound(entries.begin(), entries.end(), id,
                            [](const auto& entry, std::uint64_t wanted) { return entry.id < wanted; });
}
}  // namespace

void InflightWindow::sent(std::uint64_t id, bool dead_letter) {
    if (entries_.empty() || entries_.back().id < id) {
        entries_.push_back({id, false, dead_letter});
        ++open_;
        return;
    }
    auto it = find_entry(entries_, id);
    if (it != entries_.end() && it->id == id) {
        // Sent again (a quota refusal is retried): open it again if it was settled.
        if (it->settled) {
            it->settled = false;
            ++open_;
        }
        return;
    }
    entries_.insert(it, {id, false, dead_letter});
    ++open_;
}

std::optional<bool> InflightWindow::settle(std::uint64_t id) {
    auto it = find_entry(entries_, id);
    if (it == entries_.end() || it->id != id || it->settled) return std::nullopt;
    it->settled = true;
    const bool dead_letter = it->dead_letter;
    --open_;
    while (!entries_.empty() && entries_.front().settled) entries_.pop_front();
    return dead_letter;
}

std::optional<std::uint64_t> InflightWindow::oldest() const {
    if (entries_.empty()) return std::nullopt;
    return entries_.front().id;
}

void InflightWindow::clear() {
    entries_.clear();
    open_ = 0;
}

}  // namespace gwd
