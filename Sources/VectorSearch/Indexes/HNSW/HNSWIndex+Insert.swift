import CVectorKernels

// Linking a new node into the graph: neighbour selection by the heuristic (the paper's
// algorithm 4) and insertion (algorithm 1).
extension HNSWIndex {
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
        let scorer = exactScorer  // the graph is built on float32 rows, whatever the storage
        if top > level {
            (current, currentDistance) = descend(
                query, from: current, distance: currentDistance, top: top, target: level, locking: true, excluding: slot,
                scorer: scorer, context: context)
        }
        for l in stride(from: min(level, top), through: 0, by: -1) {
            searchLayer(
                query, entry: current, distance: currentDistance, ef: parameters.efConstruction, level: l,
                locking: true, excluding: slot, scorer: scorer, context: context)
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

    /// Links in the nodes that no level-0 path from the entry point reaches. Parallel insertion
    /// leaves a few (4–7 of 2,000 clustered nodes with 2 threads, none with 1): two nodes linked
    /// at the same moment do not see each other, and the heuristic may then drop each from the
    /// lists of the neighbours they share. Such a node is added to the lists of its nearest
    /// reachable nodes that have room; when none has, it takes the place of the farthest link of
    /// the nearest one whose target some other list also holds. Called with the write lock held.
    func linkUnreachableNodes(context: HNSWSearchContext) {
        let slots = store.count
        guard entryPoint >= 0, slots > 1 else { return }
        var reached = [Bool](repeating: false, count: slots)
        var stack: [Int] = []
        func reach(from start: Int) {
            reached[start] = true
            stack.append(start)
            while let node = stack.popLast() {
                let list = graph.links(node, level: 0)
                for j in 0..<Int(list[0]) where !reached[Int(list[j + 1])] {
                    reached[Int(list[j + 1])] = true
                    stack.append(Int(list[j + 1]))
                }
            }
        }
        reach(from: entryPoint)
        guard let firstUnreached = reached.indices.first(where: { !reached[$0] && graph.deleted[$0] == 0 }) else { return }
        // Links into each node, counted only when some node needs linking in (rarely).
        var inbound = [UInt32](repeating: 0, count: slots)
        for slot in 0..<slots {
            let list = graph.links(slot, level: 0)
            for j in 0..<Int(list[0]) { inbound[Int(list[j + 1])] &+= 1 }
        }
        let wanted = max(1, parameters.m / 2)
        for slot in firstUnreached..<slots where !reached[slot] && graph.deleted[slot] == 0 {
            let query = UnsafePointer(store.row(slot))
            var current = entryPoint
            var currentDistance = distance(query, store.row(current))
            if maxLevel > 0 {
                (current, currentDistance) = descend(
                    query, from: current, distance: currentDistance, top: maxLevel, target: 0, locking: false, excluding: slot,
                    scorer: exactScorer, context: context)
            }
            searchLayer(
                query, entry: current, distance: currentDistance, ef: parameters.efConstruction, level: 0, locking: false,
                excluding: slot, scorer: exactScorer, context: context)
            let found = drainResultsSorted(context)
            var added = 0
            for i in 0..<found where added < wanted {
                let list = graph.links(Int(context.sorted[i].slot), level: 0)
                let count = Int(list[0])
                guard count < graph.m0 else { continue }
                list[count + 1] = UInt32(slot)
                list[0] = UInt32(count + 1)
                added += 1
            }
            if added == 0, found > 0 {
                let nearest = Int(context.sorted[0].slot)
                let list = graph.links(nearest, level: 0)
                var replace = 0, farthest = -Float.infinity
                for j in 1..<(1 + Int(list[0])) where inbound[Int(list[j])] > 1 {
                    let d = distance(store.row(nearest), store.row(Int(list[j])))
                    if d > farthest { (replace, farthest) = (j, d) }
                }
                guard replace > 0 else { continue }
                inbound[Int(list[replace])] -= 1
                list[replace] = UInt32(slot)
                added = 1
            }
            inbound[slot] &+= UInt32(added)
            reach(from: slot)
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
