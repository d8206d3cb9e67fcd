#ifndef TACTUS_KERNELS_H
#define TACTUS_KERNELS_H
/// z[k] += sum_i x[i] * w[i * width + k] for k < width: the input-major matrix-vector product of
/// the network layers. Uses AVX2+FMA when the processor has them (checked once), else portable C.
/// Fastest when `width` is a multiple of 8 (the network pads its layers so).
void tactus_accumulate(float *z, const float *w, const float *x, long rows, long width);
/// 1 when the AVX2+FMA kernel is in use.
int tactus_kernels_avx2(void);
#endif
