// Any bytes as an outbox record (a torn or flipped file): refused with a
// reason, or a message that encodes back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "outbox/record_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::string error;
    auto message = gwd::decode_record(bytes, error);
    if (!message) return 0;
    const std::string again = gwd::encode_record(*message);
    if (gwd::encoded_record_size(*message) != again.size()) std::abort();
    auto round = gwd::decode_record(again, error);
    if (!round || round->payload != message->payload || round->sensor != message->sensor ||
        round->properties.size() != message->properties.size())
        std::abort();
    return 0;
}
