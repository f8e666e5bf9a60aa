#ifndef CKERNELSBF16_H
#define CKERNELSBF16_H
// bfloat16 GEMM pieces for CPUs with AVX512_BF16 (VDPBF16PS): the conversion of packed
// float32 GEMM panels into bf16 pair panels, and the 12x32 micro-kernel that multiplies
// them with float32 accumulation. Swift cannot emit VDPBF16PS, so these few functions are C
// with per-function target attributes: the file builds for any x86-64 (and for other
// architectures as stubs), and callers ask mer_bf16_supported() at run time first.
#include <stdint.h>

/// The calling thread's GEMM precision (0 float32, 1 bfloat16): thread-local, so a data
/// loader thread never multiplies in the precision the training thread chose.
int mer_gemm_precision_get(void);
void mer_gemm_precision_set(int precision);

/// 1 when this CPU and OS run AVX512_BF16 (and the AVX-512 F/BW it builds on), else 0.
int mer_bf16_supported(void);

/// float32 -> bfloat16 bits, rounded to nearest even, as VCVTNEPS2BF16 does: subnormal
/// inputs become signed zero (the instruction's DAZ), NaN stays a quiet NaN.
uint16_t mer_bf16_from_float(float x);

/// Converts one packed A micro-panel (kc steps of 12 floats: src[p][i]) into bf16 pairs
/// dst[q][i][0..1] = (A[i][2q], A[i][2q+1]) for q < ceil(kc/2); an odd kc pads with 0.
void mer_bf16_pack_a12(long kc, const float *src, uint16_t *dst);

/// Converts one packed B micro-panel (kc steps of 32 floats: src[p][j]) into bf16 pairs
/// dst[q][j][0..1] = (B[2q][j], B[2q+1][j]); an odd kc pads with 0. dst 64-byte aligned.
void mer_bf16_pack_b32(long kc, const float *src, uint16_t *dst);

/// C[0..11][0..31] = alpha * (A B) + beta * C over kq = ceil(kc/2) bf16 pair steps, with
/// float32 accumulators (VDPBF16PS: two exact bf16 products added per lane and step).
/// beta == 0 never reads C. The store is fma(alpha, acc, beta * c), as the float32 kernel.
void mer_bf16_micro12x32(long kq, const uint16_t *a, const uint16_t *b, float *c, long ldc,
                         float alpha, float beta);

#endif
