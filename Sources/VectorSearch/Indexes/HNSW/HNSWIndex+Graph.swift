import CVectorKernels

// The HNSW algorithms: greedy descent, the layer search (the paper's algorithm 2), neighbour
// selection by the heuristic (algorithm 4) and insertion (algorithm 1).
extension HNSWIndex {
    /// Internal distance, smaller is closer: squared L2, or the negated inner product.
    @inline(__always)
    func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
        metric == .l2 ? kernels.l2Squared(a, b, dimension) : -kernels.dot(a, b, dimension)
    }

    /// Walks down from `top` to `target + 1`, on each level moving to the closest neighbour until
    /// none is closer. `locking` is true while a parallel build may be writing links.
    func descend(
        _ query: UnsafePointer<Float>, from entry: Int, distance entryDistance: Float,
        top: Int, target: Int, locking: Bool, excluding: Int = -1, context: HNSWSearchContext
    ) -> (slot: Int, distance: Float) {
        let pending = context.pending, distances = context.pendingDistances
        let base = UnsafePointer(store.base)
        let gather = metric == .l2 ? kernels.l2SquaredGather : kernels.dotGather
        let sign: Float = metric == .l2 ? 1 : -1
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
                gather(query, base, pending, n, dimension, distances)
                for j in 0..<n where sign * distances[j] < currentDistance {
                    current = Int(pending[j])
                    currentDistance = sign * distances[j]
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
        context: HNSWSearchContext
    ) -> Bool {
        context.beginSearch(slots: store.count)
        let tags = context.visitedTags, generation = context.generation
        var frontier = context.frontier, results = context.results
        defer {
            context.frontier = frontier
            context.results = results
        }
        let pending = context.pending, pendingDistances = context.pendingDistances, linkCopy = context.linkCopy
        let base = UnsafePointer(store.base), deleted = UnsafePointer(graph.deleted)
        let level0 = graph.level0, level0Stride = graph.level0Stride, dimension = dimension
        let gather = metric == .l2 ? kernels.l2SquaredGather : kernels.dotGather
        let sign: Float = metric == .l2 ? 1 : -1  // dot products become distances by negation
        let anyDeleted = !freeSlots.isEmpty || graph.hasDeleted
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
            let count = Int(list[0])
            linkCopy.update(from: list + 1, count: count)
            if locking { graph.unlock(node) }
            // Gather the unvisited neighbours, then score them together: the gather kernel keeps
            // several vectors' loads in flight, so their cache misses overlap.
            // Branch-free, so the visited-tag loads (random, often cache misses) overlap instead of
            // waiting on one mispredicted branch after another.
            var waiting = 0
            for j in 0..<count {
                let neighbour = linkCopy[j]
                let seen = tags[Int(neighbour)] == generation
                tags[Int(neighbour)] = generation
                pending[waiting] = neighbour
                waiting &+= seen ? 0 : 1
            }
            if waiting == 0 { continue }
            scored &+= waiting
            if scored > budget { return false }
            for j in 0..<waiting { vs_prefetch(base + Int(pending[j]) &* dimension) }
            gather(query, base, pending, waiting, dimension, pendingDistances)
            for j in 0..<waiting {
                let d = sign * pendingDistances[j]
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

    /// Moves `context.results` into `context.sorted`, closest first; returns the count.
    func drainResultsSorted(_ context: HNSWSearchContext) -> Int {
        let n = context.results.count
        context.reserveSorted(n + 1)
        var i = n
        while i > 0 {
            i -= 1
            context.sorted[i] = context.results.pop()
        }
        return n
    }

    /// The paper's heuristic: walking `count` candidates closest first (in `context.sorted`),
    /// keep one only if it is closer to the base than to every one kept so far, so links spread
    /// in different directions. With keep-pruned, free places go to the closest rejected ones.
    /// Writes up to `maxCount` slots to `out`; returns how many.
    func selectNeighbours(count: Int, maxCount: Int, context: HNSWSearchContext, into out: UnsafeMutablePointer<UInt32>) -> Int {
        let candidates = context.sorted
        if count <= maxCount {
            for i in 0..<count { out[i] = candidates[i].slot }
            return count
        }
        var selected = 0, pruned = 0
        for i in 0..<count {
            let candidate = candidates[i]
            let row = store.row(Int(candidate.slot))
            var good = true
            for r in 0..<selected where distance(row, store.row(Int(out[r]))) < candidate.distance {
                good = false
                break
            }
            if good {
                out[selected] = candidate.slot
                selected += 1
                if selected == maxCount { return selected }
            } else {
                candidates[pruned] = candidate  // pruned ≤ i: compacting in place is safe
                pruned += 1
            }
        }
        if parameters.keepPrunedConnections {
            var i = 0
            while selected < maxCount, i < pruned {
                out[selected] = candidates[i].slot
                selected += 1
                i += 1
            }
        }
        return selected
    }

    /// Inserts one node whose vector, level and empty lists are in place.
    func insert(slot: Int, context: HNSWSearchContext) {
        let query = UnsafePointer(store.row(slot))
        let level = Int(graph.levels[slot])
        entryLock.acquire()
        let entry = entryPoint, top = maxLevel
        if entry < 0 {
            entryPoint = slot
            maxLevel = level
            entryLock.release()
            return
        }
        // A node above the current top becomes the entry point: keep others out until it is linked.
        let raisesTop = level > top
        if !raisesTop { entryLock.release() }
        var current = entry
        var currentDistance = distance(query, store.row(entry))
        if top > level {
            (current, currentDistance) = descend(
                query, from: current, distance: currentDistance, top: top, target: level, locking: true, excluding: slot,
                context: context)
        }
        for l in stride(from: min(level, top), through: 0, by: -1) {
            searchLayer(query, entry: current, distance: currentDistance, ef: parameters.efConstruction, level: l,
                        locking: true, excluding: slot, context: context)
            let found = drainResultsSorted(context)
            guard found > 0 else { continue }  // every node it saw is removed: no links here
            let next = context.sorted[0]
            let chosen = selectNeighbours(count: found, maxCount: parameters.m, context: context, into: context.chosen)
            graph.lock(slot)
            let list = graph.links(slot, level: l)
            list.advanced(by: 1).update(from: context.chosen, count: chosen)
            list[0] = UInt32(chosen)
            graph.unlock(slot)
            for i in 0..<chosen { connect(Int(context.chosen[i]), to: slot, level: l, context: context) }
            current = Int(next.slot)
            currentDistance = next.distance
        }
        if raisesTop {
            entryPoint = slot
            maxLevel = level
            entryLock.release()
        }
    }

    /// Insertion sort by distance: lists here hold at most a few dozen candidates.
    func sortCandidates(_ candidates: UnsafeMutablePointer<Candidate>, count: Int) {
        guard count > 1 else { return }
        for i in 1..<count {
            let item = candidates[i]
            var j = i
            while j > 0 && candidates[j - 1].distance > item.distance {
                candidates[j] = candidates[j - 1]
                j -= 1
            }
            candidates[j] = item
        }
    }

    /// Adds a link neighbour → newNode; a full list is re-chosen by the heuristic.
    private func connect(_ neighbour: Int, to newNode: Int, level: Int, context: HNSWSearchContext) {
        let maxLinks = level == 0 ? graph.m0 : graph.m
        graph.lock(neighbour)
        defer { graph.unlock(neighbour) }
        let list = graph.links(neighbour, level: level)
        let count = Int(list[0])
        if count < maxLinks {
            list[count + 1] = UInt32(newNode)
            list[0] = UInt32(count + 1)
            return
        }
        let base = UnsafePointer(store.row(neighbour))
        context.reserveSorted(count + 1)
        let candidates = context.sorted
        for i in 0..<count { candidates[i] = Candidate(distance: distance(base, store.row(Int(list[i + 1]))), slot: list[i + 1]) }
        candidates[count] = Candidate(distance: distance(base, store.row(newNode)), slot: UInt32(newNode))
        sortCandidates(candidates, count: count + 1)
        let kept = selectNeighbours(count: count + 1, maxCount: maxLinks, context: context, into: list + 1)
        list[0] = UInt32(kept)
    }
}
