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

// exp as FastMath.exp in Swift (Cephes expf: Cody-Waite reduction, degree-6 polynomial, 2^n from
// the 1.5*2^23 magic number), eight lanes at a time.
__attribute__((target("avx2,fma"), always_inline))
static inline __m256 exp_avx2(__m256 x) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.4426950408889634f), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 e = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000 - 127));
    return _mm256_mul_ps(e, _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23)));
}

// In place: x = 1 / (1 + exp(-scale * x)) * outScale - outShift; sigmoid is (1, 1, 0), tanh (2, 2, 1).
__attribute__((target("avx2,fma")))
static void logistic_avx2(float *x, long n, float scale, float outScale, float outShift) {
    const __m256 one = _mm256_set1_ps(1.0f), s = _mm256_set1_ps(-scale);
    const __m256 a = _mm256_set1_ps(outScale), b = _mm256_set1_ps(outShift);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp_avx2(_mm256_mul_ps(_mm256_loadu_ps(x + i), s));
        __m256 y = _mm256_div_ps(a, _mm256_add_ps(one, e));
        _mm256_storeu_ps(x + i, _mm256_sub_ps(y, b));
    }
    if (i < n) {
        float tail[8] = {0};
        for (long k = i; k < n; k++) tail[k - i] = x[k];
        __m256 e = exp_avx2(_mm256_mul_ps(_mm256_loadu_ps(tail), s));
        _mm256_storeu_ps(tail, _mm256_sub_ps(_mm256_div_ps(a, _mm256_add_ps(one, e)), b));
        for (long k = i; k < n; k++) x[k] = tail[k - i];
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

static float exp_generic(float value) {
    float x = value < -87.0f ? -87.0f : (value > 88.0f ? 88.0f : value);
    const float magic = 12582912.0f;
    float t = x * 1.4426950408889634f + magic;
    float n = t - magic;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * (r * r) + r + 1.0f;
    union { float f; unsigned u; } tb = {t}, scale;
    scale.u = (tb.u - (0x4B400000u - 127u)) << 23;
    return e * scale.f;
}

static void logistic_generic(float *x, long n, float scale, float outScale, float outShift) {
    for (long i = 0; i < n; i++) x[i] = outScale / (1.0f + exp_generic(-scale * x[i])) - outShift;
}

typedef void (*logistic_fn)(float *, long, float, float, float);
typedef void (*accumulate_fn)(float *, const float *, const float *, long, long);

static accumulate_fn choose(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return accumulate_avx2;
#endif
    return accumulate_generic;
}

// Chosen on first use; a benign race (every thread computes the same pointers).
static accumulate_fn chosen;
static logistic_fn chosen_logistic;

static void choose_all(void) {
    accumulate_fn f = choose();
    logistic_fn g = logistic_generic;
#if defined(__x86_64__)
    if (f == accumulate_avx2) g = logistic_avx2;
#endif
    __atomic_store_n(&chosen_logistic, g, __ATOMIC_RELAXED);
    __atomic_store_n(&chosen, f, __ATOMIC_RELAXED);
}

void tactus_sigmoid(float *x, long n) {
    logistic_fn g = __atomic_load_n(&chosen_logistic, __ATOMIC_RELAXED);
    if (!g) { choose_all(); g = __atomic_load_n(&chosen_logistic, __ATOMIC_RELAXED); }
    g(x, n, 1.0f, 1.0f, 0.0f);
}

void tactus_tanh(float *x, long n) {
    logistic_fn g = __atomic_load_n(&chosen_logistic, __ATOMIC_RELAXED);
    if (!g) { choose_all(); g = __atomic_load_n(&chosen_logistic, __ATOMIC_RELAXED); }
    g(x, n, 2.0f, 2.0f, 1.0f);
}

void tactus_accumulate(float *z, const float *w, const float *x, long rows, long width) {
    accumulate_fn f = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (!f) {
        choose_all();
        f = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    }
    f(z, w, x, rows, width);
}

int tactus_kernels_avx2(void) {
    tactus_accumulate(0, 0, 0, 0, 0);
    return __atomic_load_n(&chosen, __ATOMIC_RELAXED) != accumulate_generic;
}
