extension HNSWIndex {
    @discardableResult
    public func remove(ids: [VectorID]) -> Int {
        lock.withWriteLock {
            var removed = 0
            for id in ids {
                guard let slot = idMap.removeKeepingSlot(id) else { continue }
                graph.setDeleted(slot, true)
                freeSlots.append(slot)
                removed += 1
            }
            return removed
        }
    }

    public func search(
        _ query: UnsafeBufferPointer<Float>, k: Int, parameters: HNSWSearchParameters = .default,
        into results: UnsafeMutableBufferPointer<Neighbor>
    ) throws -> Int {
        try VectorValidation.checkQuery(query, dimension: dimension, metric: metric, k: k, results: results)
        return lock.withReadLock {
            searchLocked(query.baseAddress!, k: k, ef: parameters.ef, into: results.baseAddress!)
        }
    }

    public func search(
        batch queries: VectorMatrix, k: Int, parameters: HNSWSearchParameters = .default, threads: Int? = nil
    ) throws -> SearchResults {
        try VectorValidation.checkBatch(queries, dimension: dimension, metric: metric, k: k, threads: threads)
        return lock.withReadLock {
            let k = min(k, idMap.mappedCount)
            return SearchResults(k: k, queries: queries) { q, slots, counts in
                let q = UnsafeSendable(q), slots = UnsafeSendable(slots), counts = UnsafeSendable(counts)
                Parallel.forEachChunk(count: queries.count, workers: threads ?? Parallel.coreCount) { _, range in
                    for i in range {
                        counts.value[i] = searchLocked(q.value + i * dimension, k: k, ef: parameters.ef, into: slots.value + i * k)
                    }
                }
            }
        }
    }

    /// One query with the read lock held: descend the upper levels greedily, search level 0 with
    /// ef = max(ef, k), return the k best, ties ordered by id.
    private func searchLocked(_ query: UnsafePointer<Float>, k: Int, ef: Int, into out: UnsafeMutablePointer<Neighbor>) -> Int {
        guard k > 0, entryPoint >= 0, idMap.mappedCount > 0 else { return 0 }
        return pool.withContext(slots: store.count) { context in
            let start = descend(
                query, from: entryPoint, distance: distance(query, store.row(entryPoint)),
                top: maxLevel, target: 0, locking: false, context: context)
            searchLayer(query, entry: start.slot, distance: start.distance, ef: max(ef, k), level: 0,
                        locking: false, context: context)
            while context.results.count > k { context.results.pop() }
            let found = context.results.count
            var i = found
            while i > 0 {
                i -= 1
                let c = context.results.pop()
                out[i] = Neighbor(id: idMap.ids[Int(c.slot)], score: c.distance)
            }
            // Equal distances in id order, as every index reports them.
            for i in 1..<max(found, 1) {
                let item = out[i]
                var j = i
                while j > 0, out[j - 1].score == item.score, out[j - 1].id > item.id {
                    out[j] = out[j - 1]
                    j -= 1
                }
                out[j] = item
            }
            metric.convertToScores(out, count: found, query: query, dimension: dimension, kernels: kernels)
            return found
        }
    }
}

extension HNSWIndex {
    /// The `k` nearest neighbours of `query`, best first, with search parameters.
    public func search(_ query: [Float], k: Int, ef: Int = HNSWSearchParameters.default.ef) throws -> [Neighbor] {
        try search(query, k: k, parameters: HNSWSearchParameters(ef: ef))
    }
}
