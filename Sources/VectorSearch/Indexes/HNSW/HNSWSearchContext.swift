/// A candidate during graph search: internal distance (smaller is closer) and slot.
struct Candidate {
    var distance: Float
    var slot: UInt32
}

/// A binary heap of candidates in a growable unsafe buffer. `MaxHeap` keeps the worst at the
/// root (the bounded result set); `!MaxHeap` keeps the best at the root (the frontier).
struct CandidateHeap {
    private(set) var storage: UnsafeMutablePointer<Candidate>
    private(set) var capacity: Int
    private(set) var count = 0
    let isMaxHeap: Bool

    init(capacity: Int, isMaxHeap: Bool) {
        self.capacity = max(capacity, 16)
        storage = .allocate(capacity: self.capacity)
        self.isMaxHeap = isMaxHeap
    }

    func deallocate() { storage.deallocate() }

    @inline(__always) mutating func removeAll() { count = 0 }
    @inline(__always) var isEmpty: Bool { count == 0 }
    @inline(__always) var top: Candidate { storage[0] }

    @inline(__always)
    private func above(_ a: Candidate, _ b: Candidate) -> Bool {
        isMaxHeap ? a.distance > b.distance : a.distance < b.distance
    }

    @inline(__always)
    mutating func push(_ element: Candidate) {
        if count == capacity { growStorage() }
        var i = count
        count &+= 1
        while i > 0 {
            let parent = (i &- 1) >> 1
            guard above(element, storage[parent]) else { break }
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
                if left &+ 1 < count, above(storage[left &+ 1], storage[left]) { child = left &+ 1 }
                guard above(storage[child], last) else { break }
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
    var frontier = CandidateHeap(capacity: 256, isMaxHeap: false)
    var results = CandidateHeap(capacity: 256, isMaxHeap: true)
    /// Sorted candidates for the neighbour heuristic, and a copy of one node's links.
    var sorted: UnsafeMutablePointer<Candidate>
    var sortedCapacity: Int
    var linkCopy: UnsafeMutablePointer<UInt32>
    /// Neighbours chosen for a new node.
    var chosen: UnsafeMutablePointer<UInt32>
    /// Unvisited neighbours of the node being expanded, whose vectors are being prefetched.
    var pending: UnsafeMutablePointer<UInt32>
    var pendingDistances: UnsafeMutablePointer<Float>

    init(slots: Int, maxLinks: Int) {
        visitedCapacity = max(slots, 1)
        visitedTags = .allocate(capacity: visitedCapacity)
        visitedTags.initialize(repeating: 0, count: visitedCapacity)
        sortedCapacity = 512
        sorted = .allocate(capacity: sortedCapacity)
        linkCopy = .allocate(capacity: maxLinks + 1)
        chosen = .allocate(capacity: maxLinks + 1)
        pending = .allocate(capacity: maxLinks + 1)
        pendingDistances = .allocate(capacity: maxLinks + 1)
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

    /// Marks `slot` visited; returns whether it was already.
    @inline(__always)
    func visit(_ slot: Int) -> Bool {
        if visitedTags[slot] == generation { return true }
        visitedTags[slot] = generation
        return false
    }

    func reserveSorted(_ n: Int) {
        guard n > sortedCapacity else { return }
        sorted.deallocate()
        sortedCapacity = max(n, sortedCapacity * 2)
        sorted = .allocate(capacity: sortedCapacity)
    }
}

/// Contexts for concurrent searches: taken for one query, given back after.
final class HNSWContextPool: @unchecked Sendable {
    private let lock = Lock()
    private var free: [HNSWSearchContext] = []
    private let maxLinks: Int

    init(maxLinks: Int) { self.maxLinks = maxLinks }

    func withContext<R>(slots: Int, _ body: (HNSWSearchContext) throws -> R) rethrows -> R {
        let context = lock.withLock { free.popLast() } ?? HNSWSearchContext(slots: slots, maxLinks: maxLinks)
        defer { lock.withLock { free.append(context) } }
        return try body(context)
    }
}
