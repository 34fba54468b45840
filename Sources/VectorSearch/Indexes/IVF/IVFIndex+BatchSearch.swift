// Unfiltered batches: the coarse step for all queries at once, then every probed list visited
// once per worker for all of its queries.
extension IVFIndex {
    /// A batch grouped by list. The coarse step runs for all queries at once (sgemm); then each
    /// worker takes a share of the queries and visits every list they probe once, scoring all of
    /// that list's queries while it is in cache: through sgemm when at least
    /// `ExactSearch.blasMinimumQueries` of them probe it, else by one SIMD scan per query
    /// (measured: sgemm is 1.2–1.35x faster with ~36 queries per list at d = 384, even with ~8 at
    /// d = 96, and slower with ~9 at d = 384).
    func searchGrouped(
        _ queries: VectorMatrix, k: Int, nprobe: Int, threads: Int,
        out: UnsafeMutablePointer<Scored>, counts: UnsafeMutablePointer<Int>
    ) {
        let queryCount = queries.count
        let nprobe = min(nprobe, centroids.count)
        let prepared = metric == .cosine ? queries.normalizedRows(kernels: kernels) : queries
        let probes = UnsafeMutablePointer<Scored>.allocate(capacity: queryCount * nprobe)
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
        queries: UnsafePointer<Float>, range: Range<Int>, nprobe: Int, probes: UnsafePointer<Scored>, k: Int,
        ids: UnsafePointer<VectorID>, out: UnsafeMutablePointer<Scored>, counts: UnsafeMutablePointer<Int>
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
        // L2 heaps rank by ‖x‖² − 2x·q, what sgemm gives (the SIMD path subtracts ‖q‖² to match);
        // ‖q‖² is added back at the end.
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
                                kernels.distances(metric, queries + q &* d, rows + start &* d, width, d, into: scores)
                                if metric == .l2 { for j in 0..<width { scores[j] -= queryNorms[q &- first] } }
                                heaps[q &- first].offer(distances: scores, count: width, ids: CandidateIDs(ids: ids, slots: slots + start), kernels: kernels)
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
                            TopKHeap.offerProductTile(
                                queries: gathered, m: m, rows: base, n: width, dimension: d, metric: metric, rowNorms: rowNorms,
                                ids: CandidateIDs(ids: ids, slots: slots + start), scores: scores, kernels: kernels,
                                heap: { heaps + (mine[$0] &- first) })
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
            metric.completeProductDistances(results, count: found, queryNormSquared: queryNorms[q &- first])
            metric.publish(results, count: found, query: queries + q &* d, dimension: d, kernels: kernels)
        }
    }
}
