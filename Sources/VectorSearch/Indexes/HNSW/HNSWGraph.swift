import CVectorKernels

/// The links of an HNSW graph, and nothing else (vectors live in a ``VectorStore``).
///
/// Level 0 is one flat block with a fixed stride per slot: a count word, then up to `m0` slot
/// numbers. Upper levels live in a pool: a node of level L > 0 owns L consecutive lists of
/// `1 + m` words, found through `upperStart[slot]`. No per-node objects, no arrays of arrays.
final class HNSWGraph {
    let m: Int
    let m0: Int
    private(set) var capacity = 0
    private(set) var level0: UnsafeMutablePointer<UInt32>
    private(set) var levels: UnsafeMutablePointer<UInt8>
    private(set) var upperStart: UnsafeMutablePointer<UInt32>
    private(set) var upper: UnsafeMutablePointer<UInt32>
    private(set) var upperCount = 0
    private var upperCapacity = 0
    /// One spin-lock byte per node, taken only while a parallel build reads or writes its links.
    private(set) var locks: UnsafeMutablePointer<UInt8>
    /// One byte per node: 1 when removed (still routes searches, never returned).
    private(set) var deleted: UnsafeMutablePointer<UInt8>
    /// Set while `level0` and `deleted` live in a mapped file (copy-on-write).
    private var mapping: MappedFile?

    static let noUpper = UInt32.max

    var level0Stride: Int { 1 + m0 }
    var upperStride: Int { 1 + m }

    init(m: Int) {
        self.m = m
        m0 = 2 * m
        level0 = Self.allocateLarge(1)
        levels = .allocate(capacity: 1)
        upperStart = .allocate(capacity: 1)
        upper = .allocate(capacity: 1)
        locks = .allocate(capacity: 1)
        deleted = .allocate(capacity: 1)
    }

    deinit {
        if mapping == nil {
            vs_free_large(level0)
            deleted.deallocate()
        }
        levels.deallocate()
        upperStart.deallocate()
        upper.deallocate()
        locks.deallocate()
    }

    /// Bytes held by the graph.
    var byteCount: Int {
        let perNode = level0Stride * 4 + 4 + 3  // level-0 list, upper start, level + lock + deleted bytes
        return capacity * perNode + upperCapacity * 4
    }

    func reserve(_ slots: Int) {
        guard slots > capacity else { return }
        let grownLevel0 = Self.allocateLarge(slots * level0Stride)
        if capacity > 0 { grownLevel0.update(from: level0, count: capacity * level0Stride) }
        if mapping == nil { vs_free_large(level0) }
        level0 = grownLevel0
        levels = Self.grow(levels, from: capacity, to: slots)
        upperStart = Self.grow(upperStart, from: capacity, to: slots)
        locks = Self.grow(locks, from: capacity, to: slots)
        if mapping == nil {
            deleted = Self.grow(deleted, from: capacity, to: slots)
        } else {
            let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: slots)
            copy.initialize(from: deleted, count: capacity)
            deleted = copy
            mapping = nil
        }
        levels.advanced(by: capacity).initialize(repeating: 0, count: slots - capacity)
        upperStart.advanced(by: capacity).initialize(repeating: Self.noUpper, count: slots - capacity)
        locks.advanced(by: capacity).initialize(repeating: 0, count: slots - capacity)
        deleted.advanced(by: capacity).initialize(repeating: 0, count: slots - capacity)
        capacity = slots
    }

    /// Makes `slot` a node of `level`. A new slot starts with empty lists. A reused (removed)
    /// slot keeps its old lists until its insert overwrites them: other nodes still link to it,
    /// and a node with empty lists would be a dead end for searches made in the meantime.
    func prepareNode(_ slot: Int, level: Int, reused: Bool) {
        let oldLevel = reused ? Int(levels[slot]) : 0
        precondition(level >= oldLevel, "a reused slot keeps at least its old level")
        locks[slot] = 0
        deleted[slot] = 0
        if !reused { level0[slot * level0Stride] = 0 }
        if level > oldLevel {
            let words = level * upperStride
            if upperCount + words > upperCapacity {
                let newCapacity = max(upperCount + words, upperCapacity * 2, 1024)
                upper = Self.grow(upper, from: upperCount, to: newCapacity)
                upperCapacity = newCapacity
            }
            let start = upperCount
            if oldLevel > 0 {
                (upper + start).update(from: upper + Int(upperStart[slot]), count: oldLevel * upperStride)
            }
            for l in (oldLevel + 1)...level { upper[start + (l - 1) * upperStride] = 0 }
            upperStart[slot] = UInt32(start)
            upperCount += words
        } else if level == 0 {
            upperStart[slot] = Self.noUpper
        }
        levels[slot] = UInt8(level)
    }

    /// The list of `slot` at `level`: `list[0]` is the count, `list[1...count]` the neighbours.
    @inline(__always)
    func links(_ slot: Int, level: Int) -> UnsafeMutablePointer<UInt32> {
        if level == 0 { return level0 + slot &* level0Stride }
        let offset: Int = Int(upperStart[slot]) &+ (level &- 1) &* upperStride
        return upper + offset
    }

    @inline(__always) func lock(_ slot: Int) { vs_spin_lock(locks + slot) }
    @inline(__always) func unlock(_ slot: Int) { vs_spin_unlock(locks + slot) }

    /// Whether any slot was ever marked removed (searches skip the removal check until then).
    private(set) var hasDeleted = false

    func setDeleted(_ slot: Int, _ value: Bool) {
        deleted[slot] = value ? 1 : 0
        if value { hasDeleted = true }
    }

    /// The used part of the upper-level pool (for saving).
    var upperWords: UnsafeBufferPointer<UInt32> { UnsafeBufferPointer(start: upper, count: upperCount) }

    /// A loaded graph's level-0 lists and removal flags, used where they lie in a mapped file
    /// (see `HNSWIndex+Persistence`; a copied load reads them into ``reserve(_:)``'s memory).
    func adoptMapped(slots: Int, level0 mapped: UnsafeMutablePointer<UInt32>, deleted mappedDeleted: UnsafeMutablePointer<UInt8>, in file: MappedFile) {
        precondition(capacity == 0 && mapping == nil, "adopt fills a new graph")
        vs_free_large(level0)
        deleted.deallocate()
        (level0, deleted, mapping) = (mapped, mappedDeleted, file)
        levels = Self.grow(levels, from: 0, to: slots)
        upperStart = Self.grow(upperStart, from: 0, to: slots)
        locks = Self.grow(locks, from: 0, to: slots)
        locks.initialize(repeating: 0, count: slots)
        capacity = slots
    }

    /// The level-0 lists and removal flags, for ``IndexMemoryPart`` (mapped: two ranges of the file).
    var level0MemoryPart: IndexMemoryPart {
        let bytes = capacity * (level0Stride * 4 + 1)
        guard let mapping else { return IndexMemoryPart(part: "level-0 links", bytes: bytes, mapped: false) }
        let resident = mapping.residentBytes(level0, count: capacity * level0Stride * 4) + mapping.residentBytes(deleted, count: capacity)
        return IndexMemoryPart(part: "level-0 links", bytes: bytes, mapped: true, resident: resident)
    }

    /// The first of `slots` nodes whose level-0 list has too many links or one out of range.
    func firstBadLevel0List(slots: Int) -> Int? {
        for slot in 0..<slots {
            let list = level0 + slot * level0Stride
            let count = Int(list[0])
            if count > m0 { return slot }
            for j in 1..<(1 + count) where Int(list[j]) >= slots { return slot }
        }
        return nil
    }

    /// Restores the levels and upper lists read from a file, once level 0 is in place.
    func adoptUpperLevels(slots: Int, levels newLevels: [UInt8], upperStart newStarts: [UInt32], upper newUpper: [UInt32]) {
        precondition(capacity >= slots)
        newLevels.withUnsafeBufferPointer { levels.update(from: $0.baseAddress!, count: slots) }
        newStarts.withUnsafeBufferPointer { upperStart.update(from: $0.baseAddress!, count: slots) }
        hasDeleted = UnsafeBufferPointer(start: deleted, count: slots).contains { $0 != 0 }
        upper.deallocate()
        upperCapacity = max(newUpper.count, 1)
        upper = .allocate(capacity: upperCapacity)
        newUpper.withUnsafeBufferPointer { if $0.count > 0 { upper.update(from: $0.baseAddress!, count: $0.count) } }
        upperCount = newUpper.count
    }

    /// The level-0 block is read at random by every search: huge pages when it is large.
    private static func allocateLarge(_ words: Int) -> UnsafeMutablePointer<UInt32> {
        guard let raw = vs_alloc_large(max(words, 1) * 4) else { fatalError("out of memory allocating graph links") }
        return raw.bindMemory(to: UInt32.self, capacity: max(words, 1))
    }

    private static func grow<T>(_ pointer: UnsafeMutablePointer<T>, from old: Int, to new: Int) -> UnsafeMutablePointer<T> {
        let grown = UnsafeMutablePointer<T>.allocate(capacity: max(new, 1))
        if old > 0 { grown.moveInitialize(from: pointer, count: old) }
        pointer.deallocate()
        return grown
    }
}
