extension HNSWIndex {
    public func search(
        _ query: UnsafeBufferPointer<Float>, k: Int, parameters: HNSWSearchParameters = .default, filter: Filter? = nil,
        into results: UnsafeMutableBufferPointer<Neighbor>
    ) throws -> Int {
        try VectorValidation.checkQuery(query, dimension: dimension, metric: metric, k: k, results: results, parameters: parameters)
        return try lock.withReadLock {
            let (plan, matching) = try planLocked(filter, parameters: parameters)
            return results.baseAddress!.asCandidates(capacity: results.count) { out in
                searchByPlan(
                    query.baseAddress!, k: k, ef: parameters.ef, rerank: parameters.rerank, plan: plan.strategy, matching: matching,
                    into: out)
            }
        }
    }

    public func search(
        batch queries: VectorMatrix, k: Int, parameters: HNSWSearchParameters = .default, filter: Filter? = nil, threads: Int? = nil
    ) throws -> SearchResults {
        try VectorValidation.checkBatch(queries, dimension: dimension, metric: metric, k: k, threads: threads, parameters: parameters)
        return try lock.withReadLock {
            let k = min(k, idMap.mappedCount)
            let (plan, matching) = try planLocked(filter, parameters: parameters)
            return SearchResults(k: k, queries: queries) { q, slots, counts in
                let q = UnsafeSendable(q), slots = UnsafeSendable(slots), counts = UnsafeSendable(counts)
                Parallel.forEachChunk(count: queries.count, workers: threads ?? Parallel.coreCount) { _, range in
                    for i in range {
                        counts.value[i] = searchByPlan(
                            q.value + i * dimension, k: k, ef: parameters.ef, rerank: parameters.rerank, plan: plan.strategy,
                            matching: matching, into: slots.value + i * k)
                    }
                }
            }
        }
    }

    public func plan(filter: Filter, parameters: HNSWSearchParameters) throws -> FilterPlan {
        try parameters.validate()
        return try lock.withReadLock { try planLocked(filter, parameters: parameters).plan }
    }

    /// A filtered search scans the matches exactly when there are at most
    /// `exactScanFactor · √(ef · N)` of them. A filtered walk must score about (nodes an
    /// unfiltered walk scores, ∝ ef) / selectivity nodes to gather ef matches, the exact scan
    /// one per match, so the two cost the same where matches² ∝ ef · N. The factor is measured
    /// (BENCHMARKS.md, "Filtered search"): break-even near 7,000 matches on pypi-minilm (50,000 ×
    /// 384, ef 16; factor 7.8) and near 34,000 on gen 1M × 96 (ef 32; factor 6.0), and the walk
    /// was 1.9x faster than the scan with 100,000 matches at ef 256 (factor 6.2): 5 errs toward
    /// the walk, whose recall the sweep shows, where the scan's cost grows fastest.
    static let exactScanFactor = 5.0

    /// The plan for `filter` and the slots it admits (nil when unfiltered): an exact scan when
    /// few match, else the graph walk admitting only matches, which turns to the exact scan
    /// if it has scored as many nodes as match (as Lucene does).
    func planLocked(_ filter: Filter?, parameters: HNSWSearchParameters) throws -> (plan: FilterPlan, matching: SlotBitset?) {
        let n = idMap.mappedCount
        guard let filter else { return (FilterPlan(matchCount: n, count: n, strategy: .unfiltered), nil) }
        let matching = try attributeStore.matching(filter, live: liveSlots)
        let matches = matching.matchCount
        let exactBelow = Self.exactScanFactor * (Double(parameters.ef) * Double(n)).squareRoot()
        let plan = FilterPlan.choose(
            matches: matches, count: n, forced: parameters.filterStrategy, exactIsCheaper: Double(matches) <= exactBelow)
        return (plan, plan.strategy == .unfiltered ? nil : matching)
    }

    /// Slots of vectors not removed, when some are; nil when all are live.
    private func liveSlots() -> SlotBitset? {
        guard !freeSlots.isEmpty || graph.hasDeleted else { return nil }
        var live = SlotBitset(slotCount: store.count)
        for slot in 0..<store.count where graph.deleted[slot] == 0 { live.insert(slot) }
        return live
    }

    /// One query with the read lock held, by `plan`: the graph walk (admitting only matches
    /// when filtered), or the exact scan of the matches.
    private func searchByPlan(
        _ query: UnsafePointer<Float>, k: Int, ef: Int, rerank: Int, plan: FilterPlan.Strategy, matching: SlotBitset?,
        into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        guard let matching, plan != .unfiltered else {
            return searchGraph(query, k: k, ef: ef, rerank: rerank, filter: nil, into: out)!
        }
        if plan == .index {
            let found = matching.words.withUnsafeBufferPointer { bits in
                searchGraph(query, k: k, ef: ef, rerank: rerank, filter: (bits.baseAddress!, matching.matchCount), into: out)
            }
            if let found { return found }
        }
        return idMap.ids.withUnsafeBufferPointer { ids in
            matching.words.withUnsafeBufferPointer { bits in
                ExactSearch(
                    base: store.base, count: store.count, dimension: dimension, metric: metric, normsSquared: nil,
                    ids: ids.baseAddress, kernels: kernels
                ).search(query: query, k: k, matching: bits, into: out)
            }
        }
    }

    /// One query with the read lock held: descend the upper levels greedily, search level 0 with
    /// ef = max(ef, k), return the k best, ties ordered by id. On codes, ef is at least the
    /// `rerank × k` candidates re-scored from the float32 rows. With a filter (its bits, and the
    /// number of nodes the walk may score), nil when the walk ran over that budget.
    private func searchGraph(
        _ query: UnsafePointer<Float>, k: Int, ef: Int, rerank: Int, filter: (bits: UnsafePointer<UInt64>, budget: Int)?,
        into out: UnsafeMutablePointer<Scored>
    ) -> Int? {
        guard k > 0, entryPoint >= 0, idMap.mappedCount > 0 else { return 0 }
        guard let codes else {
            return walk(query, keeping: k, ef: max(ef, k), filter: filter, codes: nil, quantize: false) { context, found in
                drainPublished(context, count: found, query: query, into: out)
            }
        }
        return idMap.ids.withUnsafeBufferPointer { ids in
            let finish = Rerank(metric: metric, dimension: dimension, exactRows: store.base, ids: ids.baseAddress!, kernels: kernels)
            let wanted = finish.candidateCount(k: k, rerank: rerank, count: store.count)
            // The walk only gathers candidates when they are re-scored: then the integer kernel,
            // from the query quantized once, may score it.
            let quantize = rerank > 0 && codes.kernels.quantizedGather != nil && dimension <= QuantizedQuery.maximumDimension
            return codes.withRows { rows in
                walk(query, keeping: wanted, ef: max(ef, wanted), filter: filter, codes: rows, quantize: quantize) { context, found in
                    withUnsafeTemporaryAllocation(of: Scored.self, capacity: found) { candidates in
                        var i = found
                        while i > 0 {
                            i -= 1
                            let c = context.results.pop()
                            candidates[i] = Scored(id: VectorID(c.slot), distance: c.distance)
                        }
                        return finish.finish(candidates.baseAddress!, found: found, k: k, rerank: rerank, query: query, into: out)
                    }
                }
            }
        }
    }

    /// Walks the graph for `query` (on `codes` when given, from the query quantized to int8 when
    /// `quantize`) and hands the `keeping` best it found (in `context.results`, worst on top) and
    /// their number to `body`; nil when a filtered walk ran over its budget.
    private func walk(
        _ query: UnsafePointer<Float>, keeping: Int, ef: Int, filter: (bits: UnsafePointer<UInt64>, budget: Int)?, codes: CodedRows?,
        quantize: Bool, _ body: (HNSWSearchContext, Int) -> Int
    ) -> Int? {
        withSearchContext { context in
            var scorer = exactScorer
            if let codes {
                var quantized: QuantizedQuery?
                #if arch(x86_64)
                if quantize { quantized = QuantizedQuery(query, dimension: dimension, into: context.queryCodes) }
                #endif
                scorer = SlotScorer(
                    metric: metric, dimension: dimension, kernels: kernels, rows: store.base, codes: codes, query: query,
                    quantized: quantized)
            }
            let start = descend(
                query, from: entryPoint, distance: scorer.distance(query, to: entryPoint), top: maxLevel, target: 0, locking: false,
                scorer: scorer, context: context)
            let finished = searchLayer(
                query, entry: start.slot, distance: start.distance, ef: ef, level: 0, locking: false,
                filter: filter?.bits, budget: filter?.budget ?? .max, scorer: scorer, context: context)
            guard finished else { return nil }
            while context.results.count > keeping { context.results.pop() }
            return body(context, context.results.count)
        }
    }

    /// Writes the `found` results of a float32 walk to `out`, best first, ties ordered by id, and
    /// publishes them.
    private func drainPublished(
        _ context: HNSWSearchContext, count found: Int, query: UnsafePointer<Float>, into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        var i = found
        while i > 0 {
            i -= 1
            let c = context.results.pop()
            out[i] = Scored(id: idMap.ids[Int(c.slot)], distance: c.distance)
        }
        // Equal distances in id order, as every index reports them.
        for i in 1..<max(found, 1) {
            let item = out[i]
            var j = i
            while j > 0, out[j - 1].distance == item.distance, out[j - 1].id > item.id {
                out[j] = out[j - 1]
                j -= 1
            }
            out[j] = item
        }
        metric.publish(out, count: found, query: query, dimension: dimension, kernels: kernels)
        return found
    }
}

extension HNSWIndex {
    /// The `k` nearest neighbours of `query` (among those `filter` admits), best first.
    public func search(
        _ query: [Float], k: Int, ef: Int, filter: Filter? = nil
    ) throws -> [Neighbor] {
        try search(query, k: k, parameters: HNSWSearchParameters(ef: ef), filter: filter)
    }
}
