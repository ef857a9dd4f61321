#include "outbox/id_ranges.h"

#include <algorithm>

namespace gwd {

void IdRanges::insert(std::uint64_t first, std::uint64_t last) {
    if (first >= last) return;
    auto it = ranges_.upper_bound(first);  // the first range starting after `first`
    if (it != ranges_.begin()) {
        auto before = std::prev(it);
        if (before->second >= first) {
            // Grow the range that reaches `first` in place (the usual case, ids
            // removed in order), swallowing the ranges the growth reaches.
            std::uint64_t end = std::max(before->second, last);
            while (it != ranges_.end() && it->first <= end) {
                end = std::max(end, it->second);
                it = ranges_.erase(it);
            }
            before->second = end;
            return;
        }
    }
    while (it != ranges_.end() && it->first <= last) {
        last = std::max(last, it->second);
        it = ranges_.erase(it);
    }
    ranges_.emplace_hint(it, first, last);
}

bool IdRanges::contains(std::uint64_t id) const {
    auto it = ranges_.upper_bound(id);
    if (it == ranges_.begin()) return false;
    --it;
    return id < it->second;
}

std::uint64_t IdRanges::first_absent_from(std::uint64_t from) const {
    auto it = ranges_.upper_bound(from);
    if (it == ranges_.begin()) return from;
    --it;
    return from < it->second ? it->second : from;  // ranges are merged, so one step is enough
}

void IdRanges::erase_below(std::uint64_t bound) {
    while (!ranges_.empty()) {
        auto it = ranges_.begin();
        if (it->first >= bound) return;
        const std::uint64_t last = it->second;
        ranges_.erase(it);
        if (last > bound) {
            ranges_.emplace(bound, last);
            return;
        }
    }
}

std::uint64_t IdRanges::size() const {
    std::uint64_t n = 0;
    for (const auto& [first, last] : ranges_) n += last - first;
    return n;
}

}  // namespace gwd
