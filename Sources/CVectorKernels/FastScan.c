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

void vs_vector_times_bf16_matrix_portable(const float *x, const uint16_t *a, size_t rows, size_t columns, float *y) {
    for (size_t j = 0; j < columns; j++) y[j] = 0;
    for (size_t i = 0; i < rows; i++) {
        const uint16_t *row = a + i * columns;
        for (size_t j = 0; j < columns; j++) {
            union { uint32_t bits; float value; } widened = {(uint32_t)row[j] << 16};
            y[j] += x[i] * widened.value;
        }
    }
}

#if defined(VS_HAVE_X86_KERNELS)
// Columns c0 ..< columns of x·A (A row-major, `columns` wide) one at a time: the SIMD kernels'
// columns past their last whole block.
static void bf16_columns(const float *x, const uint16_t *a, size_t rows, size_t columns, size_t c0, float *y) {
    for (size_t j = c0; j < columns; j++) {
        float sum = 0;
        for (size_t i = 0; i < rows; i++) {
            union { uint32_t bits; float value; } widened = {(uint32_t)a[i * columns + j] << 16};
            sum += x[i] * widened.value;
        }
        y[j] = sum;
    }
}
#endif

size_t vs_fastscan_select_portable(const uint16_t *sums, size_t n, uint16_t limit, uint32_t *positions) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        positions[count] = (uint32_t)i;
        count += sums[i] <= limit;
    }
    return count;
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

// y = x·A by rows of A (axpy form): 16 accumulators of 16 columns stay in registers while A's rows
// stream past, so the FMAs are independent (a dot product per column would wait on one chain).
#define AVX512F __attribute__((target("avx512f")))
// B blocks of 16 columns from column c0, B a constant at each call so the accumulators stay in
// registers.
static inline __attribute__((always_inline, target("avx512f"))) void vecmat_columns(
    const float *x, const uint16_t *a, size_t rows, size_t columns, size_t c0, float *y, const int B) {
    __m512 acc[16];
#pragma clang loop unroll(full)
    for (int b = 0; b < B; b++) acc[b] = _mm512_setzero_ps();
    for (size_t i = 0; i < rows; i++) {
        const __m512 xi = _mm512_set1_ps(x[i]);
        const uint16_t *row = a + i * columns + c0;
#pragma clang loop unroll(full)
        for (int b = 0; b < B; b++) {
            const __m256i codes = _mm256_loadu_si256((const __m256i *)(row + 16 * b));
            const __m512 widened = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(codes), 16));
            acc[b] = _mm512_fmadd_ps(xi, widened, acc[b]);
        }
    }
#pragma clang loop unroll(full)
    for (int b = 0; b < B; b++) _mm512_storeu_ps(y + c0 + 16 * b, acc[b]);
}

AVX512F void vs_vector_times_bf16_matrix_avx512(const float *x, const uint16_t *a, size_t rows, size_t columns, float *y) {
    size_t c0 = 0;
    for (; c0 + 256 <= columns; c0 += 256) vecmat_columns(x, a, rows, columns, c0, y, 16);
    if (c0 + 128 <= columns) { vecmat_columns(x, a, rows, columns, c0, y, 8); c0 += 128; }
    if (c0 + 64 <= columns) { vecmat_columns(x, a, rows, columns, c0, y, 4); c0 += 64; }
    for (; c0 + 16 <= columns; c0 += 16) vecmat_columns(x, a, rows, columns, c0, y, 1);
    bf16_columns(x, a, rows, columns, c0, y);  // past the last whole 16
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

// The AVX2 form of vecmat_columns, B blocks of 16 columns: a bfloat16 is the high half of a
// float, so of 16 loaded values (8 words of two) masking the low halves gives the odd columns and
// shifting left by 16 the even ones, one operation each per 8 columns; the two accumulators per
// block are interleaved back into column order at the end.
static inline __attribute__((always_inline, target("avx2,fma"))) void vecmat_columns16(
    const float *x, const uint16_t *a, size_t rows, size_t columns, size_t c0, float *y, const int B) {
    __m256 even[6], odd[6];
    const __m256i high = _mm256_set1_epi32((int)0xFFFF0000);
#pragma clang loop unroll(full)
    for (int b = 0; b < B; b++) even[b] = odd[b] = _mm256_setzero_ps();
    for (size_t i = 0; i < rows; i++) {
        const __m256 xi = _mm256_set1_ps(x[i]);
        const uint16_t *row = a + i * columns + c0;
#pragma clang loop unroll(full)
        for (int b = 0; b < B; b++) {
            const __m256i pairs = _mm256_loadu_si256((const __m256i *)(row + 16 * b));
            even[b] = _mm256_fmadd_ps(xi, _mm256_castsi256_ps(_mm256_slli_epi32(pairs, 16)), even[b]);
            odd[b] = _mm256_fmadd_ps(xi, _mm256_castsi256_ps(_mm256_and_si256(pairs, high)), odd[b]);
        }
    }
#pragma clang loop unroll(full)
    for (int b = 0; b < B; b++) {
        // Per 128-bit lane, unpacklo gives columns 0–3 (lane 0) and 8–11 (lane 1), unpackhi 4–7 and 12–15.
        const __m256 lo = _mm256_unpacklo_ps(even[b], odd[b]), hi = _mm256_unpackhi_ps(even[b], odd[b]);
        _mm256_storeu_ps(y + c0 + 16 * b, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(y + c0 + 16 * b + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
}

// A in panels of VS_BF16_PANEL_AVX2 columns, each panel's rows contiguous: a pass over one panel
// streams its bytes in order (measured 4.7 µs against 6.5 µs for 384 × 384 read row-major with a
// column stride, which the prefetcher follows worse).
__attribute__((target("avx2,fma"))) void vs_vector_times_bf16_panels_avx2(
    const float *x, const uint16_t *a, size_t rows, size_t columns, float *y) {
    for (size_t p0 = 0; p0 < columns; p0 += VS_BF16_PANEL_AVX2) {
        const size_t width = columns - p0 < VS_BF16_PANEL_AVX2 ? columns - p0 : VS_BF16_PANEL_AVX2;
        const uint16_t *panel = a + p0 * rows;
        float *out = y + p0;
        size_t c0 = 0;
        if (width == 96) { vecmat_columns16(x, panel, rows, width, 0, out, 6); continue; }
        if (c0 + 64 <= width) { vecmat_columns16(x, panel, rows, width, c0, out, 4); c0 += 64; }
        if (c0 + 32 <= width) { vecmat_columns16(x, panel, rows, width, c0, out, 2); c0 += 32; }
        for (; c0 + 16 <= width; c0 += 16) vecmat_columns16(x, panel, rows, width, c0, out, 1);
        bf16_columns(x, panel, rows, width, c0, out);
    }
}

#else

int vs_has_avx512bw(void) { return 0; }

#endif
