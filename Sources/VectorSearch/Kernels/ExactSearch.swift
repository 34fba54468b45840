/// Exact k-nearest-neighbour search over contiguous rows: one query by a SIMD scan, a batch by
/// blocked sgemm (queries × baseᵀ) with per-query top-k, split over threads.
///
/// Distances inside are "smaller is closer": squared L2, or the negated inner product.
/// Cosine data must already be normalised; cosine queries need not be (their norm only scales
/// every score by the same factor, applied at the end).
struct ExactSearch {
    let base: UnsafePointer<Float>
    let count: Int
    let dimension: Int
    let metric: Metric
    /// ‖x‖² per row; required for L2 batches (‖x − q‖² = ‖x‖² − 2x·q + ‖q‖²).
    let normsSquared: UnsafePointer<Float>?
    /// External id per row; nil means the row number is the id.
    let ids: UnsafePointer<VectorID>?
    let kernels: DistanceKernels

    /// Rows scored per kernel call in a single-query scan: the distances stay in L1.
    static let scanChunk = 256
    /// Batches of at least this many queries go through sgemm.
    static let blasMinimumQueries = 16
    /// sgemm block: queries × base rows, at most 4 MiB of scores per worker. Large query blocks
    /// pack each base block once for many queries. Measured on 1000 × 50k × 384 (BENCHMARKS.md):
    /// 1024 × 1024 runs at 0.92–1.12x one bare sgemm; 256 × 2048 at 1.08–1.18x; 128-query blocks 1.12–1.20x.
    static let queryBlock = 1024
    static let baseBlock = 1024

    /// Searches one query; writes up to `k` neighbours best first into `out` with public scores.
    func search(query: UnsafePointer<Float>, k: Int, into out: UnsafeMutablePointer<Neighbor>) -> Int {
        guard k > 0, count > 0 else { return 0 }
        var heap = TopKHeap(storage: out, capacity: k)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.scanChunk) { scratch in
            let distances = scratch.baseAddress!
            var start = 0
            while start < count {
                let n = min(Self.scanChunk, count &- start)
                kernels.distances(metric, query, base + start &* dimension, n, dimension, into: distances)
                heap.offer(
                    distances: distances, offsets: nil, count: n,
                    ids: ids.map { $0 + start }, firstID: VectorID(start), kernels: kernels)
                start &+= n
            }
        }
        let found = heap.sortBestFirst()
        finalize(out, found, query: query, squaredDistancesAreExact: true)
        return found
    }

    /// Searches one query among the rows `matching` admits only (gathering them in slot order);
    /// requires `ids`.
    func search(query: UnsafePointer<Float>, k: Int, matching: SlotBitset, into out: UnsafeMutablePointer<Neighbor>) -> Int {
        guard k > 0, count > 0, let ids else { return 0 }
        var heap = TopKHeap(storage: out, capacity: k)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.scanChunk) { scratch in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Self.scanChunk) { slotBuffer in
                let distances = scratch.baseAddress!
                matching.forEachBatch(into: slotBuffer.baseAddress!, batch: Self.scanChunk) { slots, n in
                    kernels.distances(metric, query, base, picking: slots, n, dimension, into: distances)
                    heap.offer(distances: distances, offsets: nil, count: n, slots: slots, ids: ids, kernels: kernels)
                }
            }
        }
        let found = heap.sortBestFirst()
        finalize(out, found, query: query, squaredDistancesAreExact: true)
        return found
    }

    /// A batch among the rows `matching` admits: one filtered scan per query, queries split over
    /// `threads`.
    func search(
        queries: UnsafePointer<Float>, queryCount: Int, k: Int, matching: SlotBitset, threads: Int,
        results: UnsafeMutablePointer<Neighbor>, counts: UnsafeMutablePointer<Int>
    ) {
        let results = UnsafeSendable(results), counts = UnsafeSendable(counts), queriesBox = UnsafeSendable(queries)
        Parallel.forEachChunk(count: queryCount, workers: threads) { _, range in
            for q in range {
                counts.value[q] = search(
                    query: queriesBox.value + q &* dimension, k: k, matching: matching, into: results.value + q &* k)
            }
        }
    }

    /// Searches `queryCount` queries (rows of `queries`); query `i` gets `k` slots at
    /// `results + i*k` and its number of neighbours in `counts[i]`.
    func search(
        queries: UnsafePointer<Float>, queryCount: Int, k: Int, threads: Int,
        results: UnsafeMutablePointer<Neighbor>, counts: UnsafeMutablePointer<Int>
    ) {
        let results = UnsafeSendable(results), counts = UnsafeSendable(counts), queriesBox = UnsafeSendable(queries)
        guard queryCount >= Self.blasMinimumQueries, count > 0, k > 0 else {
            Parallel.forEachChunk(count: queryCount, workers: threads) { _, range in
                for q in range {
                    counts.value[q] = search(
                        query: queriesBox.value + q &* dimension, k: k, into: results.value + q &* k)
                }
            }
            return
        }
        BLAS.withSingleThreadedBLAS {
            Parallel.forEachChunk(count: queryCount, workers: threads) { _, range in
                searchWithBLAS(queries: queriesBox.value, range: range, k: k, results: results.value, counts: counts.value)
            }
        }
    }

    private func searchWithBLAS(
        queries: UnsafePointer<Float>, range: Range<Int>, k: Int,
        results: UnsafeMutablePointer<Neighbor>, counts: UnsafeMutablePointer<Int>
    ) {
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: Self.queryBlock * Self.baseBlock)
        let heaps = UnsafeMutablePointer<TopKHeap>.allocate(capacity: Self.queryBlock)
        defer {
            scores.deallocate()
            heaps.deallocate()
        }
        // L2 ranks by ‖x‖² − 2x·q (‖q‖² is added at the end); inner product by −x·q.
        let alpha: Float = metric == .l2 ? -2 : -1
        var blockStart = range.lowerBound
        while blockStart < range.upperBound {
            let m = min(Self.queryBlock, range.upperBound &- blockStart)
            for i in 0..<m {
                (heaps + i).initialize(to: TopKHeap(storage: results + (blockStart &+ i) &* k, capacity: k))
            }
            var rowStart = 0
            while rowStart < count {
                let n = min(Self.baseBlock, count &- rowStart)
                BLAS.productWithTranspose(
                    m: m, n: n, k: dimension, alpha: alpha,
                    a: queries + blockStart &* dimension, b: base + rowStart &* dimension, c: scores, ldc: n)
                let offsets = metric == .l2 ? normsSquared.map { $0 + rowStart } : nil
                for i in 0..<m {
                    heaps[i].offer(
                        distances: scores + i &* n, offsets: offsets, count: n,
                        ids: ids.map { $0 + rowStart }, firstID: VectorID(rowStart), kernels: kernels)
                }
                rowStart &+= n
            }
            for i in 0..<m {
                let q = blockStart &+ i
                let found = heaps[i].sortBestFirst()
                counts[q] = found
                finalize(results + q &* k, found, query: queries + q &* dimension, squaredDistancesAreExact: false)
            }
            blockStart &+= m
        }
    }

    /// Turns internal distances into public scores.
    private func finalize(
        _ out: UnsafeMutablePointer<Neighbor>, _ found: Int, query: UnsafePointer<Float>, squaredDistancesAreExact: Bool
    ) {
        if metric == .l2, !squaredDistancesAreExact {
            // The sgemm path ranks by ‖x‖² − 2x·q: add ‖q‖², and clamp the rounding below zero.
            let queryNorm = kernels.dot(query, query, dimension)
            for i in 0..<found { out[i].score = max(0, out[i].score + queryNorm) }
        }
        metric.convertToScores(out, count: found, query: query, dimension: dimension, kernels: kernels)
    }
}
