import VectorSearch

// What `bench` measures and how: one point's single queries and batches, recall, percentiles,
// the ground truth's id sets and the labels of --filter-selectivity.
extension BenchCommand {
    /// The ground truth's rows as sets of ids (its first k per query); `path` names it in errors.
    func truthSets(_ truth: IntegerMatrix, path: String, queryCount: Int, ids: [VectorID]) throws -> [Set<VectorID>] {
        guard truth.count == queryCount else {
            throw CLIError("\(path) has \(truth.count) rows but there are \(queryCount) queries")
        }
        guard truth.dimension >= k else { throw CLIError("\(path) holds top-\(truth.dimension), fewer than --k \(k)") }
        return try (0..<queryCount).map { q in
            Set(
                try truth.values[(q * truth.dimension)..<(q * truth.dimension + k)].map { row in
                    guard row >= 0, Int(row) < ids.count else { throw CLIError("\(path): row \(row) is not a row of the base (\(ids.count) rows)") }
                    return ids[Int(row)]
                })
        }
    }

    /// `attributes` (or empty ones) with a uniform pseudo-random `bench_label` in 0..<labelRange
    /// each: the SplitMix64 hash of the row number, so every run labels the same.
    static func addingLabels(to attributes: [Attributes], count: Int) -> [Attributes] {
        (0..<count).map { row in
            var hash = SplitMix64(seed: UInt64(row) &* SplitMix64.increment)
            var a = attributes.isEmpty ? [:] : attributes[row]
            a[labelField] = .int(Int64(hash.next() % UInt64(labelRange)))
            return a
        }
    }

    /// One point: every query alone on one thread (latencies, recall), then the batch.
    func measure(
        _ index: AnyIndex, queries: VectorMatrix, truth: [Set<VectorID>], params: [String: Int], options: SearchOptions,
        filter: Filter?, threads: Int
    ) throws -> BenchmarkReport.Point {
        var latencies = [Double]()
        latencies.reserveCapacity(queries.count)
        var found = [[Neighbor]]()
        found.reserveCapacity(queries.count)
        let label = params.sorted { $0.key < $1.key }.map { ", \($0.key) \($0.value)" }.joined() + (filter == nil ? "" : ", filtered")
        let progress = ProgressLine("single queries" + label, total: queries.count)
        var results = [Neighbor](repeating: Neighbor(id: 0, score: 0), count: k)
        try queries.withUnsafeBufferPointer { all in
            try results.withUnsafeMutableBufferPointer { out in
                for q in 0..<queries.count {
                    let query = UnsafeBufferPointer(rebasing: all[(q * queries.dimension)..<((q + 1) * queries.dimension)])
                    let start = monotonicSeconds()
                    let n = try index.search(query, k: k, options: options, filter: filter, into: out)
                    latencies.append(monotonicSeconds() - start)
                    found.append(Array(out[0..<n]))
                    progress.update(q + 1)
                }
            }
        }
        progress.finish()
        var bestBatch = Double.infinity
        var batchResults: SearchResults?
        for _ in 0..<runs {
            let start = monotonicSeconds()
            batchResults = try index.search(batch: queries, k: k, options: options, filter: filter, threads: threads)
            bestBatch = min(bestBatch, monotonicSeconds() - start)
        }
        let recall = Self.recall(found, truth: truth, k: k)
        let batchRecall = Self.recall(batchResults!.map(Array.init), truth: truth, k: k)
        if abs(batchRecall - recall) > 1e-9 {
            status(String(format: "note: batch recall %.4f differs from single-query recall %.4f", batchRecall, recall))
        }
        latencies.sort()
        return BenchmarkReport.Point(
            params: params, recall: recall, qps: Double(queries.count) / latencies.reduce(0, +),
            batchQPS: Double(queries.count) / bestBatch,
            p50Milliseconds: 1000 * Self.percentile(latencies, 0.50), p99Milliseconds: 1000 * Self.percentile(latencies, 0.99))
    }

    /// Mean over queries of |found ∩ true top-k| / |true top-k| (queries whose filter admits
    /// nothing count as found).
    static func recall(_ found: [[Neighbor]], truth: [Set<VectorID>], k: Int) -> Double {
        var total = 0.0
        for (q, neighbours) in found.enumerated() {
            let expected = truth[q]
            total += expected.isEmpty ? 1 : Double(neighbours.prefix(k).filter { expected.contains($0.id) }.count) / Double(expected.count)
        }
        return found.isEmpty ? 0 : total / Double(found.count)
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
