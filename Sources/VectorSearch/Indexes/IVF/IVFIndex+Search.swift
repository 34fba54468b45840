extension IVFIndex {
    /// Rows scored per kernel call in a list scan: the distances stay in L1.
    static let scanChunk = 256

    public func search(
        _ query: UnsafeBufferPointer<Float>, k: Int, parameters: IVFSearchParameters = .default, filter: Filter? = nil,
        into results: UnsafeMutableBufferPointer<Neighbor>
    ) throws -> Int {
        try VectorValidation.checkQuery(query, dimension: dimension, metric: metric, k: k, results: results)
        return try lock.withReadLock {
            guard centroids.count > 0 else { throw VectorSearchError.notTrained }
            let (plan, matching) = try planLocked(filter, nprobe: parameters.nprobe)
            return idMap.ids.withUnsafeBufferPointer { ids in
                searchLocked(
                    query.baseAddress!, k: k, nprobe: parameters.nprobe, plan: plan, matching: matching,
                    ids: ids.baseAddress!, into: results.baseAddress!)
            }
        }
    }

    public func search(
        batch queries: VectorMatrix, k: Int, parameters: IVFSearchParameters = .default, filter: Filter? = nil, threads: Int? = nil
    ) throws -> SearchResults {
        try VectorValidation.checkBatch(queries, dimension: dimension, metric: metric, k: k, threads: threads)
        return try lock.withReadLock {
            guard centroids.count > 0 else { throw VectorSearchError.notTrained }
            let k = min(k, idMap.count)
            let threads = threads ?? Parallel.coreCount
            guard k > 0 else { return SearchResults(k: 0, queries: queries) { _, _, _ in } }
            let (plan, matching) = try planLocked(filter, nprobe: parameters.nprobe)
            guard plan.strategy != .unfiltered else {
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
                            counts[i] = self.searchLocked(
                                q + i * dimension, k: k, nprobe: parameters.nprobe, plan: plan, matching: matching,
                                ids: ids.value, into: out + i * k)
                        }
                    }
                }
            }
        }
    }

    public func plan(filter: Filter, parameters: IVFSearchParameters) throws -> FilterPlan {
        try lock.withReadLock { try planLocked(filter, nprobe: parameters.nprobe).plan }
    }

    /// The plan for `filter` and the slots it admits (nil when unfiltered). Exact scan when the
    /// matches are no more than the rows `nprobe` lists hold on average: then scoring only them
    /// costs less than one plain search and is exact.
    func planLocked(_ filter: Filter?, nprobe: Int) throws -> (plan: FilterPlan, matching: SlotBitset?) {
        let n = idMap.count
        guard let filter else { return (FilterPlan(matchCount: n, count: n, strategy: .unfiltered), nil) }
        let matching = try attributeStore.matching(filter, live: { nil })
        let matches = matching.matchCount
        let strategy: FilterPlan.Strategy =
            matches == n ? .unfiltered : (matches * max(centroids.count, 1) <= min(nprobe, centroids.count) * n ? .exact : .index)
        return (FilterPlan(matchCount: matches, count: n, strategy: strategy), strategy == .unfiltered ? nil : matching)
    }

    /// One query with the read lock held, by `plan`.
    func searchLocked(
        _ query: UnsafePointer<Float>, k: Int, nprobe: Int, plan: FilterPlan, matching: SlotBitset?,
        ids: UnsafePointer<VectorID>, into out: UnsafeMutablePointer<Neighbor>
    ) -> Int {
        guard let matching, plan.strategy != .unfiltered else { return searchLocked(query, k: k, nprobe: nprobe, ids: ids, into: out) }
        guard k > 0, idMap.count > 0 else { return 0 }
        let found = plan.strategy == .exact
            ? scanExact(query, k: k, matches: plan.matchCount, matching: matching, ids: ids, into: out)
            : scanListsFiltered(query, k: k, nprobe: nprobe, matching: matching, ids: ids, into: out)
        metric.convertToScores(out, count: found, query: query, dimension: dimension, kernels: kernels)
        return found
    }

    /// Exact over the matching set. A sparse filter visits its slots where they lie; a dense one
    /// walks every list in memory order, which streams (measured: at 50 % matching 1.4x faster by
    /// list on 50k × 384 and 1.7x on 200k × 96; at 10 % 1.2x and even; at 4.6 % 1.6x slower).
    private func scanExact(
        _ query: UnsafePointer<Float>, k: Int, matches: Int, matching: SlotBitset, ids: UnsafePointer<VectorID>,
        into out: UnsafeMutablePointer<Neighbor>
    ) -> Int {
        matches &* 16 >= idMap.count
            ? scanAllListsMatching(query, k: k, matching: matching, ids: ids, into: out)
            : scoreMatchingSlots(query, k: k, matching: matching, ids: ids, into: out)
    }

    /// Exact for a sparse filter: scores each matching vector where it lies in its list.
    private func scoreMatchingSlots(
        _ query: UnsafePointer<Float>, k: Int, matching: SlotBitset, ids: UnsafePointer<VectorID>, into out: UnsafeMutablePointer<Neighbor>
    ) -> Int {
        let lists = self.lists, kernels = self.kernels, dimension = self.dimension, metric = self.metric
        var heap = TopKHeap(storage: out, capacity: k)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.scanChunk) { distances in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Self.scanChunk) { slotBuffer in
                let distances = distances.baseAddress!
                locations.withUnsafeBufferPointer { locations in
                    matching.forEachBatch(into: slotBuffer.baseAddress!, batch: Self.scanChunk) { slots, n in
                        for j in 0..<n {
                            let location = locations[Int(slots[j])]
                            let row = lists.vectors[Int(location >> 32)]! + Int(location & 0xFFFF_FFFF) &* dimension
                            distances[j] = kernels.distance(metric, query, row, dimension)
                        }
                        heap.offer(distances: distances, offsets: nil, count: n, slots: slots, ids: ids, kernels: kernels)
                    }
                }
            }
        }
        return heap.sortBestFirst()
    }

    /// Scans lists nearest first, scoring only matching entries: the `nprobe` nearest, then more
    /// until `k` matches have been seen (or every list). Only the `nprobe` nearest are ranked at
    /// first (ranking all of them cost more than the scan at small nprobe); when they hold
    /// fewer than `k` matches, four times as many are ranked, and so on, skipping lists scanned.
    private func scanListsFiltered(
        _ query: UnsafePointer<Float>, k: Int, nprobe: Int, matching: SlotBitset, ids: UnsafePointer<VectorID>,
        into out: UnsafeMutablePointer<Neighbor>
    ) -> Int {
        let nlist = centroids.count
        var heap = TopKHeap(storage: out, capacity: k)
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: max(nlist, Self.scanChunk)) { scratch in
            withUnsafeTemporaryAllocation(of: Neighbor.self, capacity: nlist) { order in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 2 * Self.scanChunk) { buffer in
                    withUnsafeTemporaryAllocation(of: Bool.self, capacity: nlist) { scanned in
                        let scratch = scratch.baseAddress!, scanned = scanned.baseAddress!
                        scanned.initialize(repeating: false, count: nlist)
                        var seen = 0, visited = 0, wanted = min(nprobe, nlist)
                        matching.words.withUnsafeBufferPointer { bits in
                            while true {
                                let ranked = rankLists(query, nprobe: wanted, scratch: scratch, into: order.baseAddress!)
                                for p in 0..<ranked where !scanned[Int(order[p].id)] {
                                    if visited >= nprobe && seen >= k { break }
                                    scanned[Int(order[p].id)] = true
                                    visited &+= 1
                                    seen &+= scanMatching(
                                        query, list: Int(order[p].id), bits: bits.baseAddress!, heap: &heap, ids: ids,
                                        scratch: scratch, buffer: buffer.baseAddress!)
                                }
                                if seen >= k || wanted == nlist { break }
                                wanted = min(nlist, wanted &* 4)
                            }
                        }
                        return heap.sortBestFirst()
                    }
                }
            }
        }
    }

    /// Exact for a dense filter: every list in memory order, scoring only matching entries.
    private func scanAllListsMatching(
        _ query: UnsafePointer<Float>, k: Int, matching: SlotBitset, ids: UnsafePointer<VectorID>,
        into out: UnsafeMutablePointer<Neighbor>
    ) -> Int {
        var heap = TopKHeap(storage: out, capacity: k)
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.scanChunk) { scratch in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 2 * Self.scanChunk) { buffer in
                matching.words.withUnsafeBufferPointer { bits in
                    for list in 0..<centroids.count {
                        _ = scanMatching(
                            query, list: list, bits: bits.baseAddress!, heap: &heap, ids: ids,
                            scratch: scratch.baseAddress!, buffer: buffer.baseAddress!)
                    }
                }
                return heap.sortBestFirst()
            }
        }
    }

    /// Scores the entries of one list whose slot bit is set (gathered `scanChunk` at a time, so
    /// their loads overlap); returns how many there were. `buffer` holds 2 × `scanChunk`.
    @inline(__always)
    private func scanMatching(
        _ query: UnsafePointer<Float>, list: Int, bits: UnsafePointer<UInt64>, heap: inout TopKHeap, ids: UnsafePointer<VectorID>,
        scratch: UnsafeMutablePointer<Float>, buffer: UnsafeMutablePointer<UInt32>
    ) -> Int {
        guard let rows = lists.vectors[list], let slots = lists.slots[list] else { return 0 }
        let n = lists.counts[list], dimension = self.dimension, kernels = self.kernels
        let positions = buffer, slotsFound = buffer + Self.scanChunk
        var start = 0, seen = 0
        while start < n {
            let end = min(start &+ Self.scanChunk, n)
            var m = 0
            for position in start..<end {
                let slot = Int(slots[position])
                positions[m] = UInt32(position)
                slotsFound[m] = UInt32(slot)
                m &+= Int(bits[slot >> 6] >> UInt64(slot & 63) & 1)
            }
            if m > 0 {
                if metric == .l2 {
                    kernels.l2SquaredGather(query, rows, positions, m, dimension, scratch)
                } else {
                    kernels.dotGather(query, rows, positions, m, dimension, scratch)
                    for j in 0..<m { scratch[j] = -scratch[j] }
                }
                heap.offer(distances: scratch, offsets: nil, count: m, slots: slotsFound, ids: ids, kernels: kernels)
                seen &+= m
            }
            start = end
        }
        return seen
    }

    /// One query with the read lock held: rank the centroids, scan the `nprobe` nearest lists.
    func searchLocked(
        _ query: UnsafePointer<Float>, k: Int, nprobe: Int, ids: UnsafePointer<VectorID>, into out: UnsafeMutablePointer<Neighbor>
    ) -> Int {
        let nlist = centroids.count
        guard k > 0, idMap.count > 0 else { return 0 }
        let nprobe = min(nprobe, nlist)
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: max(nlist, Self.scanChunk)) { scratch in
            withUnsafeTemporaryAllocation(of: Neighbor.self, capacity: 2 * nprobe) { probes in
                let scratch = scratch.baseAddress!, probes = probes.baseAddress!
                var heap = TopKHeap(storage: out, capacity: k)
                if let sketch = lists.sketch {
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: sketch.width) { projected in
                        let q = sketch.prepare(query, into: projected.baseAddress!, kernels: kernels)
                        let probeCount = rankListsPruned(query, q, nprobe: nprobe, scratch: scratch, candidates: probes + nprobe, into: probes)
                        scanListsPruned(query, q, probes: probes, probeCount: probeCount, sketch: sketch, heap: &heap, ids: ids, scratch: scratch)
                    }
                } else {
                    let probeCount = rankLists(query, nprobe: nprobe, scratch: scratch, into: probes)
                    scanLists(query, probes: probes, probeCount: probeCount, heap: &heap, ids: ids, scratch: scratch)
                }
                let found = heap.sortBestFirst()
                metric.convertToScores(out, count: found, query: query, dimension: dimension, kernels: kernels)
                return found
            }
        }
    }

    /// Scale of q·c in the coarse distance ‖c‖² + scale·q·c: −2, or −2/‖q‖ under cosine.
    @inline(__always)
    private func rankingScale(queryNorm: Float) -> Float {
        metric == .cosine ? -2 / queryNorm : -2
    }

    /// The `nprobe` lists nearest to one query, best first, into `out` (ids are list numbers);
    /// returns their number. Ranks by ‖c‖² − 2q·c/‖q‖: the query's own norm ranks nothing, and
    /// cosine centroids are unit vectors, so a cosine query is scaled to one.
    func rankLists(
        _ query: UnsafePointer<Float>, nprobe: Int, scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Neighbor>
    ) -> Int {
        let nlist = centroids.count, kernels = self.kernels, dimension = self.dimension
        let scale = rankingScale(queryNorm: kernels.dot(query, query, dimension).squareRoot())
        return centroidNorms.withUnsafeBufferPointer { norms in
            var nearest = TopKHeap(storage: out, capacity: nprobe)
            kernels.dotMany(query, centroids.base, nlist, dimension, scratch)
            for i in 0..<nlist { scratch[i] *= scale }
            nearest.offer(distances: scratch, offsets: norms.baseAddress, count: nlist, ids: nil, firstID: 0, kernels: kernels)
            return nearest.sortBestFirst()
        }
    }

    /// ``rankLists(_:nprobe:scratch:into:)`` through the centroids' sketches, with the same
    /// result: every centroid is bounded from its sketch, the `nprobe` with the least bounds are
    /// scored, then only the others whose bound could still rank. `scratch` holds nlist floats,
    /// `candidates` nprobe entries.
    func rankListsPruned(
        _ query: UnsafePointer<Float>, _ q: ListSketch.Query, nprobe: Int, scratch: UnsafeMutablePointer<Float>,
        candidates: UnsafeMutablePointer<Neighbor>, into out: UnsafeMutablePointer<Neighbor>
    ) -> Int {
        let nlist = centroids.count, kernels = self.kernels, dimension = self.dimension, base = centroids.base
        let scale = rankingScale(queryNorm: q.norm)  // q.norm is the same √(q·q) rankLists takes
        return centroidSketches.withUnsafeBufferPointer { sketches in
            centroidTerms.withUnsafeBufferPointer { terms in
                centroidNorms.withUnsafeBufferPointer { norms in
                    kernels.sketchDotMany(q.projected, sketches.baseAddress!, nlist, q.width, scratch)
                    // rankingBound wants 1 or 1/‖q‖: −scale/2, exactly.
                    for c in 0..<nlist { scratch[c] = q.rankingBound(sketchDot: scratch[c], terms[c], scale: -scale / 2) }
                    var least = TopKHeap(storage: candidates, capacity: nprobe)
                    least.offer(distances: scratch, offsets: nil, count: nlist, ids: nil, firstID: 0, kernels: kernels)
                    var nearest = TopKHeap(storage: out, capacity: nprobe)
                    // The same arithmetic as rankLists, so the same distances.
                    func score(_ c: Int) {
                        nearest.push(distance: kernels.dot(query, base + c &* dimension, dimension) * scale + norms[c], id: VectorID(c))
                        scratch[c] = .infinity  // scored
                    }
                    for i in 0..<least.count { score(Int(candidates[i].id)) }
                    var c = 0
                    while true {
                        c = kernels.nextAtOrBelow(scratch, nil, c, nlist, nearest.threshold)
                        if c >= nlist { break }
                        score(c)
                        c &+= 1
                    }
                    return nearest.sortBestFirst()
                }
            }
        }
    }

    /// Scans the probed lists for one query into `heap`. `scratch` holds `scanChunk` floats.
    private func scanLists(
        _ query: UnsafePointer<Float>, probes: UnsafePointer<Neighbor>, probeCount: Int, heap: inout TopKHeap,
        ids: UnsafePointer<VectorID>, scratch: UnsafeMutablePointer<Float>
    ) {
        let lists = self.lists, kernels = self.kernels, dimension = self.dimension
        for p in 0..<probeCount {
            let list = Int(probes[p].id)
            guard let rows = lists.vectors[list], let slots = lists.slots[list] else { continue }
            let n = lists.counts[list]
            var start = 0
            while start < n {
                let m = min(Self.scanChunk, n &- start)
                scan(query, rows + start &* dimension, m, into: scratch)
                heap.offer(distances: scratch, offsets: nil, count: m, slots: slots + start, ids: ids, kernels: kernels)
                start &+= m
            }
        }
    }

    /// ``scanLists(_:probes:probeCount:heap:ids:scratch:)`` with sketch pruning (``ListSketch``):
    /// once the heap is full, each chunk's rows are first bounded from their sketches, and only
    /// those whose bound could still enter the heap are read and scored, by the kernel the plain
    /// scan uses (same distances, same results).
    private func scanListsPruned(
        _ query: UnsafePointer<Float>, _ q: ListSketch.Query, probes: UnsafePointer<Neighbor>, probeCount: Int, sketch: ListSketch,
        heap: inout TopKHeap, ids: UnsafePointer<VectorID>, scratch: UnsafeMutablePointer<Float>
    ) {
        let lists = self.lists, kernels = self.kernels, d = dimension, metric = self.metric, width = sketch.width
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.scanChunk) { bounds in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 2 * Self.scanChunk) { integers in
                let bounds = bounds.baseAddress!
                let positions = integers.baseAddress!, survivors = positions + Self.scanChunk
                let l2 = metric == .l2
                for p in 0..<probeCount {
                    let list = Int(probes[p].id)
                    guard let rows = lists.vectors[list], let slots = lists.slots[list],
                          let sketches = lists.sketches[list], let terms = lists.terms[list] else { continue }
                    let n = lists.counts[list]
                    var start = 0
                    while start < n {
                        let m = min(Self.scanChunk, n &- start)
                        let threshold = heap.threshold
                        if threshold == .infinity {
                            scan(query, rows + start &* d, m, into: scratch)
                            heap.offer(distances: scratch, offsets: nil, count: m, slots: slots + start, ids: ids, kernels: kernels)
                        } else {
                            kernels.sketchDotMany(q.projected, sketches + start &* width, m, width, bounds)
                            var count = 0
                            for j in 0..<m {
                                positions[count] = UInt32(start &+ j)
                                count &+= q.distanceBound(sketchDot: bounds[j], terms[start &+ j], l2: l2) <= threshold ? 1 : 0
                            }
                            for i in 0..<count {
                                let position = Int(positions[i])
                                scratch[i] = kernels.distance(metric, query, rows + position &* d, d)
                                survivors[i] = slots[position]
                            }
                            heap.offer(distances: scratch, offsets: nil, count: count, slots: survivors, ids: ids, kernels: kernels)
                        }
                        start &+= m
                    }
                }
            }
        }
    }

    /// Internal distances (smaller is closer) of `query` to `n` contiguous rows.
    @inline(__always)
    private func scan(_ query: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        if metric == .l2 {
            kernels.l2SquaredMany(query, rows, n, dimension, out)
        } else {
            kernels.dotMany(query, rows, n, dimension, out)
            for i in 0..<n { out[i] = -out[i] }
        }
    }

    /// A batch grouped by list. The coarse step runs for all queries at once (sgemm); then each
    /// worker takes a share of the queries and visits every list they probe once, scoring all of
    /// that list's queries while it is in cache: through sgemm when at least
    /// `ExactSearch.blasMinimumQueries` of them probe it, else by one SIMD scan per query
    /// (measured: sgemm is 1.2–1.35x faster with ~36 queries per list at d = 384, even with ~8 at
    /// d = 96, and slower with ~9 at d = 384).
    private func searchGrouped(
        _ queries: VectorMatrix, k: Int, nprobe: Int, threads: Int,
        out: UnsafeMutablePointer<Neighbor>, counts: UnsafeMutablePointer<Int>
    ) {
        let queryCount = queries.count
        let nprobe = min(nprobe, centroids.count)
        let prepared = metric == .cosine ? queries.normalizedRows(kernels: kernels) : queries
        let probes = UnsafeMutablePointer<Neighbor>.allocate(capacity: queryCount * nprobe)
        defer { probes.deallocate() }
        prepared.withUnsafeBufferPointer { q in
            nearestLists(q.baseAddress!, count: queryCount, nprobe: nprobe, threads: threads, into: probes)
            let shared = UnsafeSendable((q.baseAddress!, probes, out, counts))
            idMap.ids.withUnsafeBufferPointer { ids in
                let ids = UnsafeSendable(ids.baseAddress!)
                BLAS.withSingleThreadedBLAS {
                    Parallel.forEachChunk(count: queryCount, workers: threads) { _, range in
                        let (q, probes, out, counts) = shared.value
                        self.scanGrouped(
                            queries: q, range: range, nprobe: nprobe, probes: probes, k: k, ids: ids.value, out: out, counts: counts)
                    }
                }
            }
        }
    }

    private func scanGrouped(
        queries: UnsafePointer<Float>, range: Range<Int>, nprobe: Int, probes: UnsafePointer<Neighbor>, k: Int,
        ids: UnsafePointer<VectorID>, out: UnsafeMutablePointer<Neighbor>, counts: UnsafeMutablePointer<Int>
    ) {
        let nlist = centroids.count, lists = self.lists, d = dimension, kernels = self.kernels, metric = self.metric
        // The queries of each list: a counting sort of the (query, list) pairs by list.
        var starts = [Int](repeating: 0, count: nlist + 1)
        for q in range { for p in 0..<nprobe { starts[Int(probes[q &* nprobe &+ p].id) &+ 1] += 1 } }
        for l in 0..<nlist { starts[l + 1] += starts[l] }
        var members = [Int](repeating: 0, count: starts[nlist])
        var fill = starts
        for q in range {
            for p in 0..<nprobe {
                let l = Int(probes[q &* nprobe &+ p].id)
                members[fill[l]] = q
                fill[l] += 1
            }
        }

        let first = range.lowerBound
        let heaps = UnsafeMutablePointer<TopKHeap>.allocate(capacity: range.count)
        // L2 heaps rank by ‖x‖² − 2x·q, what sgemm gives; ‖q‖² is added back at the end.
        let queryNorms = UnsafeMutablePointer<Float>.allocate(capacity: range.count)
        let group = ExactSearch.queryBlock, block = ExactSearch.baseBlock
        // Scratch sized to this batch: a small batch (or one that never uses sgemm) does not
        // pay for the 4 MiB a full query block × base block would take.
        var largestGroup = 0
        for l in 0..<nlist { largestGroup = max(largestGroup, starts[l + 1] - starts[l]) }
        let rowsPerGroup = largestGroup >= ExactSearch.blasMinimumQueries ? min(largestGroup, group) : 0
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(rowsPerGroup * block, Self.scanChunk))
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: max(rowsPerGroup * d, 1))
        let rowNorms = UnsafeMutablePointer<Float>.allocate(capacity: block)
        defer {
            heaps.deallocate()
            queryNorms.deallocate()
            scores.deallocate()
            gathered.deallocate()
            rowNorms.deallocate()
        }
        for q in range {
            (heaps + (q &- first)).initialize(to: TopKHeap(storage: out + q &* k, capacity: k))
            queryNorms[q &- first] = metric == .l2 ? kernels.dot(queries + q &* d, queries + q &* d, d) : 0
        }

        members.withUnsafeBufferPointer { members in
            for l in 0..<nlist {
                let n = lists.counts[l]
                guard starts[l + 1] > starts[l], n > 0, let rows = lists.vectors[l], let slots = lists.slots[l] else { continue }
                var memberStart = starts[l]
                while memberStart < starts[l + 1] {
                    let m = min(group, starts[l + 1] &- memberStart)
                    let mine = members.baseAddress! + memberStart
                    if m < ExactSearch.blasMinimumQueries {
                        for i in 0..<m {
                            let q = mine[i]
                            var start = 0
                            while start < n {
                                let width = min(Self.scanChunk, n &- start)
                                scan(queries + q &* d, rows + start &* d, width, into: scores)
                                if metric == .l2 { for j in 0..<width { scores[j] -= queryNorms[q &- first] } }
                                heaps[q &- first].offer(
                                    distances: scores, offsets: nil, count: width, slots: slots + start, ids: ids, kernels: kernels)
                                start &+= width
                            }
                        }
                    } else {
                        for i in 0..<m { (gathered + i &* d).update(from: queries + mine[i] &* d, count: d) }
                        var start = 0
                        while start < n {
                            let width = min(block, n &- start)
                            let base = rows + start &* d
                            if metric == .l2 { for r in 0..<width { rowNorms[r] = kernels.dot(base + r &* d, base + r &* d, d) } }
                            BLAS.productWithTranspose(
                                m: m, n: width, k: d, alpha: metric == .l2 ? -2 : -1, a: gathered, b: base, c: scores, ldc: width)
                            for i in 0..<m {
                                heaps[mine[i] &- first].offer(
                                    distances: scores + i &* width, offsets: metric == .l2 ? UnsafePointer(rowNorms) : nil,
                                    count: width, slots: slots + start, ids: ids, kernels: kernels)
                            }
                            start &+= width
                        }
                    }
                    memberStart &+= m
                }
            }
        }
        for q in range {
            let found = heaps[q &- first].sortBestFirst()
            counts[q] = found
            let results = out + q &* k
            if metric == .l2 { for i in 0..<found { results[i].score = max(0, results[i].score + queryNorms[q &- first]) } }
            metric.convertToScores(results, count: found, query: queries + q &* d, dimension: d, kernels: kernels)
        }
    }
}
