#ifndef CVECTORKERNELS_H
#define CVECTORKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set level of the kernels below, detected once from cpuid.
typedef enum {
    VS_SIMD_PORTABLE = 0, ///< no x86 kernel here: callers use the Swift SIMD kernels
    VS_SIMD_AVX2 = 1,     ///< AVX2 + FMA + F16C (x86-64-v3)
    VS_SIMD_AVX512 = 2,   ///< AVX-512F (x86-64-v4)
} vs_simd_level;

/// The best level this CPU supports (0 on non-x86 machines).
vs_simd_level vs_detect_simd_level(void);

#if defined(__x86_64__) || defined(_M_X64)
#define VS_HAVE_X86_KERNELS 1
/// One-to-one kernels: squared L2 distance and inner product of two float vectors of length d.
float vs_l2sq_avx512(const float *a, const float *b, size_t d);
float vs_dot_avx512(const float *a, const float *b, size_t d);
float vs_l2sq_avx2(const float *a, const float *b, size_t d);
float vs_dot_avx2(const float *a, const float *b, size_t d);
/// One-to-many kernels: out[i] = distance(query, base + i*d) for n contiguous rows of length d.
void vs_l2sq_many_avx512(const float *query, const float *base, size_t n, size_t d, float *out);
void vs_dot_many_avx512(const float *query, const float *base, size_t n, size_t d, float *out);
void vs_l2sq_many_avx2(const float *query, const float *base, size_t n, size_t d, float *out);
void vs_dot_many_avx2(const float *query, const float *base, size_t n, size_t d, float *out);
/// Gather kernels: out[i] = distance(query, base + slots[i]*d) for n rows picked by slot number
/// (graph search). Several rows at a time: their loads interleave, so their cache misses overlap.
void vs_l2sq_gather_avx512(const float *query, const float *base, const uint32_t *slots, size_t n, size_t d, float *out);
void vs_dot_gather_avx512(const float *query, const float *base, const uint32_t *slots, size_t n, size_t d, float *out);
void vs_l2sq_gather_avx2(const float *query, const float *base, const uint32_t *slots, size_t n, size_t d, float *out);
void vs_dot_gather_avx2(const float *query, const float *base, const uint32_t *slots, size_t n, size_t d, float *out);

/// Code kernels: inner products of a float32 query with rows of d codes (CodeKernels.c).
/// Many: out[i] = query · row i for n contiguous rows; gather: for the rows numbered slots[i].
/// float16 and bfloat16 rows are uint16_t bit patterns (scales NULL); int8 rows are multiplied
/// by scales[row] (one scale per row), which may be NULL for the raw integer products.
void vs_dot_f16_many_avx512(const float *query, const void *codes, const float *scales, size_t n, size_t d, float *out);
void vs_dot_bf16_many_avx512(const float *query, const void *codes, const float *scales, size_t n, size_t d, float *out);
void vs_dot_i8_many_avx512(const float *query, const void *codes, const float *scales, size_t n, size_t d, float *out);
void vs_dot_f16_many_avx2(const float *query, const void *codes, const float *scales, size_t n, size_t d, float *out);
void vs_dot_bf16_many_avx2(const float *query, const void *codes, const float *scales, size_t n, size_t d, float *out);
void vs_dot_i8_many_avx2(const float *query, const void *codes, const float *scales, size_t n, size_t d, float *out);
void vs_dot_f16_gather_avx512(const float *query, const void *codes, const float *scales, const uint32_t *slots, size_t n, size_t d, float *out);
void vs_dot_bf16_gather_avx512(const float *query, const void *codes, const float *scales, const uint32_t *slots, size_t n, size_t d, float *out);
void vs_dot_i8_gather_avx512(const float *query, const void *codes, const float *scales, const uint32_t *slots, size_t n, size_t d, float *out);
void vs_dot_f16_gather_avx2(const float *query, const void *codes, const float *scales, const uint32_t *slots, size_t n, size_t d, float *out);
void vs_dot_bf16_gather_avx2(const float *query, const void *codes, const float *scales, const uint32_t *slots, size_t n, size_t d, float *out);
void vs_dot_i8_gather_avx2(const float *query, const void *codes, const float *scales, const uint32_t *slots, size_t n, size_t d, float *out);
/// int8 candidates with AVX512-VNNI (when vs_has_avx512_vnni()): as vs_dot_i8_many, but the query
/// is quantized to int8 too, so each product is off by at most ½ · max|q|/127 · Σ|row|: for
/// choosing candidates that are re-scored exactly. Dimensions above VS_VNNI_MAX_DIMENSION take
/// the float-query kernel.
#define VS_VNNI_MAX_DIMENSION 8192
int vs_has_avx512_vnni(void);
void vs_dot_i8_candidates_vnni(const float *query, const void *codes, const float *scales, size_t n, size_t d, float *out);
/// The query quantized once for vs_dot_i8_gather_vnni (graph walks score many small batches):
/// q8 must hold (d + 63) & ~63 bytes (zero-padded; returned), *scale = max|q| / 127, *sum = Σ q8.
size_t vs_quantize_query_i8(const float *query, size_t d, int8_t *q8, float *scale, int32_t *sum);
/// out[i] ≈ query · row slots[i] × scales[slot] from the quantized query, with the same error
/// bound as vs_dot_i8_candidates_vnni; q8 64-byte aligned. AVX512-VNNI only.
void vs_dot_i8_gather_vnni(const int8_t *q8, float scale, int32_t sum, const void *codes, const float *scales,
                           const uint32_t *slots, size_t n, size_t d, float *out);

/// Single-threaded C = A·Bᵀ + bias + residual, then GELU (vs_gelu_erf) when `gelu` is nonzero,
/// with B [n, k] packed once by vs_gemm_pack into vs_gemm_packed_count(n, k) floats: A is m × k
/// with row stride lda; C, and residual, are m × n with row stride ldc. bias (n floats) and
/// residual may be NULL; residual may be C itself (C += A·Bᵀ + bias). For constant weights (the
/// encoder's dense layers), where a general sgemm packs B again on every call. k ≥ 1; AVX-512F only.
size_t vs_gemm_packed_count(size_t n, size_t k);
void vs_gemm_pack(const float *b, size_t n, size_t k, float *packed);
void vs_gemm_packed_avx512(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                           const float *bias, const float *residual, int gelu, float *c, size_t ldc);

/// For each of n rows of x (n × d, d small), the nearest of k centroids given transposed (ct,
/// d × k) with their squared norms: its number (ties: the lowest) and squared distance.
/// AVX-512: k a multiple of 16; AVX2: a multiple of 8.
void vs_nearest_centroid_avx512(const float *x, size_t n, size_t d, const float *ct, const float *norms, size_t k,
                                uint32_t *labels, float *distances);
void vs_nearest_centroid_avx2(const float *x, size_t n, size_t d, const float *ct, const float *norms, size_t k,
                              uint32_t *labels, float *distances);
/// Index of the first i in [start, n) with values[i] + (offsets ? offsets[i] : 0) <= threshold,
/// or n: the top-k prefilter, which rejects sixteen (eight) candidates per compare.
size_t vs_next_at_or_below_avx512(const float *values, const float *offsets, size_t start, size_t n, float threshold);
size_t vs_next_at_or_below_avx2(const float *values, const float *offsets, size_t start, size_t n, float threshold);
#endif

/// GELU in its exact form, x·Φ(x) = ½x(1 + erf(x/√2)) (erf within 1.5e-7), in place over a
/// rows × columns matrix after adding bias[c] to column c (bias may be NULL): a dense layer's
/// bias and activation in one pass. Picks the AVX2 kernel when the CPU has it; the _portable
/// version is the reference.
void vs_gelu_erf(float *x, size_t rows, size_t columns, const float *bias);
void vs_gelu_erf_portable(float *x, size_t rows, size_t columns, const float *bias);
/// 4-bit product-quantization "fast scan" (FastScan.c). Codes come in blocks of 32 rows: block b
/// is m × 16 bytes, where sub-quantizer s's 16 bytes hold row r's code in the low nibble of byte r
/// and row 16 + r's in the high nibble. `lut` is m × 16 bytes (sub-quantizer s's table at s × 16).
/// Writes each row's sum of table bytes to sums[32 b + r]. m must be a multiple of 4 for avx512
/// (which needs AVX-512BW) and of 2 for avx2; rows are exact while their sum is below 65,536.
void vs_fastscan_sums_avx512(const uint8_t *codes, size_t blocks, const uint8_t *lut, size_t m, uint16_t *sums);
void vs_fastscan_sums_avx2(const uint8_t *codes, size_t blocks, const uint8_t *lut, size_t m, uint16_t *sums);
void vs_fastscan_sums_portable(const uint8_t *codes, size_t blocks, const uint8_t *lut, size_t m, uint16_t *sums);
int vs_has_avx512bw(void);
/// Quantizes a float table of m slices × 16 entries to the fast-scan bytes (padded × 16, the
/// padding zero): entry = round((t − min_s) / delta), one delta (the widest slice's range / 255) for
/// every slice, so a row's byte sum × delta + Σ_s min_s approximates its table sum. Writes Σ min_s
/// to `offset` and delta to `delta`.
void vs_fastscan_quantize_table(const float *table, size_t m, size_t padded, uint8_t *lut, float *offset, float *delta);
void vs_fastscan_quantize_table_avx2(const float *table, size_t m, size_t padded, uint8_t *lut, float *offset, float *delta);
/// Writes the positions i < n with sums[i] ≤ limit, in order, to `positions`; returns their number.
size_t vs_fastscan_select_avx512(const uint16_t *sums, size_t n, uint16_t limit, uint32_t *positions);
size_t vs_fastscan_select_avx2(const uint16_t *sums, size_t n, uint16_t limit, uint32_t *positions);
size_t vs_fastscan_select_portable(const uint16_t *sums, size_t n, uint16_t limit, uint32_t *positions);

/// Products of a query with the columns of a matrix held as int8 with a scale per column (an OPQ
/// rotation beside the IVF centroids): y_j = queryScale × scales[j] × Σ_i q_i·a_ij, in exact
/// 32-bit integer sums. `q` is the query as int16 (vs_quantize_query_i16: `rows` values and a
/// zero when `rows` is odd). A is laid out in panels of VS_I8_PANEL columns (the last may be
/// narrower); within a panel, row pair p holds for each column j the bytes a_{2p,j}, a_{2p+1,j}
/// (a zero row pads an odd `rows`).
#define VS_I8_PANEL 96
void vs_vector_times_i8_panels_avx2(
    const int16_t *q, const int8_t *a, size_t rows, size_t columns, const float *scales, float queryScale, float *y);
void vs_vector_times_i8_panels_portable(
    const int16_t *q, const int8_t *a, size_t rows, size_t columns, const float *scales, float queryScale, float *y);
/// Rounds x (`rows` floats) to int16 `q` at the widest scale whose sums with int8 columns fit 32
/// bits; returns the scale and writes ‖x − scale·q‖ to `error`. NaN becomes 0.
float vs_quantize_query_i16(const float *x, size_t rows, int16_t *q, float *error);

/// 8-bit product-quantization distances: out[i] = bias + Σ_s table[256 s + codes[m i + s]] for n
/// rows of m code bytes each.
void vs_pq8_distances(const uint8_t *codes, size_t n, size_t m, const float *table, float bias, float *out);

/// Softmax in place over n floats: exp(x − max) / Σ exp(x − max).
void vs_softmax(float *x, size_t n);
void vs_softmax_portable(float *x, size_t n);

/// CRC-32 (IEEE 802.3, the zlib / PNG polynomial), continuing from `crc` (start with 0).
uint32_t vs_crc32(uint32_t crc, const void *data, size_t length);

/// Path of the shared object that defines `symbol` (resolved through symlinks), or NULL.
/// The caller frees the returned string.
char *vs_library_path_of(const void *symbol);

/// Prefetches every cache line of `bytes` bytes from `p`, so a whole vector is in flight at once.
static inline __attribute__((always_inline)) void vs_prefetch_bytes(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    for (size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(c + offset, 0, 3);
}

/// Allocates `bytes` aligned to 64 bytes; blocks of 4 MiB or more are aligned to 2 MiB and
/// advised as transparent huge pages, which cuts TLB misses when a graph search reads rows at
/// random. Returns NULL when out of memory. Free with vs_free_large.
void *vs_alloc_large(size_t bytes);
void vs_free_large(void *pointer);

/// Returns freed heap memory to the system where the C library can (glibc's malloc_trim).
void vs_return_freed_memory(void);

/// Number of CPUs this process may run on (its affinity mask), at least 1.
int vs_available_cores(void);

/// Prefetches every cache line of `bytes` bytes from `p` into L2 (not L1): for rows fetched many
/// at a time, ahead of use, more than L1's miss buffers hold.
static inline __attribute__((always_inline)) void vs_prefetch_bytes_l2(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    for (size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(c + offset, 0, 2);
}

/// Hints the CPU to fetch the cache line holding `p` (no effect on correctness).
static inline __attribute__((always_inline)) void vs_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

#if defined(__x86_64__) || defined(__i386__)
#define vs_cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define vs_cpu_relax() __asm__ __volatile__("yield")
#else
#define vs_cpu_relax() ((void)0)
#endif

/// A one-byte spin lock (0 = free), for per-node locks during a parallel graph build.
static inline __attribute__((always_inline)) void vs_spin_lock(uint8_t *lock) {
    while (__atomic_exchange_n(lock, (uint8_t)1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) vs_cpu_relax();
    }
}
static inline __attribute__((always_inline)) void vs_spin_unlock(uint8_t *lock) {
    __atomic_store_n(lock, (uint8_t)0, __ATOMIC_RELEASE);
}

/// Atomically adds `value` to `*counter` and returns the previous value (work distribution).
static inline __attribute__((always_inline)) size_t vs_fetch_add(size_t *counter, size_t value) {
    return __atomic_fetch_add(counter, value, __ATOMIC_RELAXED);
}

#ifdef __cplusplus
}
#endif
#endif
