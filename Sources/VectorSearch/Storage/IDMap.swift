/// External ids (``VectorID``, chosen by the caller) to internal slots (row numbers) and back.
/// Slots never cross the public API.
struct IDMap {
    /// The id stored in each slot.
    private(set) var ids: [VectorID] = []
    private var slots: [VectorID: Int] = [:]

    var count: Int { ids.count }

    func slot(of id: VectorID) -> Int? { slots[id] }

    func contains(_ id: VectorID) -> Bool { slots[id] != nil }

    mutating func reserve(_ n: Int) {
        ids.reserveCapacity(n)
        slots.reserveCapacity(n)
    }

    mutating func append(_ id: VectorID) {
        slots[id] = ids.count
        ids.append(id)
    }

    /// Removes the id in `slot`, moving the last slot's id into it (as ``VectorStore`` does).
    mutating func removeSwappingLast(_ slot: Int) {
        slots[ids[slot]] = nil
        let last = ids.removeLast()
        if slot < ids.count {
            ids[slot] = last
            slots[last] = slot
        }
    }

    /// Gives `slot` (an existing slot, or the next new one) the id `id`.
    mutating func assign(_ id: VectorID, to slot: Int) {
        if slot == ids.count { ids.append(id) } else { ids[slot] = id }
        slots[id] = slot
    }

    /// Appends a slot whose id is recorded but not mapped (a removed slot read from a file).
    mutating func appendUnmapped(_ id: VectorID) { ids.append(id) }

    /// Forgets `id` but leaves its slot in place (for indexes whose slots never move);
    /// returns the slot it had.
    mutating func removeKeepingSlot(_ id: VectorID) -> Int? {
        slots.removeValue(forKey: id)
    }

    /// Number of ids currently mapped (slots may outnumber them when slots are kept).
    var mappedCount: Int { slots.count }

    /// Approximate bytes held by the map.
    var byteCount: Int { ids.capacity * 8 + slots.capacity * 24 }
}
