/// External ids (``VectorID``, chosen by the caller) to internal slots (row numbers) and back.
/// Slots never cross the public API.
struct IDMap {
    /// The id stored in each slot.
    private(set) var ids: [VectorID] = []
    private var slots: [VectorID: Int] = [:]
    /// While every slot holds its own number as id (automatic ids 0, 1, 2, …, nothing removed:
    /// the usual index built from a file), `slots` stays empty and a slot is its id, so a
    /// million ids load without a million hash inserts. The first other change builds `slots`.
    private var isIdentity = true
    /// One past the largest id ever stored: where automatic ids continue.
    private(set) var nextAutomaticID: VectorID = 0

    init() {}

    /// The map of a saved index: slot `i` holds `ids[i]`, mapped unless `removed[i]` is nonzero.
    /// Duplicate live ids are an error made by `invalid`.
    init(ids: [VectorID], removed: UnsafeBufferPointer<UInt8>? = nil, invalid: (String) -> Error) throws {
        let anyRemoved = removed?.contains { $0 != 0 } ?? false
        if !anyRemoved, ids.indices.allSatisfy({ ids[$0] == VectorID($0) }) {
            self.ids = ids
            nextAutomaticID = VectorID(ids.count)
            return
        }
        isIdentity = false
        self.ids.reserveCapacity(ids.count)
        slots.reserveCapacity(ids.count)
        for (slot, id) in ids.enumerated() {
            if let removed, removed[slot] != 0 {
                appendUnmapped(id)
            } else {
                guard slots.updateValue(slot, forKey: id) == nil else { throw invalid("duplicate ids") }
                self.ids.append(id)
                noteID(id)
            }
        }
    }

    var count: Int { ids.count }

    @inline(__always)
    func slot(of id: VectorID) -> Int? {
        isIdentity ? (id < VectorID(ids.count) ? Int(id) : nil) : slots[id]
    }

    func contains(_ id: VectorID) -> Bool { slot(of: id) != nil }

    mutating func reserve(_ n: Int) {
        ids.reserveCapacity(n)
        if !isIdentity { slots.reserveCapacity(n) }
    }

    /// Builds `slots` before a change that breaks slot == id.
    private mutating func leaveIdentity() {
        guard isIdentity else { return }
        isIdentity = false
        slots.reserveCapacity(ids.count)
        for (slot, id) in ids.enumerated() { slots[id] = slot }
    }

    mutating func append(_ id: VectorID) {
        if !(isIdentity && id == VectorID(ids.count)) {
            leaveIdentity()
            slots[id] = ids.count
        }
        ids.append(id)
        noteID(id)
    }

    /// `count` ids continuing after the largest id stored so far (0, 1, 2, … for a new index),
    /// so a file's rows get their row numbers; the one rule every index's automatic ids follow.
    func automaticIDs(_ count: Int) throws -> Range<VectorID> {
        let first = nextAutomaticID
        guard count >= 0, UInt64(count) <= VectorID.max - first else {
            throw VectorSearchError.invalidArgument("automatic ids would pass \(VectorID.max): give ids explicitly")
        }
        return first..<(first + VectorID(count))
    }

    /// Continues automatic ids at `next` at the earliest (a saved index's, which may be past
    /// the ids it still holds).
    mutating func continueAutomaticIDs(at next: VectorID) { nextAutomaticID = max(nextAutomaticID, next) }

    private mutating func noteID(_ id: VectorID) {
        if id >= nextAutomaticID { nextAutomaticID = id == .max ? .max : id + 1 }
    }

    /// Removes the id in `slot`, moving the last slot's id into it (as ``VectorStore`` does).
    mutating func removeSwappingLast(_ slot: Int) {
        leaveIdentity()
        slots[ids[slot]] = nil
        let last = ids.removeLast()
        if slot < ids.count {
            ids[slot] = last
            slots[last] = slot
        }
    }

    /// Gives `slot` (an existing slot, or the next new one) the id `id`.
    mutating func assign(_ id: VectorID, to slot: Int) {
        if isIdentity, slot == ids.count, id == VectorID(slot) {
            append(id)
            return
        }
        leaveIdentity()
        if slot == ids.count { ids.append(id) } else { ids[slot] = id }
        slots[id] = slot
        noteID(id)
    }

    /// Appends a slot whose id is recorded but not mapped (a removed slot read from a file).
    mutating func appendUnmapped(_ id: VectorID) {
        leaveIdentity()
        ids.append(id)
        noteID(id)
    }

    /// Forgets `id` but leaves its slot in place (for indexes whose slots never move);
    /// returns the slot it had.
    mutating func removeKeepingSlot(_ id: VectorID) -> Int? {
        leaveIdentity()
        return slots.removeValue(forKey: id)
    }

    /// Number of ids currently mapped (slots may outnumber them when slots are kept).
    var mappedCount: Int { isIdentity ? ids.count : slots.count }

    /// The loop of every index's `remove(ids:)`: `remove(slot)` for each of `ids` that `slot(id)`
    /// finds (asked afresh for each id: a removal may move slots); returns how many there were.
    static func removeEach(_ ids: [VectorID], slot: (VectorID) -> Int?, _ remove: (Int) -> Void) -> Int {
        var removed = 0
        for id in ids {
            guard let found = slot(id) else { continue }
            remove(found)
            removed += 1
        }
        return removed
    }

    /// Approximate bytes held by the map.
    var byteCount: Int { ids.capacity * 8 + slots.capacity * 24 }
}
