#include "mqtt/packet_reader.h"

#include <algorithm>

namespace gwd::mqtt {

void PacketReader::feed(const char* data, size_t size) {
    if (start_ > 0 && start_ >= buffer_.size() / 2) {
        buffer_.erase(0, start_);
        start_ = 0;
    }
    buffer_.append(data, size);
}

void PacketReader::consume(size_t n) {
    start_ += n;
    if (start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
        // A large packet leaves a large buffer behind: give it back.
        if (buffer_.capacity() > 256 * 1024) buffer_.shrink_to_fit();
    }
}

std::optional<Packet> PacketReader::next(std::string& error) {
    Packet p;
    if (!next(p, error)) return std::nullopt;
    return p;
}

bool PacketReader::next(Packet& p, std::string& error) {
    if (skip_ > 0) {
        const size_t drop = static_cast<size_t>(std::min<std::uint64_t>(skip_, buffer_.size() - start_));
        consume(drop);
        skip_ -= drop;
        if (skip_ > 0) return false;
    }
    const size_t available = buffer_.size() - start_;
    if (available < 2) return false;
    const char* bytes = buffer_.data() + start_;
    std::uint32_t length = 0;
    size_t header = 1;
    for (int shift = 0;; shift += 7) {
        if (header >= available) return false;  // length not complete yet
        const auto byte = static_cast<std::uint8_t>(bytes[header++]);
        length |= std::uint32_t(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) break;
        if (header > 4) {
            error = "malformed remaining length";
            return false;
        }
    }
    p.oversized = 0;
    p.type = static_cast<std::uint8_t>(bytes[0]) >> 4;
    p.flags = static_cast<std::uint8_t>(bytes[0]) & 0x0F;
    if (max_ > 0 && header + length > max_) {
        // Keep the head a PUBLISH needs (topic and packet id), drop the rest.
        if (available < header + 2 && length >= 2) return false;
        size_t head = length < 2 ? length : 2;
        if (p.type == kPublish && length >= 2) {
            const size_t topic =
                (static_cast<std::uint8_t>(bytes[header]) << 8) | static_cast<std::uint8_t>(bytes[header + 1]);
            head = 2 + topic + (((p.flags >> 1) & 0x03) > 0 ? 2 : 0);
        }
        head = std::min<size_t>(head, length);
        if (available < header + head) return false;
        p.body.assign(bytes + header, head);
        p.oversized = header + std::uint64_t{length};
        skip_ = length - head;
        consume(header + head);
        return true;
    }
    if (available < header + length) return false;
    p.body.assign(bytes + header, length);
    consume(header + length);
    return true;
}

}  // namespace gwd::mqtt
