#include "CKernelsBF16.h"
#include <string.h>

static _Thread_local int gemm_precision;

int mer_gemm_precision_get(void) { return gemm_precision; }
void mer_gemm_precision_set(int precision) { gemm_precision = precision; }

uint16_t mer_bf16_from_float(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    uint32_t exponent = u & 0x7f800000u;
    if (exponent == 0x7f800000u) {                       // inf stays inf, NaN becomes quiet
        return (uint16_t)((u >> 16) | ((u & 0x007fffffu) ? 0x0040u : 0));
    }
    if (exponent == 0) return (uint16_t)((u >> 16) & 0x8000u);   // zero and subnormals: ±0
    u += 0x7fffu + ((u >> 16) & 1u);                     // round to nearest, ties to even
    return (uint16_t)(u >> 16);
}

#if defined(__x86_64__)
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int mer_bf16_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512bf16");
}

// The conversions run once per packed panel element. A's matter when B is narrow (a
// convolution's deep layers: 16 output pixels per image), where each A element meets only a
// few columns; a scalar loop there made bf16 products slower than float32 ones.
BF16_TARGET void mer_bf16_pack_a12(long kc, const float *src, uint16_t *dst) {
    // Two k rows of 12 floats: masked loads, one VCVTNE2PS2BF16 (row 0 in the low half),
    // one permute interleaving the rows' 12 values into 12 pairs, one masked 48-byte store.
    const __m512i pairs = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0,
                                           27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4,
                                           19, 3, 18, 2, 17, 1, 16, 0);
    long q = 0;
    for (; 2 * q < kc; q++) {
        const float *s0 = src + 2 * q * 12;
        __m512 r0 = _mm512_maskz_loadu_ps(0x0fff, s0);
        __m512 r1 = 2 * q + 1 < kc ? _mm512_maskz_loadu_ps(0x0fff, s0 + 12) : _mm512_setzero_ps();
        __m512i both = (__m512i)_mm512_cvtne2ps_pbh(r1, r0);
        _mm512_mask_storeu_epi16((void *)(dst + q * 24), 0x00ffffff, _mm512_permutexvar_epi16(pairs, both));
    }
}

BF16_TARGET void mer_bf16_pack_b32(long kc, const float *src, uint16_t *dst) {
    // Two k rows of 32 floats become 64 bf16: round each row with VCVTNE2PS2BF16 (row 0 in
    // the low half), then interleave the halves element by element with one permute each.
    const __m512i lo = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8,
                                        39, 7, 38, 6, 37, 5, 36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i hi = _mm512_set_epi16(63, 31, 62, 30, 61, 29, 60, 28, 59, 27, 58, 26, 57, 25, 56, 24,
                                        55, 23, 54, 22, 53, 21, 52, 20, 51, 19, 50, 18, 49, 17, 48, 16);
    long q = 0;
    for (; 2 * q < kc; q++) {
        const float *s0 = src + 2 * q * 32;
        __m512i r0 = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(s0 + 16), _mm512_loadu_ps(s0));
        __m512i r1 = _mm512_setzero_si512();
        if (2 * q + 1 < kc) {
            const float *s1 = s0 + 32;
            r1 = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(s1 + 16), _mm512_loadu_ps(s1));
        }
        _mm512_store_si512((void *)(dst + q * 64), _mm512_permutex2var_epi16(r0, lo, r1));
        _mm512_store_si512((void *)(dst + q * 64 + 32), _mm512_permutex2var_epi16(r0, hi, r1));
    }
}

#define ROW_DECL(i) __m512 c##i##_0 = _mm512_setzero_ps(), c##i##_1 = _mm512_setzero_ps();
#define ROW_STEP(i) { __m512bh av = (__m512bh)_mm512_set1_epi32(ap[i]); \
    c##i##_0 = _mm512_dpbf16_ps(c##i##_0, av, b0); c##i##_1 = _mm512_dpbf16_ps(c##i##_1, av, b1); }
#define ROW_STORE0(i) { float *r = c + (i) * ldc; \
    _mm512_storeu_ps(r, _mm512_mul_ps(c##i##_0, va)); _mm512_storeu_ps(r + 16, _mm512_mul_ps(c##i##_1, va)); }
#define ROW_STORE(i) { float *r = c + (i) * ldc; \
    _mm512_storeu_ps(r, _mm512_fmadd_ps(va, c##i##_0, _mm512_mul_ps(_mm512_loadu_ps(r), vb))); \
    _mm512_storeu_ps(r + 16, _mm512_fmadd_ps(va, c##i##_1, _mm512_mul_ps(_mm512_loadu_ps(r + 16), vb))); }
#define ALL_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

BF16_TARGET void mer_bf16_micro12x32(long kq, const uint16_t *a, const uint16_t *b, float *c, long ldc,
                                     float alpha, float beta) {
    ALL_ROWS(ROW_DECL)
    for (long q = 0; q < kq; q++) {
        const int32_t *ap = (const int32_t *)(a + q * 24);        // 12 (even, odd) pairs
        __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)(b + q * 64));
        __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(b + q * 64 + 32));
        ALL_ROWS(ROW_STEP)
    }
    const __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0) {
        ALL_ROWS(ROW_STORE0)
    } else {
        const __m512 vb = _mm512_set1_ps(beta);
        ALL_ROWS(ROW_STORE)
    }
}

#else   // Not x86-64: no AVX512_BF16; callers check mer_bf16_supported() and never get here.

int mer_bf16_supported(void) { return 0; }
void mer_bf16_pack_a12(long kc, const float *src, uint16_t *dst) { (void)kc; (void)src; (void)dst; }
void mer_bf16_pack_b32(long kc, const float *src, uint16_t *dst) { (void)kc; (void)src; (void)dst; }
void mer_bf16_micro12x32(long kq, const uint16_t *a, const uint16_t *b, float *c, long ldc,
                         float alpha, float beta) {
    (void)kq; (void)a; (void)b; (void)c; (void)ldc; (void)alpha; (void)beta;
}
#endif
