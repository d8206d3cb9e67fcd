#define _GNU_SOURCE
#include "alloc_counter.h"
#include <stddef.h>
#include <errno.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TACTUS_SANITIZED 1
#endif
#endif

#ifdef TACTUS_SANITIZED
// A sanitizer runtime owns malloc: no interposition; the counter reports itself unavailable and
// the allocation assertions are made by the plain (unsanitized) test run.
int tactus_alloc_counter_available(void) { return 0; }
void tactus_alloc_counting_begin(void) {}
long tactus_alloc_counting_end(void) { return 0; }
#else
int tactus_alloc_counter_available(void) { return 1; }

static __thread int counting;
static __thread long count;

void tactus_alloc_counting_begin(void) { count = 0; counting = 1; }
long tactus_alloc_counting_end(void) { counting = 0; return count; }

void *malloc(size_t n) { if (counting) count++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) count++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) count++; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { if (counting) count++; return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { if (counting) count++; return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    if (counting) count++;
    void *p = __libc_memalign(a, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
#endif
