// Activation kernels for the sentence embedder's encoder: exact-form GELU and softmax, over
// whole rows. Both rest on one exp (Cephes' range reduction and degree-6 polynomial, relative
// error about 1e-7) and, for GELU, Abramowitz & Stegun 7.1.26 for erf (absolute error 1.5e-7),
// which keeps an encoder's output within about 3e-7 of a float64 forward pass. The portable
// versions are the reference; the AVX2 ones run eight lanes of the same arithmetic.
#include "CVectorKernels.h"
#include <math.h>
#include <string.h>

#include "ActivationConstants.h"

static inline float exp_portable(float x) {
    x = x < EXP_LOW ? EXP_LOW : (x > EXP_HIGH ? EXP_HIGH : x);
    float n = rintf(x * LOG2E);
    float r = x - n * LN2_HI - n * LN2_LO;
    float p = ((((EXP_P0 * r + EXP_P1) * r + EXP_P2) * r + EXP_P3) * r + EXP_P4) * r + EXP_P5;
    p = p * r * r + r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float gelu_portable(float x) {
    float z = fabsf(x) * SQRT1_2;
    float t = 1.0f / (1.0f + ERF_P * z);
    float poly = ((((ERF_A5 * t + ERF_A4) * t + ERF_A3) * t + ERF_A2) * t + ERF_A1) * t;
    float erf_abs = 1.0f - poly * exp_portable(-z * z);
    float erf = x < 0 ? -erf_abs : erf_abs;
    return 0.5f * x * (1.0f + erf);
}

void vs_gelu_erf_portable(float *x, size_t rows, size_t columns, const float *bias) {
    for (size_t r = 0; r < rows; r++, x += columns)
        for (size_t c = 0; c < columns; c++) x[c] = gelu_portable(x[c] + (bias ? bias[c] : 0.0f));
}

void vs_softmax_portable(float *x, size_t n) {
    if (n == 0) return;
    float max = x[0];
    for (size_t i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    float sum = 0;
    for (size_t i = 0; i < n; i++) { x[i] = exp_portable(x[i] - max); sum += x[i]; }
    float scale = 1.0f / sum;
    for (size_t i = 0; i < n; i++) x[i] *= scale;
}

#if defined(VS_HAVE_X86_KERNELS)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 exp_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(EXP_LOW)), _mm256_set1_ps(EXP_HIGH));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(EXP_P0), r, _mm256_set1_ps(EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

AVX2 static inline __m256 gelu_avx2(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 z = _mm256_mul_ps(_mm256_andnot_ps(sign, x), _mm256_set1_ps(SQRT1_2));
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(ERF_P), z, _mm256_set1_ps(1.0f)));
    __m256 poly = _mm256_fmadd_ps(_mm256_set1_ps(ERF_A5), t, _mm256_set1_ps(ERF_A4));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(ERF_A3));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(ERF_A2));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(ERF_A1));
    poly = _mm256_mul_ps(poly, t);
    __m256 minus_z2 = _mm256_xor_ps(_mm256_mul_ps(z, z), sign);
    __m256 erf_abs = _mm256_fnmadd_ps(poly, exp_avx2(minus_z2), _mm256_set1_ps(1.0f));
    __m256 erf = _mm256_or_ps(erf_abs, _mm256_and_ps(x, sign));   // erf is odd
    __m256 half_x = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
    return _mm256_fmadd_ps(half_x, erf, half_x);
}

AVX2 static void vs_gelu_erf_avx2(float *x, size_t rows, size_t columns, const float *bias) {
    for (size_t r = 0; r < rows; r++, x += columns) {
        size_t c = 0;
        if (bias) {
            for (; c + 8 <= columns; c += 8)
                _mm256_storeu_ps(x + c, gelu_avx2(_mm256_add_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(bias + c))));
        } else {
            for (; c + 8 <= columns; c += 8) _mm256_storeu_ps(x + c, gelu_avx2(_mm256_loadu_ps(x + c)));
        }
        for (; c < columns; c++) x[c] = gelu_portable(x[c] + (bias ? bias[c] : 0.0f));
    }
}

AVX2 static void vs_softmax_avx2(float *x, size_t n) {
    if (n < 8) { vs_softmax_portable(x, n); return; }
    __m256 max8 = _mm256_loadu_ps(x);
    size_t i = 8;
    for (; i + 8 <= n; i += 8) max8 = _mm256_max_ps(max8, _mm256_loadu_ps(x + i));
    float lanes[8];
    _mm256_storeu_ps(lanes, max8);
    float max = lanes[0];
    for (int l = 1; l < 8; l++) max = lanes[l] > max ? lanes[l] : max;
    for (; i < n; i++) max = x[i] > max ? x[i] : max;
    __m256 shift = _mm256_set1_ps(max), sum8 = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), shift));
        _mm256_storeu_ps(x + i, e);
        sum8 = _mm256_add_ps(sum8, e);
    }
    _mm256_storeu_ps(lanes, sum8);
    float sum = 0;
    for (int l = 0; l < 8; l++) sum += lanes[l];
    for (; i < n; i++) { x[i] = exp_portable(x[i] - max); sum += x[i]; }
    __m256 scale8 = _mm256_set1_ps(1.0f / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), scale8));
    for (; i < n; i++) x[i] *= 1.0f / sum;
}
#endif

void vs_gelu_erf(float *x, size_t rows, size_t columns, const float *bias) {
#if defined(VS_HAVE_X86_KERNELS)
    if (vs_detect_simd_level() >= VS_SIMD_AVX2) { vs_gelu_erf_avx2(x, rows, columns, bias); return; }
#endif
    vs_gelu_erf_portable(x, rows, columns, bias);
}

void vs_softmax(float *x, size_t n) {
#if defined(VS_HAVE_X86_KERNELS)
    if (vs_detect_simd_level() >= VS_SIMD_AVX2) { vs_softmax_avx2(x, n); return; }
#endif
    vs_softmax_portable(x, n);
}
