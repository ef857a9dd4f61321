// The record sizes of the entries a consumer took and has not yet removed,
// by id. Takes come in increasing id order (until a rewind clears it all),
// removals in nearly that order, so a ring indexed by id does: no allocation
// per entry, unlike a hash map's node (measured: one malloc and free per
// forwarded reading).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

namespace gwd {

class TakenSizes {
public:
    // Ids come in increasing order between clear()s; one below the ring
    // (never expected) is not recorded, and its removal asks the file.
    void record(std::uint64_t id, std::uint32_t size) {
        if (sizes_.empty()) base_ = id;
        if (id < base_) return;
        if (id - base_ < sizes_.size()) {
            sizes_[id - base_] = size;
            return;
        }
        while (base_ + sizes_.size() < id) sizes_.push_back(kNone);
        sizes_.push_back(size);
    }
    std::optional<std::uint32_t> find(std::uint64_t id) const {
        if (id < base_ || id - base_ >= sizes_.size() || sizes_[id - base_] == kNone) return std::nullopt;
        return sizes_[id - base_];
    }
    void erase(std::uint64_t id) {
        if (id < base_ || id - base_ >= sizes_.size()) return;
        sizes_[id - base_] = kNone;
        while (!sizes_.empty() && sizes_.front() == kNone) {
            sizes_.pop_front();
            ++base_;
        }
    }
    void clear() {
        sizes_.clear();
        base_ = 0;
    }

private:
    static constexpr std::uint32_t kNone = 0;  // no record is 0 bytes: kRowOverhead alone is more
    std::deque<std::uint32_t> sizes_;
    std::uint64_t base_ = 0;
};

}  // namespace gwd
