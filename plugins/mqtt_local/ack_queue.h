// QoS 1 acknowledgements in arrival order. MQTT 3.1.1 (4.6.0-2) has a client
// acknowledge QoS 1 messages in the order they arrived; gatewayd reports them
// stored in an order of its own (one reading may go to two upstreams). A
// PUBACK goes out once its message and every message before it are stored.
// Receipts outlive connections: a report for a message of a lost connection
// is ignored, because the broker sends that message again. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace mqtt_local {

class AckQueue {
public:
    // A QoS 1 message arrived; its receipt goes out as the reading's ack_context.
    std::uint64_t arrived(std::uint16_t packet_id);
    // gatewayd has stored (or settled) the reading with this receipt.
    void stored(std::uint64_t receipt);
    // Appends the packet ids whose PUBACK may go out now, in order.
    void release(std::vector<std::uint16_t>& out);
    // The connection is gone: forget everything outstanding.
    void reset();
    size_t outstanding() const { return entries_.size(); }

private:
    struct Entry {
        std::uint64_t receipt;
        std::uint16_t packet_id;
        bool stored;
    };
    std::deque<Entry> entries_;  // receipts increase by one along the deque
    std::uint64_t next_receipt_ = 1;
};

}  // namespace mqtt_local
