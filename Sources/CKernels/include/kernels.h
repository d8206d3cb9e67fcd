#ifndef TACTUS_KERNELS_H
#define TACTUS_KERNELS_H
/// z[k] += sum_i x[i] * w[i * width + k] for k < width: the input-major matrix-vector product of
/// the network layers. Uses AVX2+FMA when the processor has them (checked once), else portable C.
/// Fastest when `width` is a multiple of 8 (the network pads its layers so).
void tactus_accumulate(float *z, const float *w, const float *x, long rows, long width);
/// In place, n values: the logistic sigmoid, and tanh(x) = 2·σ(2x) − 1, with the same exp
/// polynomial as FastMath in Swift (relative error about 2e-7).
void tactus_sigmoid(float *x, long n);
void tactus_tanh(float *x, long n);
/// 1 when the AVX2+FMA kernels are in use.
int tactus_kernels_avx2(void);
#endif
