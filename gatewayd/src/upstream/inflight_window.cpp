#include "upstream/inflight_window.h"

#include <algorithm>

namespace gwd {

void InflightWindow::sent(std::uint64_t id) {
    if (entries_.empty() || entries_.back().first < id) {
        entries_.emplace_back(id, false);
    } else {
        auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                                   [](const auto& entry, std::uint64_t wanted) { return entry.first < wanted; });
        if (it != entries_.end() && it->first == id) return;  // already open
        entries_.insert(it, {id, false});
    }
    ++open_;
}

bool InflightWindow::settle(std::uint64_t id) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                               [](const auto& entry, std::uint64_t wanted) { return entry.first < wanted; });
    if (it == entries_.end() || it->first != id || it->second) return false;
    it->second = true;
    --open_;
    while (!entries_.empty() && entries_.front().second) entries_.pop_front();
    return true;
}

std::optional<std::uint64_t> InflightWindow::oldest() const {
    if (entries_.empty()) return std::nullopt;
    return entries_.front().first;
}

void InflightWindow::clear() {
    entries_.clear();
    open_ = 0;
}

}  // namespace gwd
