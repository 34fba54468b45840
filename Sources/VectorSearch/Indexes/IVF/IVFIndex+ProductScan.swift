import CVectorKernels

// Unfiltered single-query search on product codes (``IVFCodec``): the probed lists' codes are
// scored through the query's tables for `rerank × k` candidates, which are re-scored with their
// float32 rows. Candidates are named by list and position (list << 32 | position), not by slot,
// so re-scoring reaches each row without a look-up in `locations`.
extension IVFIndex {
    func searchProductCodes(
        _ query: UnsafePointer<Float>, product: IVFProductCodes, k: Int, nprobe: Int, rerank: Int, ids: UnsafePointer<VectorID>,
        into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        let wanted = rerank > 0 ? min(ParameterCheck.saturatingProduct(k, rerank), idMap.count) : min(k, idMap.count)
        let normSquared = kernels.dot(query, query, dimension)
        let scale = rankingScale(queryNorm: normSquared.squareRoot())
        return withScratch { scratch in
            let probes = scratch.lists
            let rotated = scratch.tables, estimates = rotated + dimension, products = estimates + product.listCount
            let table = products + product.m * product.centroidCount
            let queryError = product.prepare(query, rotated: rotated, products: products)
            // The product is made from these centroids; the check keeps a mismatch from reading past them.
            let probeCount =
                product.listCount == centroids.count
                ? rankListsEstimated(query, product: product, estimates: estimates, queryError: queryError, nprobe: nprobe, scratch: scratch)
                : rankListsForCodes(query, nprobe: nprobe, scratch: scratch)
            return withUnsafeTemporaryAllocation(of: Scored.self, capacity: TopKReservoir.bufferFactor &* wanted) { candidates in
                var best = TopKReservoir(storage: candidates.baseAddress!, capacity: wanted)
                // One table serves every list unless each list has its own (L2 on residuals).
                var tableReady = false, delta: Float = 1, offset: Float = 0
                for p in 0..<probeCount {
                    let list = Int(probes[p].id)
                    guard let codes = lists.codes[list] else { continue }
                    let n = lists.counts[list]
                    guard n > 0 else { continue }
                    // The coarse distance is ‖c‖² + scale·q·c (IVFIndex+CoarseQuantizer): q·c back from it.
                    let coarse = probes[p].distance
                    var bias = product.bias(
                        coarseDistance: coarse, centroidDot: (coarse - centroidNorms[list]) / scale, queryNormSquared: normSquared)
                    let codeBytes = codes.assumingMemoryBound(to: UInt8.self)
                    if product.tablePerList || !tableReady {
                        product.table(list: list, products: products, into: table)
                        if product.codec.kind == .pq4fs { (offset, delta) = product.quantize(table, into: scratch.lut) }
                        tableReady = true
                    }
                    if product.codec.kind == .pq {
                        scanBytes(codeBytes, count: n, list: list, product: product, table: table, bias: bias, scratch: scratch, best: &best)
                    } else {
                        bias += offset
                        scanFast(codeBytes, count: n, list: list, product: product, bias: bias, delta: delta, scratch: scratch, best: &best)
                    }
                }
                // Re-scoring needs no order: the reservoir's best as they stand.
                return finishLocated(query, candidates.baseAddress!, count: best.finish(), k: k, rerank: rerank, ids: ids, into: out)
            }
        }
    }

    /// The `k` best of `count` candidates named by list and position: re-scored with their
    /// float32 rows when `rerank` > 0, else with their code distances; published into `out` with
    /// their ids. Two passes: every candidate's distance first (rows fetched a few candidates
    /// ahead), then ids only for those within the k-th distance, so only they pay the slot and id
    /// look-ups. Ties at the k-th distance still go to the smaller id.
    private func finishLocated(
        _ query: UnsafePointer<Float>, _ candidates: UnsafeMutablePointer<Scored>, count: Int, k: Int, rerank: Int,
        ids: UnsafePointer<VectorID>, into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        let lists = self.lists, d = dimension, rowBytes = dimension &* 4
        @inline(__always) func split(_ i: Int) -> (list: Int, position: Int) {
            let located = candidates[i].id
            return (Int(truncatingIfNeeded: located >> 32), Int(truncatingIfNeeded: located & 0xFFFF_FFFF))
        }
        @inline(__always) func row(_ i: Int) -> UnsafeMutablePointer<Float> {
            let (list, position) = split(i)
            return lists.vectors[list]! + position &* d
        }
        if rerank > 0 {
            // Rows fetched into L2 twelve candidates ahead: measured 20–25 % more queries/s than
            // fetching four ahead into L1, whose few miss buffers a whole row fills.
            let ahead = 12
            for i in 0..<min(ahead, count) { vs_prefetch_bytes_l2(row(i), rowBytes) }
            for i in 0..<count {
                if i &+ ahead < count { vs_prefetch_bytes_l2(row(i &+ ahead), rowBytes) }
                candidates[i].distance = kernels.distance(metric, query, row(i), d)
            }
        }
        // The k-th smallest distance, then every candidate within it, by (distance, id).
        var limit = Float.infinity
        if count > k {
            withUnsafeTemporaryAllocation(of: Scored.self, capacity: k) { least in
                var heap = TopKHeap(storage: least.baseAddress!, capacity: k)
                for i in 0..<count { heap.push(distance: candidates[i].distance, id: 0) }
                limit = heap.threshold
            }
        }
        var best = TopKHeap(storage: out, capacity: k)
        for i in 0..<count where candidates[i].distance <= limit {
            let (list, position) = split(i)
            best.push(distance: candidates[i].distance, id: ids[Int(lists.slots[list]![position])])
        }
        let kept = best.sortBestFirst()
        metric.publish(out, count: kept, query: query, dimension: d, kernels: kernels)
        return kept
    }

    /// pq: each row's distance from the float table, a chunk at a time.
    private func scanBytes(
        _ codes: UnsafePointer<UInt8>, count n: Int, list: Int, product: IVFProductCodes, table: UnsafePointer<Float>,
        bias: Float, scratch: IVFSearchScratch, best: inout TopKReservoir
    ) {
        let m = product.m, distances = scratch.floats
        var start = 0
        while start < n {
            let count = min(Self.scanChunk, n &- start)
            vs_pq8_distances(codes + start &* m, count, m, table, bias, distances)
            let located = UInt64(list) << 32 | UInt64(start)
            var limit = best.threshold
            for r in 0..<count where distances[r] <= limit {
                best.push(distance: distances[r], id: located &+ UInt64(r))
                limit = best.threshold
            }
            start &+= count
        }
    }

    /// pq4fs: 16-bit sums of byte tables for blocks of 32 rows (``IVFProductCodes/fastScan``); a
    /// row whose estimate bias + delta × sum could enter the best kept is offered with that estimate.
    private func scanFast(
        _ codes: UnsafePointer<UInt8>, count n: Int, list: Int, product: IVFProductCodes, bias: Float, delta: Float,
        scratch: IVFSearchScratch, best: inout TopKReservoir
    ) {
        let blockBytes = product.paddedM &* 16, sums = scratch.sums, lut = UnsafePointer(scratch.lut), positions = scratch.integers
        let chunkBlocks = Self.scanChunk / 32, located = UInt64(list) << 32, inverse = 1 / delta
        var start = 0
        while start < n {
            let rows = min(Self.scanChunk, n &- start)
            product.fastScan(codes + start / 32 &* blockBytes, min(chunkBlocks, (rows + 31) / 32), lut, product.paddedM, sums)
            // Rows at or under the threshold of the best kept as it is now, then each checked as it tightens.
            var limit = (best.threshold - bias) * inverse
            // NaN (a damaged index's infinite norms) selects nothing rather than trapping.
            let selected = product.select(sums, rows, !(limit >= 0) ? 0 : limit >= 65535 ? 65535 : UInt16(limit), positions)
            for i in 0..<selected {
                let r = Int(positions[i]), sum = Float(sums[r])
                guard sum <= limit else { continue }
                best.push(distance: bias + delta * sum, id: located | UInt64(start &+ r))
                limit = (best.threshold - bias) * inverse
            }
            start &+= rows
        }
    }
}
