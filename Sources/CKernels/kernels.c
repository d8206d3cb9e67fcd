// Matrix-vector kernel with run-time dispatch: a portable build still uses AVX2/FMA where present.
#include "kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Accumulators for up to 13 vectors (104 columns) stay in registers across all rows: the weights
// stream through once and nothing else touches memory. `n` is a compile-time constant at each
// call site below, so the loops unroll and the array lives in ymm registers.
__attribute__((target("avx2,fma"), always_inline))
static inline void tile_avx2(const int n, float *z, const float *w, const float *x, long rows, long width) {
    __m256 acc[13];
#pragma GCC unroll 13
    for (int v = 0; v < n; v++) acc[v] = _mm256_loadu_ps(z + 8 * v);
    for (long i = 0; i < rows; i++) {
        const __m256 xi = _mm256_set1_ps(x[i]);
        const float *wi = w + i * width;
#pragma GCC unroll 13
        for (int v = 0; v < n; v++) acc[v] = _mm256_fmadd_ps(_mm256_loadu_ps(wi + 8 * v), xi, acc[v]);
    }
#pragma GCC unroll 13
    for (int v = 0; v < n; v++) _mm256_storeu_ps(z + 8 * v, acc[v]);
}

__attribute__((target("avx2,fma")))
static void accumulate_avx2(float *z, const float *w, const float *x, long rows, long width) {
    if (width % 8 != 0) {
        // Unpadded widths take the portable path (the network pads its layers to 8).
        long i = 0;
        for (; i < rows; i++) for (long k = 0; k < width; k++) z[k] += w[i * width + k] * x[i];
        return;
    }
    long k = 0;
    while (k < width) {
        long vectors = (width - k) / 8;
        if (vectors >= 13 && (vectors == 13 || vectors >= 26)) vectors = 13;
        else if (vectors > 13) vectors = 12;
        switch (vectors) {
        case 13: tile_avx2(13, z + k, w + k, x, rows, width); break;
        case 12: tile_avx2(12, z + k, w + k, x, rows, width); break;
        case 11: tile_avx2(11, z + k, w + k, x, rows, width); break;
        case 10: tile_avx2(10, z + k, w + k, x, rows, width); break;
        case 9: tile_avx2(9, z + k, w + k, x, rows, width); break;
        case 8: tile_avx2(8, z + k, w + k, x, rows, width); break;
        case 7: tile_avx2(7, z + k, w + k, x, rows, width); break;
        case 6: tile_avx2(6, z + k, w + k, x, rows, width); break;
        case 5: tile_avx2(5, z + k, w + k, x, rows, width); break;
        case 4: tile_avx2(4, z + k, w + k, x, rows, width); break;
        case 3: tile_avx2(3, z + k, w + k, x, rows, width); break;
        case 2: tile_avx2(2, z + k, w + k, x, rows, width); break;
        default: tile_avx2(1, z + k, w + k, x, rows, width); break;
        }
        k += 8 * vectors;
    }
}
#endif

static void accumulate_generic(float *z, const float *w, const float *x, long rows, long width) {
    long i = 0;
    for (; i + 4 <= rows; i += 4) {
        const float *w0 = w + i * width, *w1 = w0 + width, *w2 = w1 + width, *w3 = w2 + width;
        const float x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
        for (long k = 0; k < width; k++) z[k] += (w0[k] * x0 + w1[k] * x1) + (w2[k] * x2 + w3[k] * x3);
    }
    for (; i < rows; i++) {
        const float *wi = w + i * width;
        for (long k = 0; k < width; k++) z[k] += wi[k] * x[i];
    }
}

typedef void (*accumulate_fn)(float *, const float *, const float *, long, long);

static accumulate_fn choose(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return accumulate_avx2;
#endif
    return accumulate_generic;
}

// Chosen on first use; a benign race (every thread computes the same pointer).
static accumulate_fn chosen;

void tactus_accumulate(float *z, const float *w, const float *x, long rows, long width) {
    accumulate_fn f = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (!f) {
        f = choose();
        __atomic_store_n(&chosen, f, __ATOMIC_RELAXED);
    }
    f(z, w, x, rows, width);
}

int tactus_kernels_avx2(void) {
    tactus_accumulate(0, 0, 0, 0, 0);
    return __atomic_load_n(&chosen, __ATOMIC_RELAXED) != accumulate_generic;
}
