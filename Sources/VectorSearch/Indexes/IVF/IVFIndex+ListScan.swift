// Unfiltered single-query search: the coarse step picks the lists, then their rows are scanned
// (with sketch pruning where the lists have sketches).
extension IVFIndex {
    /// One query with the read lock held: rank the centroids, scan the `nprobe` nearest lists.
    func searchProbedLists(
        _ query: UnsafePointer<Float>, k: Int, nprobe: Int, rerank: Int, ids: UnsafePointer<VectorID>,
        into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        let nlist = centroids.count
        guard k > 0, idMap.count > 0 else { return 0 }
        let nprobe = min(nprobe, nlist)
        if lists.codec != nil { return searchProbedCodes(query, k: k, nprobe: nprobe, rerank: rerank, ids: ids, into: out) }
        if let product = lists.product {
            return searchProductCodes(query, product: product, k: k, nprobe: nprobe, rerank: rerank, ids: ids, into: out)
        }
        return withScratch { scratch in
            let probes = scratch.lists
            var heap = TopKHeap(storage: out, capacity: k)
            if let sketch = lists.sketch {
                let q = sketch.prepare(query, into: scratch.projected, kernels: kernels)
                let probeCount = rankListsPruned(
                    query, q, nprobe: nprobe, scratch: scratch.floats, candidates: probes + nprobe, into: probes)
                scanListsPruned(query, q, probes: probes, probeCount: probeCount, sketch: sketch, heap: &heap, ids: ids, scratch: scratch)
            } else {
                let probeCount = rankLists(query, nprobe: nprobe, scratch: scratch.floats, into: probes)
                scanLists(query, probes: probes, probeCount: probeCount, heap: &heap, ids: ids, scratch: scratch.floats)
            }
            let found = heap.sortBestFirst()
            metric.publish(out, count: found, query: query, dimension: dimension, kernels: kernels)
            return found
        }
    }

    /// Scans the probed lists for one query into `heap`. `scratch` holds `scanChunk` floats.
    private func scanLists(
        _ query: UnsafePointer<Float>, probes: UnsafePointer<Scored>, probeCount: Int, heap: inout TopKHeap,
        ids: UnsafePointer<VectorID>, scratch: UnsafeMutablePointer<Float>
    ) {
        let lists = self.lists, kernels = self.kernels, dimension = self.dimension, metric = self.metric
        for p in 0..<probeCount {
            let list = Int(probes[p].id)
            guard let rows = lists.vectors[list], let slots = lists.slots[list] else { continue }
            let n = lists.counts[list]
            var start = 0
            while start < n {
                let m = min(Self.scanChunk, n &- start)
                kernels.distances(metric, query, rows + start &* dimension, m, dimension, into: scratch)
                heap.offer(distances: scratch, count: m, ids: CandidateIDs(ids: ids, slots: slots + start), kernels: kernels)
                start &+= m
            }
        }
    }

    /// ``scanLists(_:probes:probeCount:heap:ids:scratch:)`` with sketch pruning (``ListSketch``):
    /// once the heap is full, each chunk's rows are first bounded from their sketches, and only
    /// those whose bound could still enter the heap are read and scored, by the kernel the plain
    /// scan uses (same distances, same results).
    private func scanListsPruned(
        _ query: UnsafePointer<Float>, _ q: ListSketch.Query, probes: UnsafePointer<Scored>, probeCount: Int, sketch: ListSketch,
        heap: inout TopKHeap, ids: UnsafePointer<VectorID>, scratch work: IVFSearchScratch
    ) {
        let lists = self.lists, kernels = self.kernels, d = dimension, metric = self.metric, width = sketch.width
        let scratch = work.floats, bounds = work.bounds, positions = work.integers, survivors = positions + Self.scanChunk
        let l2 = metric == .l2
        for p in 0..<probeCount {
            let list = Int(probes[p].id)
            guard let rows = lists.vectors[list], let slots = lists.slots[list],
                let sketches = lists.sketches[list], let terms = lists.terms[list]
            else { continue }
            let n = lists.counts[list]
            var start = 0
            while start < n {
                let m = min(Self.scanChunk, n &- start)
                let threshold = heap.threshold
                if threshold == .infinity {
                    kernels.distances(metric, query, rows + start &* d, m, d, into: scratch)
                    heap.offer(distances: scratch, count: m, ids: CandidateIDs(ids: ids, slots: slots + start), kernels: kernels)
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
                    heap.offer(distances: scratch, count: count, ids: CandidateIDs(ids: ids, slots: survivors), kernels: kernels)
                }
                start &+= m
            }
        }
    }

    /// One query on lists of codes (quantized ``IVFIndex/storage``): the probed lists' codes are
    /// scanned for `rerank × k` candidates (`k` without re-ranking), which are re-scored with
    /// their float32 rows (``Rerank``, with rows found through each slot's list and position).
    private func searchProbedCodes(
        _ query: UnsafePointer<Float>, k: Int, nprobe: Int, rerank: Int, ids: UnsafePointer<VectorID>,
        into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        let lists = self.lists, kernels = self.kernels, dimension = self.dimension, metric = self.metric
        let wanted = rerank > 0 ? min(ParameterCheck.saturatingProduct(k, rerank), idMap.count) : min(k, idMap.count)
        let queryNorm = metric == .l2 ? kernels.dot(query, query, dimension) : 0
        return withScratch { scratch in
            let probes = scratch.lists, distances = scratch.floats
            let probeCount = rankListsForCodes(query, nprobe: nprobe, scratch: scratch)
            return withUnsafeTemporaryAllocation(of: Scored.self, capacity: wanted) { candidates in
                var heap = TopKHeap(storage: candidates.baseAddress!, capacity: wanted)
                for p in 0..<probeCount {
                    let list = Int(probes[p].id)
                    guard let rows = lists.codedRows(list), let slots = lists.slots[list] else { continue }
                    let n = lists.counts[list]
                    var start = 0
                    while start < n {
                        let m = min(Self.scanChunk, n &- start)
                        rows.distances(
                            metric, query, queryNormSquared: queryNorm, from: start, m, candidatesOnly: rerank > 0, into: distances)
                        heap.offer(distances: distances, count: m, ids: CandidateIDs(slots: slots + start), kernels: kernels)
                        start &+= m
                    }
                }
                return finishCandidates(query, candidates.baseAddress!, count: heap.sortBestFirst(), k: k, rerank: rerank, ids: ids, into: out)
            }
        }
    }

    /// The `k` best of `count` candidates found on codes (ids are slots): re-scored with their
    /// float32 rows when `rerank` > 0, else with their code distances; published into `out`.
    func finishCandidates(
        _ query: UnsafePointer<Float>, _ candidates: UnsafePointer<Scored>, count: Int, k: Int, rerank: Int, ids: UnsafePointer<VectorID>,
        into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        var best = TopKHeap(storage: out, capacity: k)
        for i in 0..<count {
            let slot = Int(truncatingIfNeeded: candidates[i].id)
            var distance = candidates[i].distance
            if rerank > 0 {
                let (list, position) = location(of: slot)
                distance = kernels.distance(metric, query, lists.vectors[list]! + position &* dimension, dimension)
            }
            best.push(distance: distance, id: ids[slot])
        }
        let kept = best.sortBestFirst()
        metric.publish(out, count: kept, query: query, dimension: dimension, kernels: kernels)
        return kept
    }
}
