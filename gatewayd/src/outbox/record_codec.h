// A Message as bytes on disk, and back. Pure.
//
// Layout, integers little-endian, lengths as LEB128 varints:
//   u8  format (1)
//   u32 CRC-32C of everything after this field
//   u8  kind, u8 flags (bit 0: utf8)
//   i64 timestamp_ms, i64 accepted_ms, i64 expires_at_ms
//   sensor, instance, content_type, error: varint length + bytes
//   varint property count, then key and value as above
//   payload: varint length + bytes
// The CRC makes a torn or flipped record detectable: decode() refuses it
// with a reason instead of handing garbage to an upstream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/message.h"

namespace gwd {

inline constexpr std::uint8_t kRecordFormat = 1;

// Exactly encode_record(message).size(), without encoding.
size_t encoded_record_size(const Message& message);

std::string encode_record(const Message& message);
// The same into `out` (replacing its content), reusing its capacity.
void encode_record(const Message& message, std::string& out);

// The message, or nullopt with `error` saying what is wrong with the bytes.
std::optional<Message> decode_record(std::string_view bytes, std::string& error);

}  // namespace gwd
