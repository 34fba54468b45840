// The coarse step: which lists a query probes, by squared L2 distance to the centroids.
extension IVFIndex {
    /// Scale of q·c in the coarse distance ‖c‖² + scale·q·c: −2, or −2/‖q‖ under cosine.
    @inline(__always)
    func rankingScale(queryNorm: Float) -> Float {
        metric == .cosine ? -2 / queryNorm : -2
    }

    /// The `nprobe` lists nearest to one query, best first, into `out` (ids are list numbers);
    /// returns their number. Ranks by ‖c‖² − 2q·c/‖q‖: the query's own norm ranks nothing, and
    /// cosine centroids are unit vectors, so a cosine query is scaled to one.
    func rankLists(
        _ query: UnsafePointer<Float>, nprobe: Int, scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        let nlist = centroids.count, kernels = self.kernels, dimension = self.dimension
        let scale = rankingScale(queryNorm: kernels.dot(query, query, dimension).squareRoot())
        return centroidNorms.withUnsafeBufferPointer { norms in
            var nearest = TopKHeap(storage: out, capacity: nprobe)
            kernels.dotMany(query, centroids.base, nlist, dimension, scratch)
            for i in 0..<nlist { scratch[i] *= scale }
            nearest.offer(distances: scratch, offsets: norms.baseAddress, count: nlist, ids: CandidateIDs(), kernels: kernels)
            return nearest.sortBestFirst()
        }
    }

    /// The coarse step of a search on codes, into `scratch.lists`: through the centroids'
    /// sketches when there is a coarse basis, else every centroid scored. Same lists either way.
    func rankListsForCodes(_ query: UnsafePointer<Float>, nprobe: Int, scratch: IVFSearchScratch) -> Int {
        guard let coarse = coarseSketch else { return rankLists(query, nprobe: nprobe, scratch: scratch.floats, into: scratch.lists) }
        let q = coarse.prepare(query, into: scratch.projected, kernels: kernels)
        return rankListsPruned(query, q, nprobe: nprobe, scratch: scratch.floats, candidates: scratch.lists + nprobe, into: scratch.lists)
    }

    /// ``rankLists(_:nprobe:scratch:into:)`` through the centroids' sketches, with the same
    /// result: every centroid is bounded from its sketch, then scored as ``rankListsBounded``
    /// says. `scratch` holds nlist floats, `candidates` nlist entries.
    func rankListsPruned(
        _ query: UnsafePointer<Float>, _ q: ListSketch.Query, nprobe: Int, scratch: UnsafeMutablePointer<Float>,
        candidates: UnsafeMutablePointer<Scored>, into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        let nlist = centroids.count, kernels = self.kernels
        let scale = rankingScale(queryNorm: q.norm)  // q.norm is the same √(q·q) rankLists takes
        centroidSketches.withUnsafeBufferPointer { sketches in
            centroidTerms.withUnsafeBufferPointer { terms in
                kernels.sketchDotMany(q.projected, sketches.baseAddress!, nlist, q.width, scratch)
                // rankingBound wants 1 or 1/‖q‖: −scale/2, exactly.
                for c in 0..<nlist { scratch[c] = q.rankingBound(sketchDot: scratch[c], terms[c], scale: -scale / 2) }
            }
        }
        return rankListsBounded(query, scale: scale, nprobe: nprobe, bounds: scratch, candidates: candidates, into: out)
    }

    /// ``rankLists(_:nprobe:scratch:into:)`` from the estimates of q·c that
    /// ``IVFProductCodes/prepare(_:rotated:products:)`` wrote for every centroid (`queryError`
    /// is what it returned), with the same result; into `scratch.lists`.
    func rankListsEstimated(
        _ query: UnsafePointer<Float>, product: IVFProductCodes, estimates: UnsafePointer<Float>, queryError: Float, nprobe: Int,
        scratch: IVFSearchScratch
    ) -> Int {
        let norm = kernels.dot(query, query, dimension).squareRoot()
        let scale = rankingScale(queryNorm: norm), factor = abs(scale), bounds = scratch.floats
        centroidNorms.withUnsafeBufferPointer { norms in
            product.centroidSlack.withUnsafeBufferPointer { slack in
                product.centroidCodeNorms.withUnsafeBufferPointer { codeNorms in
                    // |q·c − estimate| ≤ ‖q‖·slack + ‖q − q̂‖·‖ĉ‖ (IVFProductCodes.centroidSlack).
                    for c in 0..<centroids.count {
                        bounds[c] = norms[c] + scale * estimates[c] - factor * (norm * slack[c] + queryError * codeNorms[c])
                    }
                }
            }
        }
        return rankListsBounded(query, scale: scale, nprobe: nprobe, bounds: bounds, candidates: scratch.lists + nprobe, into: scratch.lists)
    }

    /// The coarse step from a lower bound on every centroid's ranking distance (`bounds`, nlist
    /// floats, overwritten): the `nprobe` with the least bounds are scored, then only the others
    /// whose bound could still rank; the same lists as scoring them all. `candidates` holds
    /// nlist entries.
    private func rankListsBounded(
        _ query: UnsafePointer<Float>, scale: Float, nprobe: Int, bounds: UnsafeMutablePointer<Float>,
        candidates: UnsafeMutablePointer<Scored>, into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        let nlist = centroids.count, kernels = self.kernels, dimension = self.dimension, base = centroids.base
        guard nprobe > 0 else { return 0 }
        return centroidNorms.withUnsafeBufferPointer { norms in
            // The nprobe least bounds, without a heap (whose pushes took half of this step at nlist
            // 256, nprobe 24): nprobe group minima are nprobe distinct centroids, so the largest
            // of them is at or above the nprobe-th least bound; a selection picks them from the
            // centroids at or under it.
            var limit = -Float.infinity
            for g in 0..<nprobe {
                var least = Float.infinity
                for c in (g &* nlist / nprobe)..<((g &+ 1) &* nlist / nprobe) where bounds[c] < least { least = bounds[c] }
                if least > limit { limit = least }
            }
            var under = 0
            var c = 0
            while true {
                c = kernels.nextAtOrBelow(bounds, nil, c, nlist, limit)
                if c >= nlist { break }
                candidates[under] = Scored(id: VectorID(c), distance: bounds[c])
                under &+= 1
                c &+= 1
            }
            TopKReservoir.partition(candidates, count: under, keeping: nprobe)
            var nearest = TopKHeap(storage: out, capacity: nprobe)
            // The same arithmetic as rankLists, so the same distances.
            func score(_ c: Int) {
                nearest.push(distance: kernels.dot(query, base + c &* dimension, dimension) * scale + norms[c], id: VectorID(c))
                bounds[c] = .infinity  // scored
            }
            for i in 0..<min(under, nprobe) { score(Int(candidates[i].id)) }
            c = 0
            while true {
                c = kernels.nextAtOrBelow(bounds, nil, c, nlist, nearest.threshold)
                if c >= nlist { break }
                score(c)
                c &+= 1
            }
            return nearest.sortBestFirst()
        }
    }

    /// The `nprobe` nearest lists of each of `count` queries, best first (their lengths need not
    /// be one under cosine: the centroids are unit vectors, so the ranking is the same): query `i` gets `out[i*nprobe ..< (i+1)*nprobe]`, ids are list numbers. Batches of
    /// 16 or more go through sgemm, spread over `threads`.
    func nearestLists(_ queries: UnsafePointer<Float>, count: Int, nprobe: Int, threads: Int, into out: UnsafeMutablePointer<Scored>) {
        let found = UnsafeMutablePointer<Int>.allocate(capacity: count)
        defer { found.deallocate() }
        centroidNorms.withUnsafeBufferPointer { norms in
            ExactSearch(
                base: centroids.base, count: centroids.count, dimension: dimension, metric: .l2,
                normsSquared: norms.baseAddress, ids: nil, kernels: kernels
            ).search(queries: queries, queryCount: count, k: nprobe, threads: threads, results: out, counts: found)
        }
    }
}
