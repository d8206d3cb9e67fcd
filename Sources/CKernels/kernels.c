// Matrix-vector kernel with run-time dispatch: a portable build still uses AVX2/FMA where present.
#include "kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static void accumulate_avx2(float *z, const float *w, const float *x, long rows, long width) {
    long i = 0;
    // Four rows per pass: each accumulator is loaded and stored once per four multiply-adds.
    for (; i + 4 <= rows; i += 4) {
        const float *w0 = w + i * width, *w1 = w0 + width, *w2 = w1 + width, *w3 = w2 + width;
        __m256 x0 = _mm256_set1_ps(x[i]), x1 = _mm256_set1_ps(x[i + 1]);
        __m256 x2 = _mm256_set1_ps(x[i + 2]), x3 = _mm256_set1_ps(x[i + 3]);
        long k = 0;
        for (; k + 8 <= width; k += 8) {
            __m256 a = _mm256_loadu_ps(z + k);
            a = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k), x0, a);
            a = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k), x1, a);
            a = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k), x2, a);
            a = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k), x3, a);
            _mm256_storeu_ps(z + k, a);
        }
        for (; k < width; k++)
            z[k] += w0[k] * x[i] + w1[k] * x[i + 1] + w2[k] * x[i + 2] + w3[k] * x[i + 3];
    }
    for (; i < rows; i++) {
        const float *wi = w + i * width;
        __m256 xi = _mm256_set1_ps(x[i]);
        long k = 0;
        for (; k + 8 <= width; k += 8)
            _mm256_storeu_ps(z + k, _mm256_fmadd_ps(_mm256_loadu_ps(wi + k), xi, _mm256_loadu_ps(z + k)));
        for (; k < width; k++) z[k] += wi[k] * x[i];
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
