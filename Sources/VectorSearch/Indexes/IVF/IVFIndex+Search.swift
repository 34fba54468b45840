// The search entry points and the filter plan; the work is in the coarse quantizer, list scan,
// filtered search and batch search files.
extension IVFIndex {
    /// Rows scored per kernel call in a list scan: the distances stay in L1.
    static let scanChunk = 256

    public func search(
        _ query: UnsafeBufferPointer<Float>, k: Int, parameters: IVFSearchParameters = .default, filter: Filter? = nil,
        into results: UnsafeMutableBufferPointer<Neighbor>
    ) throws -> Int {
        try VectorValidation.checkQuery(query, dimension: dimension, metric: metric, k: k, results: results, parameters: parameters)
        return try lock.withReadLock {
            guard centroids.count > 0 else { throw VectorSearchError.notTrained }
            let (plan, matching) = try planLocked(filter, parameters: parameters)
            return idMap.ids.withUnsafeBufferPointer { ids in
                results.baseAddress!.asCandidates(capacity: results.count) { out in
                    searchByPlan(
                        query.baseAddress!, k: k, nprobe: parameters.nprobe, rerank: parameters.rerank, plan: plan, matching: matching,
                        ids: ids.baseAddress!, into: out)
                }
            }
        }
    }

    public func search(
        batch queries: VectorMatrix, k: Int, parameters: IVFSearchParameters = .default, filter: Filter? = nil, threads: Int? = nil
    ) throws -> SearchResults {
        try VectorValidation.checkBatch(queries, dimension: dimension, metric: metric, k: k, threads: threads, parameters: parameters)
        return try lock.withReadLock {
            guard centroids.count > 0 else { throw VectorSearchError.notTrained }
            let k = min(k, idMap.count)
            let threads = threads ?? Parallel.coreCount
            guard k > 0 else { return SearchResults(k: 0, queries: queries) { _, _, _ in } }
            let (plan, matching) = try planLocked(filter, parameters: parameters)
            // Lists on codes run query by query too (the grouped batch multiplies float32 rows).
            guard plan.strategy != .unfiltered || lists.isCoded else {
                return SearchResults(k: k, queries: queries) { _, out, counts in
                    searchGrouped(queries, k: k, nprobe: parameters.nprobe, threads: threads, out: out, counts: counts)
                }
            }
            // Filtered batches run query by query: each may need a different number of lists.
            return SearchResults(k: k, queries: queries) { q, out, counts in
                let shared = UnsafeSendable((q, out, counts))
                idMap.ids.withUnsafeBufferPointer { ids in
                    let ids = UnsafeSendable(ids.baseAddress!)
                    Parallel.forEachChunk(count: queries.count, workers: threads) { _, range in
                        let (q, out, counts) = shared.value
                        for i in range {
                            counts[i] = self.searchByPlan(
                                q + i * dimension, k: k, nprobe: parameters.nprobe, rerank: parameters.rerank, plan: plan,
                                matching: matching,
                                ids: ids.value, into: out + i * k)
                        }
                    }
                }
            }
        }
    }

    public func plan(filter: Filter, parameters: IVFSearchParameters) throws -> FilterPlan {
        try parameters.validate()
        return try lock.withReadLock { try planLocked(filter, parameters: parameters).plan }
    }

    /// The plan for `filter` and the slots it admits (nil when unfiltered). Exact scan when the
    /// matches are no more than the rows `nprobe` lists hold on average: then scoring only them
    /// costs less than one plain search and is exact.
    func planLocked(_ filter: Filter?, parameters: IVFSearchParameters) throws -> (plan: FilterPlan, matching: SlotBitset?) {
        let n = idMap.count
        guard let filter else { return (FilterPlan(matchCount: n, count: n, strategy: .unfiltered), nil) }
        let matching = try attributeStore.matching(filter, live: { nil })
        let nlist = centroids.count
        let plan = FilterPlan.choose(
            matches: matching.matchCount, count: n, forced: parameters.filterStrategy,
            exactIsCheaper: matching.matchCount * max(nlist, 1) <= min(parameters.nprobe, nlist) * n)
        return (plan, plan.strategy == .unfiltered ? nil : matching)
    }

    /// One query with the read lock held, by `plan`: the probed lists (unfiltered; on codes when
    /// the lists keep them), the matching vectors exactly, or the lists admitting only matches
    /// (both of which score the float32 rows).
    func searchByPlan(
        _ query: UnsafePointer<Float>, k: Int, nprobe: Int, rerank: Int, plan: FilterPlan, matching: SlotBitset?,
        ids: UnsafePointer<VectorID>, into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        guard let matching, plan.strategy != .unfiltered else {
            return searchProbedLists(query, k: k, nprobe: nprobe, rerank: rerank, ids: ids, into: out)
        }
        guard k > 0, idMap.count > 0 else { return 0 }
        let found =
            plan.strategy == .exact
            ? scanExact(query, k: k, matches: plan.matchCount, matching: matching, ids: ids, into: out)
            : scanListsFiltered(query, k: k, nprobe: nprobe, matching: matching, ids: ids, into: out)
        metric.publish(out, count: found, query: query, dimension: dimension, kernels: kernels)
        return found
    }

    /// The `k` nearest neighbours of `query` (among those `filter` admits), best first,
    /// scanning `nprobe` lists (more when they hold fewer than `k` matches).
    public func search(_ query: [Float], k: Int, nprobe: Int, filter: Filter? = nil) throws -> [Neighbor] {
        try search(query, k: k, parameters: IVFSearchParameters(nprobe: nprobe), filter: filter)
    }
}
