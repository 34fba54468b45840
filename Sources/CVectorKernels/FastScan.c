// Product-quantization scans: 4-bit codes summed through byte look-up tables held in registers
// ("fast scan", as FAISS's PQ…x4fs and ScaNN's 4-bit AH), and 8-bit codes summed from a float
// table. Layouts and contracts are in CVectorKernels.h.
//
// Fast scan: vpshufb looks up 16 table bytes per 128-bit lane by the low 4 bits of each code byte,
// so one instruction scores 16 rows on one sub-quantizer per lane (64 lookups per zmm). Sums are
// kept in 16 bits without widening: a vector of byte sums read as 16-bit words adds the even row
// plus 256 × the odd row; a second accumulator adds the words shifted right by 8 (the odd rows
// alone), and the even rows are the first minus the second shifted back. Exact modulo 2^16, so
// exact while a row's sum is below 65,536 (at most 257 sub-quantizers of 255).
#include "CVectorKernels.h"
#include <math.h>

#define FASTSCAN_BLOCK 32

void vs_fastscan_sums_portable(const uint8_t *codes, size_t blocks, const uint8_t *lut, size_t m, uint16_t *sums) {
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *block = codes + b * m * 16;
        uint16_t *out = sums + b * FASTSCAN_BLOCK;
        for (size_t r = 0; r < FASTSCAN_BLOCK; r++) {
            unsigned sum = 0;
            const unsigned shift = r < 16 ? 0 : 4;
            for (size_t s = 0; s < m; s++) sum += lut[s * 16 + ((block[s * 16 + (r & 15)] >> shift) & 15)];
            out[r] = (uint16_t)sum;
        }
    }
}

void vs_fastscan_quantize_table(const float *table, size_t m, size_t padded, uint8_t *lut, float *offset, float *delta) {
    float total = 0, range = 0;
    for (size_t s = 0; s < m; s++) {
        const float *t = table + s * 16;
        float low = t[0], high = t[0];
        for (int j = 1; j < 16; j++) {
            low = t[j] < low ? t[j] : low;
            high = t[j] > high ? t[j] : high;
        }
        total += low;
        range = high - low > range ? high - low : range;
    }
    const float step = range > 0 ? range / 255 : 1, inverse = 1 / step;
    for (size_t s = 0; s < m; s++) {
        const float *t = table + s * 16;
        float low = t[0];
        for (int j = 1; j < 16; j++) low = t[j] < low ? t[j] : low;
        // Non-negative and at most 255.5 before truncation: adding ½ rounds.
        for (int j = 0; j < 16; j++) {
            const float v = (t[j] - low) * inverse + 0.5f;
            lut[s * 16 + j] = (uint8_t)(v < 255.0f ? v : 255.0f);
        }
    }
    for (size_t e = m * 16; e < padded * 16; e++) lut[e] = 0;
    *offset = total;
    *delta = step;
}

size_t vs_fastscan_select_portable(const uint16_t *sums, size_t n, uint16_t limit, uint32_t *positions) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        positions[count] = (uint32_t)i;
        count += sums[i] <= limit;
    }
    return count;
}

// Query products through an int8 matrix (CVectorKernels.h): integer sums are exact, so every
// kernel gives the same floats.
float vs_quantize_query_i16(const float *x, size_t rows, int16_t *q, float *error) {
    float largest = 0;
    for (size_t i = 0; i < rows; i++) largest = fabsf(x[i]) > largest ? fabsf(x[i]) : largest;
    // |Σ q_i a_ij| ≤ rows × limit × 127 must fit in 32 bits.
    double fits = 2147483647.0 / (127.0 * (double)(rows > 0 ? rows : 1));
    const float limit = fits < 32767 ? (float)floor(fits) : 32767.0f;
    const float scale = largest > 0 ? largest / limit : 1, inverse = 1 / scale;
    double lost = 0;
    for (size_t i = 0; i < rows; i++) {
        float v = rintf(x[i] * inverse);
        v = v > limit ? limit : v < -limit ? -limit : v;  // NaN stays NaN: converted below as 0
        q[i] = v == v ? (int16_t)v : 0;
        const double d = (double)x[i] - (double)q[i] * scale;
        lost += d * d;
    }
    if (rows & 1) q[rows] = 0;
    *error = (float)sqrt(lost);
    return scale;
}

void vs_vector_times_i8_panels_portable(
    const int16_t *q, const int8_t *a, size_t rows, size_t columns, const float *scales, float queryScale, float *y) {
    const size_t pairs = (rows + 1) / 2;
    for (size_t p0 = 0; p0 < columns; p0 += VS_I8_PANEL) {
        const size_t width = columns - p0 < VS_I8_PANEL ? columns - p0 : VS_I8_PANEL;
        const int8_t *panel = a + p0 * pairs * 2;
        for (size_t j = 0; j < width; j++) {
            int32_t sum = 0;
            for (size_t p = 0; p < pairs; p++) sum += q[2 * p] * panel[(p * width + j) * 2] + q[2 * p + 1] * panel[(p * width + j) * 2 + 1];
            y[p0 + j] = (float)sum * scales[p0 + j] * queryScale;
        }
    }
}

void vs_pq8_distances(const uint8_t *codes, size_t n, size_t m, const float *table, float bias, float *out) {
    size_t i = 0;
    // Four rows at a time: four independent chains of table loads.
    for (; i + 4 <= n; i += 4) {
        const uint8_t *c0 = codes + i * m, *c1 = c0 + m, *c2 = c1 + m, *c3 = c2 + m;
        float s0 = bias, s1 = bias, s2 = bias, s3 = bias;
        for (size_t s = 0; s < m; s++) {
            const float *t = table + s * 256;
            s0 += t[c0[s]];
            s1 += t[c1[s]];
            s2 += t[c2[s]];
            s3 += t[c3[s]];
        }
        out[i] = s0;
        out[i + 1] = s1;
        out[i + 2] = s2;
        out[i + 3] = s3;
    }
    for (; i < n; i++) {
        const uint8_t *c = codes + i * m;
        float sum = bias;
        for (size_t s = 0; s < m; s++) sum += table[s * 256 + c[s]];
        out[i] = sum;
    }
}

#if defined(VS_HAVE_X86_KERNELS)
#include <immintrin.h>

#define AVX512BW __attribute__((target("avx512f,avx512bw")))
#define AVX2 __attribute__((target("avx2")))

int vs_has_avx512bw(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

// Rows 0..15 of a block from the lane-summed words: `mixed` holds even + 256·odd per word, `odd`
// the odd rows; interleaved back into row order.
static inline __attribute__((always_inline, target("avx2"))) void store_rows(__m128i mixed, __m128i odd, uint16_t *out) {
    const __m128i even = _mm_sub_epi16(mixed, _mm_slli_epi16(odd, 8));
    _mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi16(even, odd));
    _mm_storeu_si128((__m128i *)(out + 8), _mm_unpackhi_epi16(even, odd));
}

// m a multiple of 4: four sub-quantizers per zmm (one per 128-bit lane).
AVX512BW void vs_fastscan_sums_avx512(const uint8_t *codes, size_t blocks, const uint8_t *lut, size_t m, uint16_t *sums) {
    const __m512i low = _mm512_set1_epi8(0x0F);
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *block = codes + b * m * 16;
        __m512i loMixed = _mm512_setzero_si512(), loOdd = _mm512_setzero_si512();
        __m512i hiMixed = _mm512_setzero_si512(), hiOdd = _mm512_setzero_si512();
        for (size_t s = 0; s < m; s += 4) {
            const __m512i c = _mm512_loadu_si512((const void *)(block + s * 16));
            const __m512i table = _mm512_loadu_si512((const void *)(lut + s * 16));
            const __m512i lo = _mm512_shuffle_epi8(table, _mm512_and_si512(c, low));
            const __m512i hi = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(c, 4), low));
            loMixed = _mm512_add_epi16(loMixed, lo);
            loOdd = _mm512_add_epi16(loOdd, _mm512_srli_epi16(lo, 8));
            hiMixed = _mm512_add_epi16(hiMixed, hi);
            hiOdd = _mm512_add_epi16(hiOdd, _mm512_srli_epi16(hi, 8));
        }
#define LANES512(v) \
    ({ \
        const __m256i h = _mm256_add_epi16(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)); \
        _mm_add_epi16(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)); \
    })
        store_rows(LANES512(loMixed), LANES512(loOdd), sums + b * FASTSCAN_BLOCK);
        store_rows(LANES512(hiMixed), LANES512(hiOdd), sums + b * FASTSCAN_BLOCK + 16);
#undef LANES512
    }
}

// 32 sums per compare; most blocks have no survivor once the heap is full.
AVX512BW size_t vs_fastscan_select_avx512(const uint16_t *sums, size_t n, uint16_t limit, uint32_t *positions) {
    const __m512i bound = _mm512_set1_epi16((short)limit);
    size_t count = 0, i = 0;
    for (; i + 32 <= n; i += 32) {
        uint32_t mask = _mm512_cmple_epu16_mask(_mm512_loadu_si512((const void *)(sums + i)), bound);
        while (mask) {
            positions[count++] = (uint32_t)(i + __builtin_ctz(mask));
            mask &= mask - 1;
        }
    }
    for (; i < n; i++) {
        positions[count] = (uint32_t)i;
        count += sums[i] <= limit;
    }
    return count;
}

// m a multiple of 2: two sub-quantizers per ymm.
AVX2 void vs_fastscan_sums_avx2(const uint8_t *codes, size_t blocks, const uint8_t *lut, size_t m, uint16_t *sums) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *block = codes + b * m * 16;
        __m256i loMixed = _mm256_setzero_si256(), loOdd = _mm256_setzero_si256();
        __m256i hiMixed = _mm256_setzero_si256(), hiOdd = _mm256_setzero_si256();
        for (size_t s = 0; s < m; s += 2) {
            const __m256i c = _mm256_loadu_si256((const __m256i *)(block + s * 16));
            const __m256i table = _mm256_loadu_si256((const __m256i *)(lut + s * 16));
            const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(c, low));
            const __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(c, 4), low));
            loMixed = _mm256_add_epi16(loMixed, lo);
            loOdd = _mm256_add_epi16(loOdd, _mm256_srli_epi16(lo, 8));
            hiMixed = _mm256_add_epi16(hiMixed, hi);
            hiOdd = _mm256_add_epi16(hiOdd, _mm256_srli_epi16(hi, 8));
        }
#define LANES256(v) _mm_add_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1))
        store_rows(LANES256(loMixed), LANES256(loOdd), sums + b * FASTSCAN_BLOCK);
        store_rows(LANES256(hiMixed), LANES256(hiOdd), sums + b * FASTSCAN_BLOCK + 16);
#undef LANES256
    }
}

// 16 sums per compare. AVX2 has no unsigned 16-bit compare: x ≤ limit exactly when
// min(x, limit) == x. The byte mask has two bits per sum; clearing the lowest set bit twice drops
// both.
AVX2 size_t vs_fastscan_select_avx2(const uint16_t *sums, size_t n, uint16_t limit, uint32_t *positions) {
    const __m256i bound = _mm256_set1_epi16((short)limit);
    size_t count = 0, i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(sums + i));
        uint32_t mask = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi16(_mm256_min_epu16(x, bound), x));
        while (mask) {
            positions[count++] = (uint32_t)(i + (__builtin_ctz(mask) >> 1));
            mask &= mask - 1;
            mask &= mask - 1;
        }
    }
    for (; i < n; i++) {
        positions[count] = (uint32_t)i;
        count += sums[i] <= limit;
    }
    return count;
}

// vs_fastscan_quantize_table with 16 entries per slice in four SSE registers: the same arithmetic.
static inline __attribute__((always_inline, target("avx2"))) __m128 lanes_min(__m128 v) {
    v = _mm_min_ps(v, _mm_movehl_ps(v, v));
    return _mm_min_ss(v, _mm_shuffle_ps(v, v, 1));
}
static inline __attribute__((always_inline, target("avx2"))) __m128 lanes_max(__m128 v) {
    v = _mm_max_ps(v, _mm_movehl_ps(v, v));
    return _mm_max_ss(v, _mm_shuffle_ps(v, v, 1));
}

AVX2 void vs_fastscan_quantize_table_avx2(const float *table, size_t m, size_t padded, uint8_t *lut, float *offset, float *delta) {
    float total = 0, range = 0;
    for (size_t s = 0; s < m; s++) {
        const float *t = table + s * 16;
        const __m128 a = _mm_loadu_ps(t), b = _mm_loadu_ps(t + 4), c = _mm_loadu_ps(t + 8), d = _mm_loadu_ps(t + 12);
        const float low = _mm_cvtss_f32(lanes_min(_mm_min_ps(_mm_min_ps(a, b), _mm_min_ps(c, d))));
        const float high = _mm_cvtss_f32(lanes_max(_mm_max_ps(_mm_max_ps(a, b), _mm_max_ps(c, d))));
        total += low;
        range = high - low > range ? high - low : range;
    }
    const float step = range > 0 ? range / 255 : 1, inverse = 1 / step;
    const __m128 scale = _mm_set1_ps(inverse), half = _mm_set1_ps(0.5f);
    for (size_t s = 0; s < m; s++) {
        const float *t = table + s * 16;
        const __m128 a = _mm_loadu_ps(t), b = _mm_loadu_ps(t + 4), c = _mm_loadu_ps(t + 8), d = _mm_loadu_ps(t + 12);
        const __m128 low = _mm_set1_ps(_mm_cvtss_f32(lanes_min(_mm_min_ps(_mm_min_ps(a, b), _mm_min_ps(c, d)))));
        // Non-negative and at most 255.5 before truncation: adding ½ rounds; packing saturates.
#define QUANTIZE(v) _mm_cvttps_epi32(_mm_add_ps(_mm_mul_ps(_mm_sub_ps(v, low), scale), half))
        const __m128i words = _mm_packus_epi32(QUANTIZE(a), QUANTIZE(b)), words2 = _mm_packus_epi32(QUANTIZE(c), QUANTIZE(d));
#undef QUANTIZE
        _mm_storeu_si128((__m128i *)(lut + s * 16), _mm_packus_epi16(words, words2));
    }
    for (size_t e = m * 16; e < padded * 16; e++) lut[e] = 0;
    *offset = total;
    *delta = step;
}

// B blocks of 8 columns of one panel: a row pair's two bytes per column widen to 16-bit words,
// and vpmaddwd multiplies them by the query's pair and adds the two, into 32-bit sums.
static inline __attribute__((always_inline, target("avx2"))) void i8_columns(
    const int16_t *q, const int8_t *panel, size_t pairs, size_t width, size_t c0, const float *scales, float queryScale, float *y,
    const int B) {
    __m256i acc[12];
#pragma clang loop unroll(full)
    for (int b = 0; b < B; b++) acc[b] = _mm256_setzero_si256();
    for (size_t p = 0; p < pairs; p++) {
        int32_t pair;
        __builtin_memcpy(&pair, q + 2 * p, 4);
        const __m256i qp = _mm256_set1_epi32(pair);
        const int8_t *row = panel + (p * width + c0) * 2;
#pragma clang loop unroll(full)
        for (int b = 0; b < B; b++)
            acc[b] = _mm256_add_epi32(acc[b], _mm256_madd_epi16(qp, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + 16 * b)))));
    }
    const __m256 qs = _mm256_set1_ps(queryScale);
#pragma clang loop unroll(full)
    for (int b = 0; b < B; b++)
        _mm256_storeu_ps(y + c0 + 8 * b, _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc[b]), _mm256_loadu_ps(scales + c0 + 8 * b)), qs));
}

// Measured against bfloat16 (the same layout in panels, 384 × 640): 4.4–4.8 µs against 8.0–8.4 µs;
// the pass is bound by the bytes it streams from L3, so int16 (same bytes as bfloat16) gained nothing.
AVX2 void vs_vector_times_i8_panels_avx2(
    const int16_t *q, const int8_t *a, size_t rows, size_t columns, const float *scales, float queryScale, float *y) {
    const size_t pairs = (rows + 1) / 2;
    for (size_t p0 = 0; p0 < columns; p0 += VS_I8_PANEL) {
        const size_t width = columns - p0 < VS_I8_PANEL ? columns - p0 : VS_I8_PANEL;
        const int8_t *panel = a + p0 * pairs * 2;
        const float *s = scales + p0;
        float *out = y + p0;
        size_t c0 = 0;
        if (width == 96) { i8_columns(q, panel, pairs, width, 0, s, queryScale, out, 12); continue; }
        if (c0 + 64 <= width) { i8_columns(q, panel, pairs, width, c0, s, queryScale, out, 8); c0 += 64; }
        if (c0 + 32 <= width) { i8_columns(q, panel, pairs, width, c0, s, queryScale, out, 4); c0 += 32; }
        for (; c0 + 8 <= width; c0 += 8) i8_columns(q, panel, pairs, width, c0, s, queryScale, out, 1);
        for (; c0 < width; c0++) {  // past the last whole 8
            int32_t sum = 0;
            for (size_t p = 0; p < pairs; p++) sum += q[2 * p] * panel[(p * width + c0) * 2] + q[2 * p + 1] * panel[(p * width + c0) * 2 + 1];
            out[c0] = (float)sum * s[c0] * queryScale;
        }
    }
}

#else

int vs_has_avx512bw(void) { return 0; }

#endif
