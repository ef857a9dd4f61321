// Cuts a byte stream from a socket into MQTT packets, whichever side reads
// it (the mqtt_local client, the test stub broker). Pure: bytes in, packets out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mqtt/wire.h"

namespace gwd::mqtt {

struct Packet {
    std::uint8_t type = 0;
    std::uint8_t flags = 0;
    std::string body;  // everything after the fixed header (see oversized)
    // Non-zero: the packet was this many bytes, more than the reader's
    // limit, and `body` holds only its head (a PUBLISH's topic and packet
    // id); the rest was skipped without being kept.
    std::uint64_t oversized = 0;
};

// Consumed bytes are dropped once they make up half the buffer, so a read
// that carries a thousand packets costs one move, not a thousand. A packet
// larger than `max_packet_size` (0: no limit) is never held whole: its head
// is returned and the rest dropped as it arrives, so a broker that ignores
// our Maximum Packet Size (or speaks 3.1.1, which has none) cannot make us
// hold 200 MiB.
class PacketReader {
public:
    explicit PacketReader(std::uint32_t max_packet_size = 0) : max_(max_packet_size) {}
    void feed(const char* data, size_t size);
    // The next whole packet; nullopt when more bytes are needed, or with
    // `error` set when the stream is not MQTT.
    std::optional<Packet> next(std::string& error);
    // The same into `out`, whose body keeps its buffer from one packet to
    // the next (no allocation per packet); false when there is none.
    bool next(Packet& out, std::string& error);

private:
    void consume(size_t n);

    std::string buffer_;
    size_t start_ = 0;  // the first byte not yet returned
    std::uint32_t max_ = 0;
    std::uint64_t skip_ = 0;  // bytes of an oversized packet still to drop
};

}  // namespace gwd::mqtt
