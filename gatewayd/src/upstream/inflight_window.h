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
    // Records a publish; `dead_letter` is handed back by settle().
    void sent(std::uint64_t id, bool dead_letter = false);
    // Marks `id` acknowledged or refused; nullopt when it was not open,
    // else whether it was a dead letter.
    std::optional<bool> settle(std::uint64_t id);
    // Publishes still open.
    size_t size() const { return open_; }
    std::optional<std::uint64_t> oldest() const;
    void clear();

private:
    struct Entry {
        std::uint64_t id;
        bool settled;
        bool dead_letter;
    };
    std::deque<Entry> entries_;
    size_t open_ = 0;
};

}  // namespace gwd
