#ifndef TACTUS_ALLOC_COUNTER_H
#define TACTUS_ALLOC_COUNTER_H
/// Counts heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made
/// by the calling thread while counting is on. Linked into tests and benchmarks only: it
/// interposes the allocator of the whole process.
void tactus_alloc_counting_begin(void);
/// 1 when the counter works; 0 in a sanitizer build (the sanitizer runtime owns the allocator).
int tactus_alloc_counter_available(void);
/// Stops counting on this thread and returns the number of allocations since `begin`.
long tactus_alloc_counting_end(void);
#endif
