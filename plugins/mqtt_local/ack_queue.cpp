#include "ack_queue.h"

namespace mqtt_local {

std::uint64_t AckQueue::arrived(std::uint16_t packet_id) {
    const std::uint64_t receipt = next_receipt_++;
    entries_.push_back(Entry{receipt, packet_id, false});
    return receipt;
}

void AckQueue::stored(std::uint64_t receipt) {
    if (entries_.empty() || receipt < entries_.front().receipt) return;
    const std::uint64_t index = receipt - entries_.front().receipt;
    if (index >= entries_.size()) return;
    entries_[index].stored = true;
}

void AckQueue::release(std::vector<std::uint16_t>& out) {
    while (!entries_.empty() && entries_.front().stored) {
        out.push_back(entries_.front().packet_id);
        entries_.pop_front();
    }
}

void AckQueue::reset() { entries_.clear(); }

}  // namespace mqtt_local
