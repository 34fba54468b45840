/// A candidate during graph search: internal distance (smaller is closer) and slot.
struct Candidate {
    var distance: Float
    var slot: UInt32
}

/// Which candidate a heap keeps at its root, fixed at compile time so comparisons inline.
protocol HeapOrder {
    static func above(_ a: Float, _ b: Float) -> Bool
}

/// The closest candidate on top: the frontier of a search.
enum NearestFirst: HeapOrder {
    @inline(__always) static func above(_ a: Float, _ b: Float) -> Bool { a < b }
}

/// The farthest candidate on top: the bounded result set, whose worst member is evicted.
enum FarthestFirst: HeapOrder {
    @inline(__always) static func above(_ a: Float, _ b: Float) -> Bool { a > b }
}

/// A binary heap of candidates in a growable unsafe buffer.
struct CandidateHeap<Order: HeapOrder> {
    private(set) var storage: UnsafeMutablePointer<Candidate>
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        storage = .allocate(capacity: self.capacity)
    }

    func deallocate() { storage.deallocate() }

    @inline(__always) mutating func removeAll() { count = 0 }
    @inline(__always) var isEmpty: Bool { count == 0 }
    @inline(__always) var top: Candidate { storage[0] }

    @inline(__always)
    mutating func push(_ element: Candidate) {
        if count == capacity { growStorage() }
        var i = count
        count &+= 1
        while i > 0 {
            let parent = (i &- 1) >> 1
            guard Order.above(element.distance, storage[parent].distance) else { break }
            storage[i] = storage[parent]
            i = parent
        }
        storage[i] = element
    }

    @inline(__always)
    @discardableResult
    mutating func pop() -> Candidate {
        let root = storage[0]
        count &-= 1
        if count > 0 {
            let last = storage[count]
            var i = 0
            while true {
                let left = 2 &* i &+ 1
                if left >= count { break }
                var child = left
                if left &+ 1 < count, Order.above(storage[left &+ 1].distance, storage[left].distance) { child = left &+ 1 }
                guard Order.above(storage[child].distance, last.distance) else { break }
                storage[i] = storage[child]
                i = child
            }
            storage[i] = last
        }
        return root
    }

    private mutating func growStorage() {
        let grown = UnsafeMutablePointer<Candidate>.allocate(capacity: capacity * 2)
        grown.moveInitialize(from: storage, count: count)
        storage.deallocate()
        storage = grown
        capacity *= 2
    }
}

/// Scratch state of one search or insert: a visited set that needs no clearing (a generation
/// tag per slot, bumped per search; cleared only when the tag wraps), the frontier, the results
/// and small buffers. Reused across queries, so a search allocates nothing once warm.
final class HNSWSearchContext {
    private(set) var visitedTags: UnsafeMutablePointer<UInt16>
    private(set) var visitedCapacity: Int
    private(set) var generation: UInt16 = 0
    var frontier = CandidateHeap<NearestFirst>(capacity: 256)
    var results = CandidateHeap<FarthestFirst>(capacity: 256)
    /// Sorted candidates for the neighbour heuristic, and a copy of one node's links.
    var sorted: UnsafeMutablePointer<Candidate>
    var sortedCapacity: Int
    var linkCopy: UnsafeMutablePointer<UInt32>
    /// Neighbours chosen for a new node.
    var chosen: UnsafeMutablePointer<UInt32>
    /// Unvisited neighbours of the node being expanded, whose vectors are being prefetched.
    var pending: UnsafeMutablePointer<UInt32>
    var pendingDistances: UnsafeMutablePointer<Float>
    /// The query quantized to int8 (``QuantizedQuery``), 64-byte aligned.
    let queryCodes: UnsafeMutablePointer<Int8>

    init(slots: Int, maxLinks: Int, dimension: Int) {
        visitedCapacity = max(slots, 1)
        visitedTags = .allocate(capacity: visitedCapacity)
        visitedTags.initialize(repeating: 0, count: visitedCapacity)
        sortedCapacity = 512
        sorted = .allocate(capacity: sortedCapacity)
        linkCopy = .allocate(capacity: maxLinks + 1)
        chosen = .allocate(capacity: maxLinks + 1)
        pending = .allocate(capacity: maxLinks + 1)
        pendingDistances = .allocate(capacity: maxLinks + 1)
        queryCodes = UnsafeMutableRawPointer.allocate(byteCount: QuantizedQuery.bufferSize(dimension), alignment: 64)
            .bindMemory(to: Int8.self, capacity: QuantizedQuery.bufferSize(dimension))
    }

    deinit {
        visitedTags.deallocate()
        frontier.deallocate()
        results.deallocate()
        sorted.deallocate()
        linkCopy.deallocate()
        chosen.deallocate()
        pending.deallocate()
        pendingDistances.deallocate()
        queryCodes.deallocate()
    }

    /// Starts a new search over `slots` slots.
    @inline(__always)
    func beginSearch(slots: Int) {
        if slots > visitedCapacity {
            visitedTags.deallocate()
            visitedCapacity = max(slots, visitedCapacity * 2)
            visitedTags = .allocate(capacity: visitedCapacity)
            visitedTags.initialize(repeating: 0, count: visitedCapacity)
            generation = 0
        }
        generation &+= 1
        if generation == 0 {
            visitedTags.update(repeating: 0, count: visitedCapacity)
            generation = 1
        }
        frontier.removeAll()
        results.removeAll()
    }

    func reserveSorted(_ n: Int) {
        guard n > sortedCapacity else { return }
        sorted.deallocate()
        sortedCapacity = max(n, sortedCapacity * 2)
        sorted = .allocate(capacity: sortedCapacity)
    }
}

extension HNSWIndex {
    /// Runs `body` with a search context from the index's pool (its visited set grows with the
    /// index as needed).
    @inline(__always)
    func withSearchContext<R>(_ body: (HNSWSearchContext) -> R) -> R {
        pool.withContext(make: { HNSWSearchContext(slots: store.count, maxLinks: graph.m0, dimension: dimension) }, body)
    }
}
