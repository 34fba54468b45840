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

    /// The ids of the rows from `start` on.
    private func rowIDs(from start: Int) -> CandidateIDs {
        CandidateIDs(ids: ids.map { $0 + start }, first: VectorID(start))
    }

    /// Searches one query; writes up to `k` candidates best first into `out`, published (with
    /// public scores).
    func search(query: UnsafePointer<Float>, k: Int, into out: UnsafeMutablePointer<Scored>) -> Int {
        guard k > 0, count > 0 else { return 0 }
        var heap = TopKHeap(storage: out, capacity: k)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.scanChunk) { scratch in
            let distances = scratch.baseAddress!
            var start = 0
            while start < count {
                let n = min(Self.scanChunk, count &- start)
                kernels.distances(metric, query, base + start &* dimension, n, dimension, into: distances)
                heap.offer(distances: distances, count: n, ids: rowIDs(from: start), kernels: kernels)
                start &+= n
            }
        }
        let found = heap.sortBestFirst()
        finalize(out, found, query: query, squaredDistancesAreExact: true)
        return found
    }

    /// Searches one query among the rows whose bit is set in `matching` (one bit per row, 64 to
    /// a word), gathering them in row order; requires `ids`.
    func search(
        query: UnsafePointer<Float>, k: Int, matching: UnsafeBufferPointer<UInt64>, into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        guard k > 0, count > 0, let ids else { return 0 }
        var heap = TopKHeap(storage: out, capacity: k)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.scanChunk) { scratch in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Self.scanChunk) { slotBuffer in
                let distances = scratch.baseAddress!
                forEachSetBit(in: matching, batch: Self.scanChunk, into: slotBuffer.baseAddress!) { slots, n in
                    kernels.distances(metric, query, base, picking: slots, n, dimension, into: distances)
                    heap.offer(distances: distances, count: n, ids: CandidateIDs(ids: ids, slots: slots), kernels: kernels)
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
        queries: UnsafePointer<Float>, queryCount: Int, k: Int, matching: UnsafeBufferPointer<UInt64>, threads: Int,
        results: UnsafeMutablePointer<Scored>, counts: UnsafeMutablePointer<Int>
    ) {
        let results = UnsafeSendable(results), counts = UnsafeSendable(counts), queriesBox = UnsafeSendable(queries)
        let matching = UnsafeSendable(matching)
        Parallel.forEachChunk(count: queryCount, workers: threads) { _, range in
            for q in range {
                counts.value[q] = search(
                    query: queriesBox.value + q &* dimension, k: k, matching: matching.value, into: results.value + q &* k)
            }
        }
    }

    /// Searches `queryCount` queries (rows of `queries`); query `i` gets `k` slots at
    /// `results + i*k` and its number of neighbours in `counts[i]`.
    func search(
        queries: UnsafePointer<Float>, queryCount: Int, k: Int, threads: Int,
        results: UnsafeMutablePointer<Scored>, counts: UnsafeMutablePointer<Int>
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
        results: UnsafeMutablePointer<Scored>, counts: UnsafeMutablePointer<Int>
    ) {
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: Self.queryBlock * Self.baseBlock)
        let heaps = UnsafeMutablePointer<TopKHeap>.allocate(capacity: Self.queryBlock)
        defer {
            scores.deallocate()
            heaps.deallocate()
        }
        var blockStart = range.lowerBound
        while blockStart < range.upperBound {
            let m = min(Self.queryBlock, range.upperBound &- blockStart)
            for i in 0..<m {
                (heaps + i).initialize(to: TopKHeap(storage: results + (blockStart &+ i) &* k, capacity: k))
            }
            var rowStart = 0
            while rowStart < count {
                let n = min(Self.baseBlock, count &- rowStart)
                TopKHeap.offerProductTile(
                    queries: queries + blockStart &* dimension, m: m, rows: base + rowStart &* dimension, n: n,
                    dimension: dimension, metric: metric, rowNorms: normsSquared.map { $0 + rowStart }, ids: rowIDs(from: rowStart),
                    scores: scores, kernels: kernels, heap: { heaps + $0 })
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

    /// Completes the distances of the sgemm path and publishes them. (For L2, which the coarse
    /// step and k-means use, publishing changes nothing: they read distances.)
    private func finalize(
        _ out: UnsafeMutablePointer<Scored>, _ found: Int, query: UnsafePointer<Float>, squaredDistancesAreExact: Bool
    ) {
        if !squaredDistancesAreExact {
            metric.completeProductDistances(out, count: found, queryNormSquared: metric == .l2 ? kernels.dot(query, query, dimension) : 0)
        }
        metric.publish(out, count: found, query: query, dimension: dimension, kernels: kernels)
    }
}
