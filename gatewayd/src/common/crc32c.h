// CRC-32C (Castagnoli), the checksum of iSCSI, ext4 and LevelDB records.
// Pure; detects torn or bit-flipped records in the durable outbox.
#pragma once

#include <cstdint>
#include <string_view>

namespace gwd {

// The CRC of `data`, continuing from `crc` (0 to start).
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

}  // namespace gwd
