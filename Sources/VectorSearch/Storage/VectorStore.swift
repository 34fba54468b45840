import CVectorKernels

/// Vectors of one dimension in one contiguous, 64-byte-aligned buffer, row `slot` at
/// `base + slot * dimension`: the layout the SIMD scans and sgemm read directly.
final class VectorStore {
    let dimension: Int
    private(set) var count = 0
    private(set) var capacity = 0
    private(set) var base: UnsafeMutablePointer<Float>
    /// Set while the rows live in a mapped file (copy-on-write) instead of our own allocation.
    private(set) var mapping: MappedFile?

    init(dimension: Int) {
        self.dimension = dimension
        base = Self.allocate(floats: dimension)
    }

    /// Makes this empty store `count` rows that lie in a mapped file; the first append that
    /// needs room moves them into memory of our own.
    func adopt(mapped rows: UnsafeMutablePointer<Float>, count: Int, in mapping: MappedFile) {
        precondition(self.count == 0 && self.mapping == nil, "adopt fills an empty store")
        vs_free_large(base)
        base = rows
        self.count = count
        capacity = count
        self.mapping = mapping
    }

    deinit { if mapping == nil { vs_free_large(base) } }

    /// Bytes of vector data held (not counting spare capacity).
    var byteCount: Int { count * dimension * MemoryLayout<Float>.stride }

    func row(_ slot: Int) -> UnsafeMutablePointer<Float> { base + slot &* dimension }

    func reserve(_ rows: Int) {
        guard rows > capacity else { return }
        let newBase = Self.allocate(floats: rows * dimension)
        newBase.update(from: base, count: count * dimension)
        if mapping == nil { vs_free_large(base) }
        mapping = nil
        base = newBase
        capacity = rows
    }

    /// Appends `rows` rows copied from `source`; returns the first new slot.
    @discardableResult
    func append(_ source: UnsafePointer<Float>, rows: Int) -> Int {
        if count + rows > capacity { reserve(max(count + rows, capacity * 2, 16)) }
        row(count).update(from: source, count: rows * dimension)
        defer { count += rows }
        return count
    }

    /// Appends `rows` rows written by `fill` straight into storage (used by loaders, to avoid a
    /// copy); the rows count only if `fill` returns. Returns the first new slot.
    func append(rows: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> Int {
        if count + rows > capacity { reserve(max(count + rows, capacity * 2, 16)) }
        try fill(UnsafeMutableRawBufferPointer(start: row(count), count: rows * dimension * MemoryLayout<Float>.stride))
        defer { count += rows }
        return count
    }

    /// Copies the last row into `slot` and drops the last row (keeps storage dense).
    func removeSwappingLast(_ slot: Int) {
        precondition(slot < count)
        if slot != count - 1 { row(slot).update(from: row(count - 1), count: dimension) }
        count -= 1
    }

    /// Drops every row, keeping the allocation.
    func removeAll() { count = 0 }

    /// 64-byte aligned; large stores on huge pages (random row reads miss the TLB far less).
    private static func allocate(floats: Int) -> UnsafeMutablePointer<Float> {
        let count = max(floats, 16)
        guard let raw = vs_alloc_large(count * MemoryLayout<Float>.stride) else {
            fatalError("out of memory allocating \(count * MemoryLayout<Float>.stride) bytes of vectors")
        }
        return raw.bindMemory(to: Float.self, capacity: count)
    }
}
