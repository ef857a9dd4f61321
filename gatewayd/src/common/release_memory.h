// Hands freed heap memory back to the kernel. glibc keeps what a burst
// allocated (a plugin emitting a million readings at once) in its arenas;
// after the burst that memory is free but still counted in RSS.
#pragma once

namespace gwd {

// Cheap enough to call after a burst, too slow to call per message.
void release_free_memory();

}  // namespace gwd
