import CVectorKernels

/// The lists of an IVF index. List `l` keeps its vectors in one 64-byte-aligned block, rows
/// contiguous (what the one-to-many kernels and sgemm read), and the slot of each row right
/// after them in the same allocation, so a scan touches one region per list.
///
/// A build (the first add) and a load lay every list out in one arena, back to back, on huge
/// pages when large: a query then streams its lists with few TLB misses. A list that outgrows
/// its place in the arena moves to a block of its own.
///
/// Per-list pointers and counts live in fixed buffers (`let`), so the hot loop reads them with
/// no array bounds or exclusivity checks and no reference counting.
final class InvertedLists {
    let dimension: Int
    let listCount: Int
    /// Rows of list `l`, `counts[l]` of them (nil while the list has never held a vector).
    let vectors: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    /// Slot of each row of list `l`.
    let slots: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>
    let counts: UnsafeMutablePointer<Int>
    private let capacities: UnsafeMutablePointer<Int>
    /// Whether list `l` has a block of its own (else it lives in the arena, or nowhere yet).
    private let ownsBlock: UnsafeMutablePointer<Bool>
    private var arena: UnsafeMutableRawPointer?
    private var arenaBytes = 0

    init(listCount: Int, dimension: Int) {
        self.listCount = listCount
        self.dimension = dimension
        vectors = .allocate(capacity: max(listCount, 1))
        vectors.initialize(repeating: nil, count: max(listCount, 1))
        slots = .allocate(capacity: max(listCount, 1))
        slots.initialize(repeating: nil, count: max(listCount, 1))
        counts = .allocate(capacity: max(listCount, 1))
        counts.initialize(repeating: 0, count: max(listCount, 1))
        capacities = .allocate(capacity: max(listCount, 1))
        capacities.initialize(repeating: 0, count: max(listCount, 1))
        ownsBlock = .allocate(capacity: max(listCount, 1))
        ownsBlock.initialize(repeating: false, count: max(listCount, 1))
    }

    deinit {
        for l in 0..<listCount where ownsBlock[l] { vs_free_large(vectors[l]) }
        vs_free_large(arena)
        vectors.deallocate()
        slots.deallocate()
        counts.deallocate()
        capacities.deallocate()
        ownsBlock.deallocate()
    }

    /// Bytes of one list's region for `rows` rows: vectors (64-byte aligned), then slots.
    private func regionBytes(rows: Int) -> (vectors: Int, total: Int) {
        let vectorBytes = (rows * dimension * 4 + 63) / 64 * 64
        return (vectorBytes, (vectorBytes + rows * 4 + 63) / 64 * 64)
    }

    /// Places every list in one arena with room for exactly `rows[l]` rows; all lists must be empty.
    func layOut(rows: [Int]) {
        precondition(rows.count == listCount && totalCount == 0 && arena == nil)
        let total = rows.reduce(0) { $0 + regionBytes(rows: $1).total }
        guard total > 0, let block = vs_alloc_large(total) else {
            if total > 0 { fatalError("out of memory allocating \(total) bytes of inverted lists") }
            return
        }
        arena = block
        arenaBytes = total
        var offset = 0
        for l in 0..<listCount where rows[l] > 0 {
            if ownsBlock[l] { vs_free_large(vectors[l]) }
            ownsBlock[l] = false
            let region = regionBytes(rows: rows[l])
            vectors[l] = (block + offset).bindMemory(to: Float.self, capacity: rows[l] * dimension)
            slots[l] = (block + offset + region.vectors).bindMemory(to: UInt32.self, capacity: rows[l])
            capacities[l] = rows[l]
            offset += region.total
        }
    }

    /// Total rows over all lists.
    var totalCount: Int { (0..<listCount).reduce(0) { $0 + counts[$1] } }

    /// Bytes allocated for rows and slots (including spare capacity) and the per-list tables.
    var byteCount: Int {
        (0..<listCount).reduce(arenaBytes) { $0 + (ownsBlock[$1] ? regionBytes(rows: capacities[$1]).total : 0) } + listCount * 41
    }

    /// Rows list `l` holds without moving.
    func capacity(_ l: Int) -> Int { capacities[l] }

    /// Makes room for at least `rows` rows in list `l`.
    func reserve(_ l: Int, rows: Int) {
        guard rows > capacities[l] else { return }
        let region = regionBytes(rows: rows)
        guard let block = vs_alloc_large(region.total) else {
            fatalError("out of memory allocating an inverted list of \(rows) rows")
        }
        let newVectors = block.bindMemory(to: Float.self, capacity: rows * dimension)
        let newSlots = (block + region.vectors).bindMemory(to: UInt32.self, capacity: rows)
        if let old = vectors[l] {
            newVectors.update(from: old, count: counts[l] * dimension)
            newSlots.update(from: slots[l]!, count: counts[l])
            if ownsBlock[l] { vs_free_large(old) }
        }
        vectors[l] = newVectors
        slots[l] = newSlots
        capacities[l] = rows
        ownsBlock[l] = true
    }

    /// Appends one row to list `l`; returns its position in the list.
    func append(_ l: Int, row: UnsafePointer<Float>, slot: UInt32) -> Int {
        let position = counts[l]
        if position == capacities[l] { reserve(l, rows: max(8, position * 2)) }
        (vectors[l]! + position * dimension).update(from: row, count: dimension)
        slots[l]![position] = slot
        counts[l] = position + 1
        return position
    }

    /// Removes the row at `position` of list `l` by moving the list's last row into it.
    /// Returns the slot of the row that moved (nil when the removed row was the last).
    func removeSwappingLast(_ l: Int, position: Int) -> UInt32? {
        let last = counts[l] - 1
        precondition(position <= last)
        counts[l] = last
        guard position < last else { return nil }
        (vectors[l]! + position * dimension).update(from: vectors[l]! + last * dimension, count: dimension)
        slots[l]![position] = slots[l]![last]
        return slots[l]![position]
    }
}
