import CVectorKernels

/// Coded vectors (``VectorStorage``) in one contiguous, 64-byte-aligned buffer, row `slot` at
/// `base + slot * rowBytes`, beside each row's scale (int8) and the squared norm of what it
/// decodes to (L2 distances come from inner products and these norms).
final class CodeStore {
    let storage: VectorStorage
    let dimension: Int
    let rowBytes: Int
    private(set) var count = 0
    private(set) var capacity = 0
    private(set) var base: UnsafeMutableRawPointer
    private(set) var scales: [Float] = []
    private(set) var normsSquared: [Float] = []
    let kernels: CodeKernels

    init(storage: VectorStorage, dimension: Int, kernels: CodeKernels) {
        precondition(storage == kernels.storage)
        self.storage = storage
        self.dimension = dimension
        self.kernels = kernels
        rowBytes = dimension * storage.bytesPerComponent
        base = Self.allocate(bytes: rowBytes)
    }

    deinit { vs_free_large(base) }

    /// Bytes held: codes, scales and norms (not counting spare capacity).
    var byteCount: Int { count * (rowBytes + 4 + (storage == .int8 ? 4 : 0)) }

    func row(_ slot: Int) -> UnsafeMutableRawPointer { base + slot &* rowBytes }

    /// The vector row `slot` decodes to.
    func decoded(_ slot: Int) -> [Float] {
        VectorCodec.decode(storage, row(slot), dimension, scale: storage == .int8 ? scales[slot] : 1)
    }

    func reserve(_ rows: Int) {
        guard rows > capacity else { return }
        let newBase = Self.allocate(bytes: rows * rowBytes)
        newBase.copyMemory(from: base, byteCount: count * rowBytes)
        vs_free_large(base)
        base = newBase
        capacity = rows
        scales.reserveCapacity(rows)
        normsSquared.reserveCapacity(rows)
    }

    /// Encodes and appends `rows` float32 rows from `source` (checked by the caller).
    func append(_ source: UnsafePointer<Float>, rows: Int) {
        if count + rows > capacity { reserve(max(count + rows, capacity * 2, 16)) }
        for r in 0..<rows {
            let codes = row(count)
            let scale = VectorCodec.encode(storage, source + r * dimension, dimension, into: codes)
            if storage == .int8 { scales.append(scale) }
            normsSquared.append(decodedNormSquared(count, scale: scale))
            count += 1
        }
    }

    /// Encodes `source` over row `slot` (a slot an index reuses).
    func update(_ slot: Int, from source: UnsafePointer<Float>) {
        precondition(slot < count)
        let scale = VectorCodec.encode(storage, source, dimension, into: row(slot))
        if storage == .int8 { scales[slot] = scale }
        normsSquared[slot] = decodedNormSquared(slot, scale: scale)
    }

    private func decodedNormSquared(_ slot: Int, scale: Float) -> Float {
        var norm: Float = 0
        for i in 0..<dimension {
            let x = VectorCodec.component(storage, row(slot), i, scale: scale)
            norm += x * x
        }
        return norm
    }

    /// Copies the last row into `slot` and drops the last row (keeps storage dense, as the
    /// float32 ``VectorStore`` does, so slots stay aligned with it).
    func removeSwappingLast(_ slot: Int) {
        precondition(slot < count)
        if slot != count - 1 { row(slot).copyMemory(from: row(count - 1), byteCount: rowBytes) }
        if storage == .int8 {
            scales[slot] = scales[count - 1]
            scales.removeLast()
        }
        normsSquared[slot] = normsSquared[count - 1]
        normsSquared.removeLast()
        count -= 1
    }

    /// Runs `body` with a view of the rows for scoring; no row may be added or removed meanwhile.
    func withRows<R>(_ body: (CodedRows) throws -> R) rethrows -> R {
        try scales.withUnsafeBufferPointer { scales in
            try normsSquared.withUnsafeBufferPointer { norms in
                try body(
                    CodedRows(
                        codes: base, scales: storage == .int8 ? scales.baseAddress : nil,
                        normsSquared: norms.baseAddress ?? UnsafePointer(Self.noNorms),
                        dimension: dimension, kernels: kernels))
            }
        }
    }

    /// Stands in for the norms of an empty store (an empty array may have no buffer).
    nonisolated(unsafe) private static let noNorms = UnsafeMutablePointer<Float>.allocate(capacity: 1)

    private static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let count = max(bytes, 64)
        guard let raw = vs_alloc_large(count) else { fatalError("out of memory allocating \(count) bytes of codes") }
        return raw
    }
}

/// A view of coded rows that scores a float32 query against them: internal distances, smaller is
/// closer (squared L2 from ‖q‖² − 2 q·x + ‖x‖², or the negated inner product).
struct CodedRows {
    let codes: UnsafeRawPointer
    let scales: UnsafePointer<Float>?
    let normsSquared: UnsafePointer<Float>
    let dimension: Int
    let kernels: CodeKernels

    /// Distances of `query` to the `n` rows from `start` on. `queryNormSquared` is used for L2 only.
    /// `candidatesOnly`: the distances only choose candidates that are re-scored exactly, so
    /// the faster, less exact kernel may compute them (``CodeKernels/candidateMany``).
    @inline(__always)
    func distances(
        _ metric: Metric, _ query: UnsafePointer<Float>, queryNormSquared: Float, from start: Int, _ n: Int,
        candidatesOnly: Bool = false, into out: UnsafeMutablePointer<Float>
    ) {
        let kernel = candidatesOnly ? kernels.candidateMany : kernels.dotMany
        kernel(query, codes + start &* dimension &* kernels.storage.bytesPerComponent, scales.map { $0 + start }, n, dimension, out)
        complete(metric, out, n, queryNormSquared: queryNormSquared) { start &+ $0 }
    }

    /// Distances of `query` to the `n` rows numbered `slots`.
    @inline(__always)
    func distances(
        _ metric: Metric, _ query: UnsafePointer<Float>, queryNormSquared: Float, picking slots: UnsafePointer<UInt32>, _ n: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        kernels.dotGather(query, codes, scales, slots, n, dimension, out)
        complete(metric, out, n, queryNormSquared: queryNormSquared) { Int(slots[$0]) }
    }

    /// As above from a query quantized once (``CodeKernels/quantizedGather``, which must exist):
    /// approximate distances, for walks whose candidates are re-scored exactly.
    @inline(__always)
    func distances(
        _ metric: Metric, _ query: QuantizedQuery, queryNormSquared: Float, picking slots: UnsafePointer<UInt32>, _ n: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        kernels.quantizedGather!(query.codes, query.scale, query.sum, codes, scales, slots, n, dimension, out)
        complete(metric, out, n, queryNormSquared: queryNormSquared) { Int(slots[$0]) }
    }

    @inline(__always)
    private func complete(
        _ metric: Metric, _ out: UnsafeMutablePointer<Float>, _ n: Int, queryNormSquared: Float, slot: (Int) -> Int
    ) {
        if metric == .l2 {
            for i in 0..<n { out[i] = max(0, queryNormSquared - 2 * out[i] + normsSquared[slot(i)]) }
        } else {
            for i in 0..<n { out[i] = -out[i] }
        }
    }
}
