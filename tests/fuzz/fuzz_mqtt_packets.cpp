// Any byte stream from a broker (or a client, for the stub broker): the
// reader cuts it into packets, and every decoder refuses what is not MQTT
// with a reason; none reads out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mqtt/packet_reader.h"
#include "mqtt/packets.h"
#include "mqtt/wire.h"

using namespace gwd::mqtt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    // The first byte: the reader's packet size limit (0: none) and the feed's chunk size.
    const std::uint32_t limit = (data[0] & 0x0F) == 0 ? 0 : 16u << (data[0] & 0x0F);
    const std::size_t chunk = 1 + (data[0] >> 4) * 7;
    PacketReader reader(limit);
    std::string error;
    for (std::size_t at = 1; at < size; at += chunk) {
        reader.feed(reinterpret_cast<const char*>(data + at), std::min(chunk, size - at));
        while (auto packet = reader.next(error)) {
            for (int version : {4, 5}) {
                std::string e;
                (void)decode_connack(version, packet->body, e);
                (void)decode_suback(version, packet->body, e);
                (void)decode_publish(version, packet->flags, packet->body, e);
                (void)decode_disconnect_reason(version, packet->body);
            }
            std::string e;
            (void)decode_publish_head(packet->flags, packet->body, e);
            Cursor c(packet->body);
            (void)read_properties(c, [](std::uint8_t, std::uint32_t, std::string_view, std::string_view) {});
        }
        if (!error.empty()) break;
    }
    return 0;
}
