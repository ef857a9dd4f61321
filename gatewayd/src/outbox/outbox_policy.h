// How an outbox keeps readings and what it does when full: the values an
// [[upstream]] block sets for its queue. Plain values, so the configuration
// can name them without the outbox depending on the configuration.
#pragma once

#include <cstdint>

namespace gwd {

enum class OverflowPolicy { drop_oldest, drop_newest };
enum class OutboxKind { disk, memory };
enum class FsyncPolicy { batch, always, never };

inline constexpr std::uint64_t kDefaultDiskOutboxBytes = 256ull * 1024 * 1024;
inline constexpr std::uint64_t kDefaultMemoryOutboxBytes = 8ull * 1024 * 1024;

}  // namespace gwd
