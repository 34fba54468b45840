// The nearest of k centroids for each of n short rows (d ≤ 64): product-quantizer slices of a
// few dimensions, where a matrix product has too little work per call to pay for itself. Scores
// ‖c‖² − 2 x·c for blocks of centroids held in registers (centroids stored transposed, d × k),
// keeping the smallest per lane; ties go to the lower centroid number.
#include "CVectorKernels.h"

#if defined(VS_HAVE_X86_KERNELS)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define AVX2 __attribute__((target("avx2,fma")))

static inline float row_norm(const float *x, size_t d) {
    float s = 0;
    for (size_t t = 0; t < d; t++) s += x[t] * x[t];
    return s;
}

// k a multiple of 16; blocks of up to 256 centroids in 16 accumulators.
AVX512 void vs_nearest_centroid_avx512(const float *x, size_t n, size_t d, const float *ct, const float *norms, size_t k,
                                       uint32_t *labels, float *distances) {
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * d;
        __m512 best = _mm512_set1_ps(__builtin_inff());
        __m512i bestIndex = _mm512_setzero_si512();
        for (size_t c0 = 0; c0 < k; c0 += 256) {
            const size_t blocks = (k - c0) >= 256 ? 16 : (k - c0) / 16;
            __m512 acc[16];
            if (blocks == 16) {
#pragma clang loop unroll(full)
                for (int b = 0; b < 16; b++) acc[b] = _mm512_loadu_ps(norms + c0 + 16 * b);
                for (size_t t = 0; t < d; t++) {
                    const __m512 v = _mm512_set1_ps(-2.0f * xi[t]);
                    const float *row = ct + t * k + c0;
#pragma clang loop unroll(full)
                    for (int b = 0; b < 16; b++) acc[b] = _mm512_fmadd_ps(v, _mm512_loadu_ps(row + 16 * b), acc[b]);
                }
            } else {
                for (size_t b = 0; b < blocks; b++) acc[b] = _mm512_loadu_ps(norms + c0 + 16 * b);
                for (size_t t = 0; t < d; t++) {
                    const __m512 v = _mm512_set1_ps(-2.0f * xi[t]);
                    const float *row = ct + t * k + c0;
                    for (size_t b = 0; b < blocks; b++) acc[b] = _mm512_fmadd_ps(v, _mm512_loadu_ps(row + 16 * b), acc[b]);
                }
            }
            for (size_t b = 0; b < blocks; b++) {
                const __mmask16 lower = _mm512_cmp_ps_mask(acc[b], best, _CMP_LT_OQ);
                const __m512i index = _mm512_add_epi32(_mm512_set1_epi32((int)(c0 + 16 * b)),
                                                       _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
                best = _mm512_mask_mov_ps(best, lower, acc[b]);
                bestIndex = _mm512_mask_mov_epi32(bestIndex, lower, index);
            }
        }
        const float smallest = _mm512_reduce_min_ps(best);
        const __mmask16 at = _mm512_cmp_ps_mask(best, _mm512_set1_ps(smallest), _CMP_EQ_OQ);
        labels[i] = (uint32_t)_mm512_mask_reduce_min_epu32(at, bestIndex);
        const float distance = row_norm(xi, d) + smallest;
        distances[i] = distance > 0 ? distance : 0;
    }
}

AVX2 static inline float hmin8(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// k a multiple of 8; blocks of up to 64 centroids in 8 accumulators.
AVX2 void vs_nearest_centroid_avx2(const float *x, size_t n, size_t d, const float *ct, const float *norms, size_t k,
                                   uint32_t *labels, float *distances) {
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * d;
        __m256 best = _mm256_set1_ps(__builtin_inff());
        __m256i bestIndex = _mm256_setzero_si256();
        for (size_t c0 = 0; c0 < k; c0 += 64) {
            const size_t blocks = (k - c0) >= 64 ? 8 : (k - c0) / 8;
            __m256 acc[8];
            for (size_t b = 0; b < blocks; b++) acc[b] = _mm256_loadu_ps(norms + c0 + 8 * b);
            for (size_t t = 0; t < d; t++) {
                const __m256 v = _mm256_set1_ps(-2.0f * xi[t]);
                const float *row = ct + t * k + c0;
                for (size_t b = 0; b < blocks; b++) acc[b] = _mm256_fmadd_ps(v, _mm256_loadu_ps(row + 8 * b), acc[b]);
            }
            for (size_t b = 0; b < blocks; b++) {
                const __m256 lower = _mm256_cmp_ps(acc[b], best, _CMP_LT_OQ);
                const __m256i index = _mm256_add_epi32(_mm256_set1_epi32((int)(c0 + 8 * b)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
                best = _mm256_blendv_ps(best, acc[b], lower);
                bestIndex = _mm256_blendv_epi8(bestIndex, index, _mm256_castps_si256(lower));
            }
        }
        const float smallest = hmin8(best);
        uint32_t values[8], label = UINT32_MAX;
        float lanes[8];
        _mm256_storeu_si256((__m256i *)values, bestIndex);
        _mm256_storeu_ps(lanes, best);
        for (int l = 0; l < 8; l++) {
            if (lanes[l] == smallest && values[l] < label) label = values[l];
        }
        labels[i] = label;
        const float distance = row_norm(xi, d) + smallest;
        distances[i] = distance > 0 ? distance : 0;
    }
}

#endif
