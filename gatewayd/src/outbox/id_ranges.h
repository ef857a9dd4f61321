// A set of outbox ids kept as disjoint half-open ranges [first, last). The
// outbox acknowledges mostly in order, so a backlog of a million removed ids
// is a handful of ranges, not a million set nodes. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace gwd {

class IdRanges {
public:
    using Range = std::pair<std::uint64_t, std::uint64_t>;  // [first, last)

    // Adds [first, last); merges with neighbours. Empty ranges are ignored.
    void insert(std::uint64_t first, std::uint64_t last);
    void insert(std::uint64_t id) { insert(id, id + 1); }

    bool contains(std::uint64_t id) const;
    // The first id >= `from` that is not in the set.
    std::uint64_t first_absent_from(std::uint64_t from) const;
    // Forgets every id below `bound`.
    void erase_below(std::uint64_t bound);

    bool empty() const { return ranges_.empty(); }
    size_t range_count() const { return ranges_.size(); }
    std::uint64_t size() const;  // number of ids
    std::vector<Range> ranges() const { return {ranges_.begin(), ranges_.end()}; }
    void clear() { ranges_.clear(); }

private:
    std::map<std::uint64_t, std::uint64_t> ranges_;  // first -> last
};

}  // namespace gwd
