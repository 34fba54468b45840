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
    /// Per row: the int8 scale (unused, 1, for the other storages) and the decoded norm².
    private(set) var scales: UnsafeMutablePointer<Float>
    private(set) var normsSquared: UnsafeMutablePointer<Float>
    /// Set while the three arrays live in a mapped file (copy-on-write).
    private(set) var mapping: MappedFile?
    let kernels: CodeKernels

    init(storage: VectorStorage, dimension: Int, kernels: CodeKernels) {
        precondition(storage == kernels.storage)
        self.storage = storage
        self.dimension = dimension
        self.kernels = kernels
        rowBytes = dimension * storage.bytesPerComponent
        base = Self.allocate(bytes: rowBytes)
        scales = .allocate(capacity: 1)
        normsSquared = .allocate(capacity: 1)
    }

    /// Makes this empty store `count` rows whose codes, scales and norms lie in a mapped file
    /// (the ``sections`` an index file stores).
    func adopt(
        mapped codes: UnsafeMutableRawPointer, scales: UnsafeMutablePointer<Float>, normsSquared: UnsafeMutablePointer<Float>,
        count: Int, in mapping: MappedFile
    ) {
        precondition(self.count == 0 && self.mapping == nil, "adopt fills an empty store")
        freeOwned()
        (base, self.scales, self.normsSquared) = (codes, scales, normsSquared)
        self.count = count
        capacity = count
        self.mapping = mapping
    }

    deinit { freeOwned() }

    private func freeOwned() {
        guard mapping == nil else { return }
        vs_free_large(base)
        scales.deallocate()
        normsSquared.deallocate()
    }

    /// Bytes held: codes, scales and norms (not counting spare capacity).
    var byteCount: Int { count * (rowBytes + 8) }

    func row(_ slot: Int) -> UnsafeMutableRawPointer { base + slot &* rowBytes }

    /// The vector row `slot` decodes to.
    func decoded(_ slot: Int) -> [Float] {
        VectorCodec.decode(storage, row(slot), dimension, scale: scales[slot])
    }

    func reserve(_ rows: Int) {
        guard rows > capacity else { return }
        let newBase = Self.allocate(bytes: rows * rowBytes)
        newBase.copyMemory(from: base, byteCount: count * rowBytes)
        let newScales = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        newScales.update(from: scales, count: count)
        let newNorms = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        newNorms.update(from: normsSquared, count: count)
        freeOwned()
        mapping = nil
        (base, scales, normsSquared, capacity) = (newBase, newScales, newNorms, rows)
    }

    /// Encodes and appends `rows` float32 rows from `source` (checked by the caller).
    func append(_ source: UnsafePointer<Float>, rows: Int) {
        if count + rows > capacity { reserve(max(count + rows, capacity * 2, 16)) }
        for r in 0..<rows {
            count += 1
            update(count - 1, from: source + r * dimension)
        }
    }

    /// Encodes `source` over row `slot` (a slot an index reuses).
    func update(_ slot: Int, from source: UnsafePointer<Float>) {
        precondition(slot < count)
        let scale = VectorCodec.encode(storage, source, dimension, into: row(slot))
        scales[slot] = storage == .int8 ? scale : 1
        normsSquared[slot] = VectorCodec.decodedNormSquared(storage, row(slot), dimension, scale: scales[slot])
    }

    /// Copies the last row into `slot` and drops the last row (keeps storage dense, as the
    /// float32 ``VectorStore`` does, so slots stay aligned with it).
    func removeSwappingLast(_ slot: Int) {
        precondition(slot < count)
        if slot != count - 1 {
            row(slot).copyMemory(from: row(count - 1), byteCount: rowBytes)
            scales[slot] = scales[count - 1]
            normsSquared[slot] = normsSquared[count - 1]
        }
        count -= 1
    }

    /// The sections an index file stores for these codes (docs/FORMAT.md): the codes, the
    /// scales and the decoded norms², each `count` rows.
    var sections: [(tag: String, bytes: UnsafeRawBufferPointer)] {
        [
            ("CODE", UnsafeRawBufferPointer(start: base, count: count * rowBytes)),
            ("CSCL", UnsafeRawBufferPointer(start: scales, count: count * 4)),
            ("CNRM", UnsafeRawBufferPointer(start: normsSquared, count: count * 4)),
        ]
    }

    /// Fills this empty store with `rows` rows read from ``sections`` of an index file (their
    /// checksums verified, not their agreement with the vectors: `vectorsearch check` does that).
    /// Values no encoder writes (a NaN half, an int8 −128, a bad scale) are refused.
    func read(rows: Int, from reader: IndexFileReader) throws {
        precondition(count == 0 && mapping == nil, "read fills an empty store")
        reserve(rows)
        try reader.readSection("CODE", into: UnsafeMutableRawBufferPointer(start: base, count: rows * rowBytes))
        try reader.readSection("CSCL", into: UnsafeMutableRawBufferPointer(start: scales, count: rows * 4))
        try reader.readSection("CNRM", into: UnsafeMutableRawBufferPointer(start: normsSquared, count: rows * 4))
        let components = rows * dimension
        let valid: Bool
        switch storage {
        case .int8: valid = !UnsafeBufferPointer(start: base.assumingMemoryBound(to: Int8.self), count: components).contains(-128)
        case .float16: valid = !UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt16.self), count: components).contains { $0 & 0x7C00 == 0x7C00 }
        case .bfloat16: valid = !UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt16.self), count: components).contains { $0 & 0x7F80 == 0x7F80 }
        case .float32: valid = true
        }
        let finite = (0..<rows).allSatisfy { scales[$0].isFinite && scales[$0] >= 0 && normsSquared[$0].isFinite && normsSquared[$0] >= 0 }
        guard valid, finite else {
            throw VectorSearchError.corruptIndex(path: reader.path, reason: "section 'CODE', 'CSCL' or 'CNRM' holds values no encoder writes")
        }
        count = rows
    }

    /// Runs `body` with a view of the rows for scoring; no row may be added or removed meanwhile.
    func withRows<R>(_ body: (CodedRows) throws -> R) rethrows -> R {
        try body(
            CodedRows(
                codes: base, scales: storage == .int8 ? UnsafePointer(scales) : nil, normsSquared: normsSquared,
                dimension: dimension, kernels: kernels))
    }

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
