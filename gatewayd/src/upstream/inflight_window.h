// The publishes of one connection that await their acknowledgement. Pure
// bookkeeping: ids usually go in increasing (a retried one may be older),
// come out in any order, and the oldest one still open is always known.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

namespace gwd {

class InflightWindow {
public:
    // Records a publish.
    void sent(std::uint64_t id);
    // Marks `id` acknowledged or failed; false when it was not open.
    bool settle(std::uint64_t id);
    // Publishes still open.
    size_t size() const { return open_; }
    std::optional<std::uint64_t> oldest() const;
    void clear();

private:
    std::deque<std::pair<std::uint64_t, bool>> entries_;  // id, settled
    size_t open_ = 0;
};

}  // namespace gwd
