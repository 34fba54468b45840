// Single-threaded C = A·Bᵀ + bias + residual (then GELU, optionally) with B packed once, for the
// encoder's dense layers: the weights are constant, so packing them at load saves what a general
// sgemm repacks on every call; the bias, the residual and the activation are applied as C is
// written, instead of in passes of their own; the tile shape is picked for AVX-512. B is [n, k]
// row-major, as PyTorch stores a Linear weight.
//
// Packed layout: column panels of 32 outputs; panel j holds k rows of 32 floats, row r being
// B[32j ..< 32j+32][r] (zero past n). The micro-kernel keeps a 14 × 32 block of C in 28 zmm
// registers and, per step of k, loads one panel row (two zmm) and broadcasts 14 values of A:
// 28 FMAs per 16 loads. A is copied 14 rows at a time into a k-major strip (one stream instead
// of 14), and k is cut into blocks of 256 so the strip (14 KiB) stays in L1 while the panels
// stream from L2.
#include "CVectorKernels.h"
#include "ActivationConstants.h"

#if VS_HAVE_X86_KERNELS
#include <immintrin.h>

#define GEMM_MR 14
#define GEMM_NR 32
#define GEMM_KC 256
#define AVX512 __attribute__((target("avx512f")))

// Sixteen lanes of vs_gelu_erf's arithmetic (Activations.c): exact-form GELU, x·Φ(x).
AVX512 static inline __m512 exp_avx512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(EXP_LOW)), _mm512_set1_ps(EXP_HIGH));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(EXP_P0), r, _mm512_set1_ps(EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P5));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

AVX512 static inline __m512 gelu_avx512(__m512 x) {
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    const __m512 z = _mm512_mul_ps(_mm512_castsi512_ps(_mm512_andnot_si512(sign, _mm512_castps_si512(x))), _mm512_set1_ps(SQRT1_2));
    const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(_mm512_set1_ps(ERF_P), z, _mm512_set1_ps(1.0f)));
    __m512 poly = _mm512_fmadd_ps(_mm512_set1_ps(ERF_A5), t, _mm512_set1_ps(ERF_A4));
    poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(ERF_A3));
    poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(ERF_A2));
    poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(ERF_A1));
    poly = _mm512_mul_ps(poly, t);
    const __m512 erf_abs = _mm512_fnmadd_ps(poly, exp_avx512(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), z), z)), _mm512_set1_ps(1.0f));
    // erf is odd: give it x's sign.
    const __m512 erf = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(erf_abs), _mm512_and_si512(_mm512_castps_si512(x), sign)));
    const __m512 half_x = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
    return _mm512_fmadd_ps(half_x, erf, half_x);
}

size_t vs_gemm_packed_count(size_t n, size_t k) { return (n + GEMM_NR - 1) / GEMM_NR * GEMM_NR * k; }

void vs_gemm_pack(const float *b, size_t n, size_t k, float *packed) {
    for (size_t j = 0; j < n; j += GEMM_NR) {
        float *panel = packed + j * k;
        for (size_t r = 0; r < k; r++)
            for (size_t c = 0; c < GEMM_NR; c++) panel[r * GEMM_NR + c] = j + c < n ? b[(j + c) * k + r] : 0;
    }
}

// c[0..<rows][0..<columns] = strip (depth × 14, k-major) · panel (depth × 32) + the tile's
// start: `bias` (per column, may be NULL) plus the same rows of `start` (row stride ldc, may be
// NULL or c itself), then GELU when `gelu`.
AVX512 static void micro_kernel(
    size_t depth, const float *strip, const float *panel, float *c, size_t ldc, size_t rows, size_t columns,
    const float *bias, const float *start, int gelu) {
    __m512 acc[GEMM_MR][2];
    for (int i = 0; i < GEMM_MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (size_t r = 0; r < depth; r++) {
        const __m512 b0 = _mm512_loadu_ps(panel + r * GEMM_NR), b1 = _mm512_loadu_ps(panel + r * GEMM_NR + 16);
        const float *a = strip + r * GEMM_MR;
#pragma clang loop unroll(full)
        for (int i = 0; i < GEMM_MR; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    const __mmask16 low = columns >= 16 ? 0xFFFF : (__mmask16)((1u << columns) - 1);
    const __mmask16 high = columns >= 32 ? 0xFFFF : columns <= 16 ? 0 : (__mmask16)((1u << (columns - 16)) - 1);
    const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(low, bias) : _mm512_setzero_ps();
    const __m512 bias1 = bias ? _mm512_maskz_loadu_ps(high, bias + 16) : _mm512_setzero_ps();
    for (size_t i = 0; i < rows; i++) {
        float *row = c + i * ldc;
        __m512 c0 = _mm512_add_ps(acc[i][0], bias0), c1 = _mm512_add_ps(acc[i][1], bias1);
        if (start) {
            c0 = _mm512_add_ps(c0, _mm512_maskz_loadu_ps(low, start + i * ldc));
            c1 = _mm512_add_ps(c1, _mm512_maskz_loadu_ps(high, start + i * ldc + 16));
        }
        if (gelu) {
            c0 = gelu_avx512(c0);
            c1 = gelu_avx512(c1);
        }
        _mm512_mask_storeu_ps(row, low, c0);
        _mm512_mask_storeu_ps(row + 16, high, c1);
    }
}

AVX512 void vs_gemm_packed_avx512(
    size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed, const float *bias,
    const float *residual, int gelu, float *c, size_t ldc) {
    float strip[GEMM_KC * GEMM_MR] __attribute__((aligned(64)));
    for (size_t i0 = 0; i0 < m; i0 += GEMM_MR) {
        const size_t rows = m - i0 < GEMM_MR ? m - i0 : GEMM_MR;
        float *block = c + i0 * ldc;
        const float *block_residual = residual ? residual + i0 * ldc : NULL;
        for (size_t k0 = 0; k0 < k; k0 += GEMM_KC) {
            const size_t depth = k - k0 < GEMM_KC ? k - k0 : GEMM_KC;
            for (size_t r = 0; r < depth; r++)
                for (size_t i = 0; i < GEMM_MR; i++) strip[r * GEMM_MR + i] = i < rows ? a[(i0 + i) * lda + k0 + r] : 0;
            // The first k block starts from bias + residual; later ones add to what it wrote.
            const int first = k0 == 0;
            for (size_t j = 0; j < n; j += GEMM_NR) {
                const size_t columns = n - j < GEMM_NR ? n - j : GEMM_NR;
                micro_kernel(depth, strip, packed + j * k + k0 * GEMM_NR, block + j, ldc, rows, columns,
                             first && bias ? bias + j : NULL, first ? (block_residual ? block_residual + j : NULL) : block + j,
                             gelu && k0 + depth == k);
            }
        }
    }
}
#endif
