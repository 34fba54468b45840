import CVectorKernels

// Searching one layer of the graph: greedy descent through the upper levels and the best-first
// layer search (the paper's algorithm 2), shared by queries and inserts.
extension HNSWIndex {
    /// Internal distance, smaller is closer: squared L2, or the negated inner product.
    @inline(__always)
    func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
        kernels.distance(metric, a, b, dimension)
    }

    /// Scores float32 rows: inserts, and every walk of a float32 index.
    var exactScorer: SlotScorer { SlotScorer(metric: metric, dimension: dimension, kernels: kernels, rows: store.base) }

    /// Walks down from `top` to `target + 1`, on each level moving to the closest neighbour until
    /// none is closer. `locking` is true while a parallel build may be writing links.
    func descend(
        _ query: UnsafePointer<Float>, from entry: Int, distance entryDistance: Float,
        top: Int, target: Int, locking: Bool, excluding: Int = -1, scorer: SlotScorer, context: HNSWSearchContext
    ) -> (slot: Int, distance: Float) {
        let pending = context.pending, distances = context.pendingDistances
        var current = entry, currentDistance = entryDistance
        var level = top
        while level > target {
            var changed = true
            while changed {
                changed = false
                let count = readLinks(current, level: level, locking: locking, into: context)
                var n = 0
                for j in 0..<count where Int(context.linkCopy[j]) != excluding {
                    pending[n] = context.linkCopy[j]
                    n &+= 1
                }
                scorer.distances(query, picking: pending, n, into: distances)
                for j in 0..<n where distances[j] < currentDistance {
                    current = Int(pending[j])
                    currentDistance = distances[j]
                    changed = true
                }
            }
            level -= 1
        }
        return (current, currentDistance)
    }

    /// Copies the links of `slot` at `level` into `context.linkCopy` (under the node's lock when
    /// `locking`) and returns their number.
    @inline(__always)
    func readLinks(_ slot: Int, level: Int, locking: Bool, into context: HNSWSearchContext) -> Int {
        if locking { graph.lock(slot) }
        let list = graph.links(slot, level: level)
        let count = Int(list[0])
        context.linkCopy.update(from: list + 1, count: count)
        if locking { graph.unlock(slot) }
        return count
    }

    /// Best-first search of one level from `entry`: leaves up to `ef` of the closest non-removed
    /// nodes in `context.results` (a max-heap, worst on top).
    /// `excluding` is the node being inserted: a reused slot can be reached through links other
    /// nodes kept to it, and must not become its own neighbour.
    /// With `filter` (a bitset over slots, removed ones clear), every node still routes the walk
    /// but only those in the filter enter the results; the walk gives up, returning false, once
    /// it has scored more than `budget` nodes.
    ///
    /// The hot loop works on local copies of the context's heaps and of every buffer pointer:
    /// class properties would cost a dynamic exclusivity check on each access.
    @discardableResult
    func searchLayer(
        _ query: UnsafePointer<Float>, entry: Int, distance entryDistance: Float, ef: Int, level: Int,
        locking: Bool, excluding: Int = -1, filter: UnsafePointer<UInt64>? = nil, budget: Int = .max,
        scorer: SlotScorer, context: HNSWSearchContext
    ) -> Bool {
        context.beginSearch(slots: store.count)
        let tags = context.visitedTags, generation = context.generation
        var frontier = context.frontier, results = context.results
        defer {
            context.frontier = frontier
            context.results = results
        }
        let pending = context.pending, pendingDistances = context.pendingDistances, linkCopy = context.linkCopy
        let deleted = UnsafePointer(graph.deleted)
        let level0 = graph.level0, level0Stride = graph.level0Stride
        let anyDeleted = !freeSlots.isEmpty || graph.hasDeleted
        let maxLinks = level == 0 ? graph.m0 : graph.m, slotCount = UInt32(truncatingIfNeeded: store.count)
        @inline(__always) func admits(_ slot: Int) -> Bool {
            if let filter { return filter[slot >> 6] >> UInt64(slot & 63) & 1 != 0 }
            return !anyDeleted || deleted[slot] == 0
        }
        var scored = 0

        if excluding >= 0 { tags[excluding] = generation }
        tags[entry] = generation
        frontier.push(Candidate(distance: entryDistance, slot: UInt32(entry)))
        if admits(entry) { results.push(Candidate(distance: entryDistance, slot: UInt32(entry))) }
        var worst = results.isEmpty ? Float.infinity : results.top.distance
        while !frontier.isEmpty {
            let closest = frontier.top
            if closest.distance > worst && results.count >= ef { break }
            frontier.pop()
            let node = Int(closest.slot)
            if !frontier.isEmpty {
                let next = Int(frontier.top.slot)
                vs_prefetch(level == 0 ? level0 + next &* level0Stride : graph.links(next, level: level))
            }
            let list = level == 0 ? level0 + node &* level0Stride : graph.links(node, level: level)
            if locking { graph.lock(node) }
            // Bounded: a memory-mapped file's level-0 lists are not checked when it opens, and
            // a damaged one must not lead the walk outside the graph.
            let count = min(Int(list[0]), maxLinks)
            linkCopy.update(from: list + 1, count: count)
            if locking { graph.unlock(node) }
            // Gather the unvisited neighbours, then score them together: the gather kernel keeps
            // several vectors' loads in flight, so their cache misses overlap.
            // Branch-free, so the visited-tag loads (random, often cache misses) overlap instead of
            // waiting on one mispredicted branch after another. A link out of range becomes the
            // node itself, already visited.
            var waiting = 0
            for j in 0..<count {
                let neighbour = linkCopy[j] < slotCount ? linkCopy[j] : closest.slot
                let seen = tags[Int(neighbour)] == generation
                tags[Int(neighbour)] = generation
                pending[waiting] = neighbour
                waiting &+= seen ? 0 : 1
            }
            if waiting == 0 { continue }
            scored &+= waiting
            if scored > budget { return false }
            for j in 0..<waiting { vs_prefetch(scorer.address(of: Int(pending[j]))) }
            scorer.distances(query, picking: pending, waiting, into: pendingDistances)
            for j in 0..<waiting {
                let d = pendingDistances[j]
                guard results.count < ef || d < worst else { continue }
                let neighbour = pending[j]
                frontier.push(Candidate(distance: d, slot: neighbour))
                if admits(Int(neighbour)) {
                    results.push(Candidate(distance: d, slot: neighbour))
                    if results.count > ef { results.pop() }
                    worst = results.top.distance
                }
            }
        }
        return true
    }
}
