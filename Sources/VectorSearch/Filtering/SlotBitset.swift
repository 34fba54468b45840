/// One bit per internal slot: the vectors a compiled ``Filter`` admits, with their exact number.
struct SlotBitset: Sendable {
    private(set) var words: [UInt64]
    /// Number of slots covered.
    let slotCount: Int

    init(slotCount: Int, filled: Bool = false) {
        self.slotCount = slotCount
        words = [UInt64](repeating: filled ? ~0 : 0, count: (slotCount + 63) / 64)
        if filled { clearTail() }
    }

    /// Number of slots set (popcount).
    var matchCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    @inline(__always)
    func contains(_ slot: Int) -> Bool { words[slot >> 6] >> UInt64(slot & 63) & 1 != 0 }

    @inline(__always)
    mutating func insert(_ slot: Int) { words[slot >> 6] |= 1 << UInt64(slot & 63) }

    mutating func insert<S: Sequence>(contentsOf slots: S) where S.Element == UInt32 {
        words.withUnsafeMutableBufferPointer { w in
            for slot in slots { w[Int(slot) >> 6] |= 1 << UInt64(slot & 63) }
        }
    }

    mutating func formIntersection(_ other: SlotBitset) {
        for i in words.indices { words[i] &= other.words[i] }
    }

    mutating func formUnion(_ other: SlotBitset) {
        for i in words.indices { words[i] |= other.words[i] }
    }

    mutating func invert() {
        for i in words.indices { words[i] = ~words[i] }
        clearTail()
    }

    private mutating func clearTail() {
        let extra = words.count * 64 - slotCount
        if extra > 0 { words[words.count - 1] &= ~0 >> UInt64(extra) }
    }

    /// Calls `body` with the set slots in ascending order, in batches of at most `batch`,
    /// written into `buffer`.
    func forEachBatch(
        into buffer: UnsafeMutablePointer<UInt32>, batch: Int, _ body: (_ slots: UnsafePointer<UInt32>, _ count: Int) -> Void
    ) {
        words.withUnsafeBufferPointer { forEachSetBit(in: $0, batch: batch, into: buffer, body) }
    }
}
