// Hands freed heap memory back to the kernel. glibc keeps what a burst
// allocated (a plugin emitting a million readings at once) in its arenas;
// after the burst that memory is free but still counted in RSS.
#pragma once

namespace gwd {

// Cheap enough to call after a burst, too slow to call per message.
void release_free_memory();

// glibc serves large allocations with mmap, but raises that threshold to
// the size of every such block freed (up to 32 MiB): after one 10 MiB
// reading, the next ones come from the heap and stay resident when freed.
// A fixed threshold returns every block over 128 KiB to the kernel at once.
void keep_large_allocations_out_of_the_heap();

}  // namespace gwd
