import Testing
@testable import VectorSearch

@Suite("id map")
struct IDMapTests {
    /// Every slot and id of `map` agree both ways, and no other id is found.
    func expectConsistent(_ map: IDMap, live: [VectorID: Int], _ context: Comment) {
        #expect(map.mappedCount == live.count, context)
        for (id, slot) in live {
            #expect(map.slot(of: id) == slot && map.ids[slot] == id, context)
        }
        for id in [VectorID(map.count), 1_000_000] where live[id] == nil { #expect(!map.contains(id), context) }
    }

    @Test("slot == id needs no dictionary; each change that breaks it keeps every lookup right")
    func identityAndLeavingIt() throws {
        var map = IDMap()
        for id in 0..<5 { map.append(VectorID(id)) }
        expectConsistent(map, live: [0: 0, 1: 1, 2: 2, 3: 3, 4: 4], "automatic ids")
        var appended = map
        appended.append(42)
        expectConsistent(appended, live: [0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 42: 5], "an id past the next")
        #expect(appended.nextAutomaticID == 43)
        var removed = map
        removed.removeSwappingLast(1)
        expectConsistent(removed, live: [0: 0, 4: 1, 2: 2, 3: 3], "removal moves the last id into the hole")
        var kept = map
        #expect(kept.removeKeepingSlot(3) == 3)
        expectConsistent(kept, live: [0: 0, 1: 1, 2: 2, 4: 4], "a slot kept without its id")
        #expect(kept.removeKeepingSlot(3) == nil)
        var reassigned = kept
        reassigned.assign(77, to: 3)
        expectConsistent(reassigned, live: [0: 0, 1: 1, 2: 2, 77: 3, 4: 4], "a kept slot reused")
        var unmapped = map
        unmapped.appendUnmapped(5)
        expectConsistent(unmapped, live: [0: 0, 1: 1, 2: 2, 3: 3, 4: 4], "a removed slot read from a file")
        #expect(unmapped.count == 6 && unmapped.nextAutomaticID == 6)
    }

    @Test("a saved index's ids: identity, arbitrary, removed slots, duplicates refused")
    func fromFile() throws {
        struct Invalid: Error { let reason: String }
        let identity = try IDMap(ids: [0, 1, 2]) { Invalid(reason: $0) }
        expectConsistent(identity, live: [0: 0, 1: 1, 2: 2], "identity")
        #expect(identity.nextAutomaticID == 3)
        let arbitrary = try IDMap(ids: [9, 3, 7]) { Invalid(reason: $0) }
        expectConsistent(arbitrary, live: [9: 0, 3: 1, 7: 2], "arbitrary")
        #expect(arbitrary.nextAutomaticID == 10)
        let flags: [UInt8] = [0, 1, 0]
        let withRemoved = try flags.withUnsafeBufferPointer { try IDMap(ids: [0, 1, 2], removed: $0) { Invalid(reason: $0) } }
        expectConsistent(withRemoved, live: [0: 0, 2: 2], "slot 1 removed")
        #expect(withRemoved.count == 3)
        // A removed slot may repeat a live id (its last, unused id); two live ones may not.
        let reused: [UInt8] = [0, 1]
        #expect(try reused.withUnsafeBufferPointer { try IDMap(ids: [4, 4], removed: $0) { Invalid(reason: $0) } }.slot(of: 4) == 0)
        #expect(throws: Invalid.self) { try IDMap(ids: [4, 5, 4]) { Invalid(reason: $0) } }
    }
}
