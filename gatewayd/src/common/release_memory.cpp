#include "common/release_memory.h"

// <cstdlib> brings <features.h>, which defines __GLIBC__: without a libc
// header first, the test below was always false and both functions compiled
// to nothing.
#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace gwd {

void keep_large_allocations_out_of_the_heap() {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

void release_free_memory() {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

}  // namespace gwd
