import CVectorKernels

/// The instruction-set level of the distance kernels.
public enum SIMDLevel: String, Sendable, CaseIterable {
    /// AVX-512F kernels (x86-64-v4), chosen at run time.
    case avx512
    /// AVX2 + FMA kernels (x86-64-v3), chosen at run time.
    case avx2
    /// Swift SIMD kernels compiled for the build's target (NEON on arm64, SSE2 on baseline x86-64).
    case portable

    /// The best level this CPU runs.
    public static let detected: SIMDLevel = {
        switch vs_detect_simd_level() {
        case VS_SIMD_AVX512: .avx512
        case VS_SIMD_AVX2: .avx2
        default: .portable
        }
    }()

    /// Every level this CPU runs, best first.
    public static var supported: [SIMDLevel] {
        allCases.filter { $0.rank <= detected.rank }
    }

    var rank: Int {
        switch self {
        case .avx512: 2
        case .avx2: 1
        case .portable: 0
        }
    }

    /// A human-readable description, as `vectorsearch info` prints it.
    public var displayName: String {
        switch self {
        case .avx512: "AVX-512 (C kernels, runtime dispatch)"
        case .avx2: "AVX2+FMA (C kernels, runtime dispatch)"
        case .portable:
            #if arch(arm64)
            "NEON (Swift SIMD)"
            #else
            "portable Swift SIMD"
            #endif
        }
    }
}

/// One table of distance functions for one SIMD level, resolved once and called through
/// plain C function pointers (as hnswlib's `fstdistfunc_`): no existentials, no ARC.
///
/// For hot loops over raw buffers; ``Distance`` has the same functions on arrays.
/// ```swift
/// let kernels = DistanceKernels.best
/// let d = kernels.l2Squared(a, b, dimension)          // one pair
/// kernels.dotMany(query, rows, rowCount, dimension, out) // one query against contiguous rows
/// ```
public struct DistanceKernels: @unchecked Sendable {
    public typealias Pair = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, Int) -> Float
    public typealias Many =
        @convention(c) (
            UnsafePointer<Float>?, UnsafePointer<Float>?, Int, Int, UnsafeMutablePointer<Float>?
        ) -> Void
    public typealias Gather =
        @convention(c) (
            UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<UInt32>?, Int, Int, UnsafeMutablePointer<Float>?
        ) -> Void
    public typealias Scan = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, Int, Int, Float) -> Int

    /// The instruction set these kernels use.
    public let level: SIMDLevel
    /// Squared L2 distance of two vectors: `(a, b, dimension)`.
    public let l2Squared: Pair
    /// Inner product of two vectors: `(a, b, dimension)`.
    public let dot: Pair
    /// Squared L2 distances of one query to `n` contiguous rows: `(query, rows, n, dimension, out)`.
    public let l2SquaredMany: Many
    /// Inner products of one query with `n` contiguous rows: `(query, rows, n, dimension, out)`.
    public let dotMany: Many
    /// Squared L2 distances of one query to rows picked by slot: `(query, base, slots, n, dimension, out)`.
    public let l2SquaredGather: Gather
    /// Inner products of one query with rows picked by slot: `(query, base, slots, n, dimension, out)`.
    public let dotGather: Gather
    /// First index in `start..<n` whose value (plus offset, if offsets are given) is at or below
    /// a threshold, else `n`: `(values, offsets, start, n, threshold)`.
    public let nextAtOrBelow: Scan
    /// The bfloat16 code kernels of this level (IVF list sketches are bfloat16 rows).
    let bfloat16: CodeKernels

    /// The kernels for the best level of this CPU.
    public static let best = DistanceKernels(level: .detected)!

    /// The kernels for `level`, or nil when this CPU cannot run them.
    public init?(level: SIMDLevel) {
        guard level.rank <= SIMDLevel.detected.rank, let bfloat16 = CodeKernels(storage: .bfloat16, level: level) else { return nil }
        self.level = level
        self.bfloat16 = bfloat16
        switch level {
        case .portable:
            l2Squared = { a, b, d in SwiftSIMDKernels.l2Squared(a!, b!, d) }
            dot = { a, b, d in SwiftSIMDKernels.dot(a!, b!, d) }
            l2SquaredMany = { q, x, n, d, out in SwiftSIMDKernels.l2SquaredMany(q!, x!, n, d, out!) }
            dotMany = { q, x, n, d, out in SwiftSIMDKernels.dotMany(q!, x!, n, d, out!) }
            nextAtOrBelow = { x, offsets, start, n, t in SwiftSIMDKernels.nextAtOrBelow(x!, offsets, start, n, t) }
            l2SquaredGather = { q, x, slots, n, d, out in SwiftSIMDKernels.l2SquaredGather(q!, x!, slots!, n, d, out!) }
            dotGather = { q, x, slots, n, d, out in SwiftSIMDKernels.dotGather(q!, x!, slots!, n, d, out!) }
        #if arch(x86_64)
        case .avx512:
            l2Squared = vs_l2sq_avx512
            dot = vs_dot_avx512
            l2SquaredMany = vs_l2sq_many_avx512
            dotMany = vs_dot_many_avx512
            nextAtOrBelow = vs_next_at_or_below_avx512
            l2SquaredGather = vs_l2sq_gather_avx512
            dotGather = vs_dot_gather_avx512
        case .avx2:
            l2Squared = vs_l2sq_avx2
            dot = vs_dot_avx2
            l2SquaredMany = vs_l2sq_many_avx2
            dotMany = vs_dot_many_avx2
            nextAtOrBelow = vs_next_at_or_below_avx2
            l2SquaredGather = vs_l2sq_gather_avx2
            dotGather = vs_dot_gather_avx2
        #else
        case .avx512, .avx2:
            return nil
        #endif
        }
    }

    /// The internal distance for `metric` (smaller is closer): squared L2, or the negated
    /// inner product (cosine data is normalised, so that is the negated cosine).
    @inline(__always)
    func distance(_ metric: Metric, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        metric == .l2 ? l2Squared(a, b, d) : -dot(a, b, d)
    }

    /// Internal distances (smaller is closer) of `query` to `n` contiguous rows: squared L2, or the
    /// negated inner product. Every index scores contiguous rows through here.
    @inline(__always)
    func distances(
        _ metric: Metric, _ query: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, _ n: Int, _ d: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        if metric == .l2 {
            l2SquaredMany(query, rows, n, d, out)
        } else {
            dotMany(query, rows, n, d, out)
            for i in 0..<n { out[i] = -out[i] }
        }
    }

    /// As above for the `n` rows of `base` at the given row numbers (IVF list positions, HNSW
    /// neighbours, filtered slots), scored together so their loads overlap.
    @inline(__always)
    func distances(
        _ metric: Metric, _ query: UnsafePointer<Float>, _ base: UnsafePointer<Float>, picking rows: UnsafePointer<UInt32>,
        _ n: Int, _ d: Int, into out: UnsafeMutablePointer<Float>
    ) {
        if metric == .l2 {
            l2SquaredGather(query, base, rows, n, d, out)
        } else {
            dotGather(query, base, rows, n, d, out)
            for i in 0..<n { out[i] = -out[i] }
        }
    }

    /// Inner products of one float query with `n` contiguous rows of `p` bfloat16 values (IVF
    /// list sketches).
    @inline(__always)
    func sketchDotMany(
        _ query: UnsafePointer<Float>, _ rows: UnsafePointer<UInt16>, _ n: Int, _ p: Int, _ out: UnsafeMutablePointer<Float>
    ) {
        bfloat16.dotMany(query, rows, nil as UnsafePointer<Float>?, n, p, out)
    }

    /// Scales `row` to unit length in place; every index normalises cosine vectors through
    /// here, so equal inputs give bit-identical stored rows. Callers refuse zero vectors first.
    func normalize(_ row: UnsafeMutablePointer<Float>, _ d: Int) {
        let scale = 1 / dot(row, row, d).squareRoot()
        for j in 0..<d { row[j] *= scale }
    }
}

/// Distance functions on plain arrays, using the fastest kernels this CPU runs.
public enum Distance {
    /// Squared Euclidean distance.
    public static func l2Squared(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vectors differ in length: \(a.count) and \(b.count)")
        return DistanceKernels.best.l2Squared(a, b, a.count)
    }

    /// Inner (dot) product.
    public static func innerProduct(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vectors differ in length: \(a.count) and \(b.count)")
        return DistanceKernels.best.dot(a, b, a.count)
    }

    /// Cosine similarity; 0 when either vector is zero.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vectors differ in length: \(a.count) and \(b.count)")
        let k = DistanceKernels.best
        let denominator = (k.dot(a, a, a.count) * k.dot(b, b, b.count)).squareRoot()
        return denominator > 0 ? k.dot(a, b, a.count) / denominator : 0
    }

    /// Euclidean norm.
    public static func norm(_ a: [Float]) -> Float {
        DistanceKernels.best.dot(a, a, a.count).squareRoot()
    }
}
