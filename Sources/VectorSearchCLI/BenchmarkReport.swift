import Foundation

/// The `bench --json` report: a stable contract other tools read. Extend only by adding keys.
struct BenchmarkReport: Codable {
    var version = 1
    var index: String
    /// Vector storage: float32, float16, bfloat16 or int8 (reports before it existed lack it).
    var storage: String?
    var metric: String
    var k: Int
    var threads: Int
    var nBase: Int
    var nQueries: Int
    var dimension: Int
    var buildSeconds: Double
    var indexBytes: Int
    var peakRSSBytes: Int
    var simd: String
    var blas: String
    var points: [Point]
    /// Growth of the resident set while building: the index as the OS sees it (what the peers
    /// scripts report too), beside `index_bytes`, the index's own accounting.
    var indexRSSBytes: Int
    /// Build parameters: HNSW `m`, `ef_construction`, `threads`; IVF `nlist`, `threads`
    /// (and `train_size` when given); absent for flat.
    var build: [String: Int]?
    /// Queries/s interpolated at recall targets ("0.90", ...): absent when no sweep reaches them.
    var qpsAtRecall: [String: RecallQPS]?
    /// One run of the sweep per filter (absent without filters); recall against the exact
    /// filtered ground truth.
    var filtered: [FilteredRun]?
    /// Whether the index was searched memory-mapped (`--mmap`, `--mmap-vectors`: saved, then opened mapped).
    var mapped: Bool?
    /// `--mmap-vectors`: only the float32 vectors were mapped.
    var mappedVectorsOnly: Bool?
    /// `--cold`: a mapped index measured without the warm-up pass (from an evicted page cache).
    var cold: Bool?
    /// The index's own accounting by part (`part`, `bytes`, `mapped`, `resident`: a mapped part's
    /// bytes in the page cache after the measurements), as `vectorsearch info` prints it.
    var memoryParts: [IndexMemoryPartReport]?
    /// The resident set after the measurements, split as Linux counts it: memory of the process's
    /// own (`RssAnon`) and pages of mapped files (`RssFile`, the page cache a mapped index touched).
    var rssAnonBytes: Int?
    var rssFileBytes: Int?

    struct IndexMemoryPartReport: Codable {
        var part: String
        var bytes: Int
        var mapped: Bool
        var resident: Int
    }

    struct FilteredRun: Codable {
        /// The filter in its JSON form.
        var filter: String
        /// The fraction asked for by --filter-selectivity (absent for --filter).
        var targetSelectivity: Double?
        /// Base vectors the filter admits.
        var matchCount: Int
        var points: [Point]
        var qpsAtRecall: [String: RecallQPS]?

        enum CodingKeys: String, CodingKey {
            case filter, points
            case targetSelectivity = "target_selectivity"
            case matchCount = "match_count"
            case qpsAtRecall = "qps_at_recall"
        }
    }

    struct RecallQPS: Codable {
        var qps: Double
        var batchQPS: Double

        enum CodingKeys: String, CodingKey {
            case qps
            case batchQPS = "batch_qps"
        }
    }

    /// Linear interpolation of queries/s between the two points whose recalls bracket each target
    /// (points sorted by recall; a target above every point is left out).
    static func interpolate(_ points: [Point], targets: [Double]) -> [String: RecallQPS] {
        let sorted = points.sorted { $0.recall < $1.recall }
        var result: [String: RecallQPS] = [:]
        for target in targets {
            guard let upper = sorted.firstIndex(where: { $0.recall >= target }) else { continue }
            let key = String(format: "%.2f", target)
            let hi = sorted[upper]
            if upper == 0 || hi.recall == target {
                result[key] = RecallQPS(qps: hi.qps, batchQPS: hi.batchQPS)
                continue
            }
            let lo = sorted[upper - 1]
            let t = (target - lo.recall) / (hi.recall - lo.recall)
            result[key] = RecallQPS(qps: lo.qps + t * (hi.qps - lo.qps), batchQPS: lo.batchQPS + t * (hi.batchQPS - lo.batchQPS))
        }
        return result
    }

    struct Point: Codable {
        /// The parameter setting of this point (`{}` for flat, `{"ef": 64}`, `{"nprobe": 8}`).
        var params: [String: Int]
        var recall: Double
        var qps: Double
        var batchQPS: Double
        /// Latency percentiles of the single queries; null in the peers' reports, which time all
        /// queries in one native batch call and so have no per-query latencies.
        var p50Milliseconds: Double?
        var p99Milliseconds: Double?
        /// Filtered runs: the strategy the index planned (`exact`, `index`, `unfiltered`).
        var strategy: String?

        enum CodingKeys: String, CodingKey {
            case params, recall, qps, strategy
            case batchQPS = "batch_qps"
            case p50Milliseconds = "p50_ms"
            case p99Milliseconds = "p99_ms"
        }
    }

    enum CodingKeys: String, CodingKey {
        case version, index, storage, metric, k, threads, dimension, simd, blas, points, build, filtered
        case mapped
        case mappedVectorsOnly = "mapped_vectors_only"
        case cold
        case qpsAtRecall = "qps_at_recall"
        case memoryParts = "memory_parts"
        case rssAnonBytes = "rss_anon_bytes"
        case rssFileBytes = "rss_file_bytes"
        case indexRSSBytes = "index_rss_bytes"
        case nBase = "n_base"
        case nQueries = "n_queries"
        case buildSeconds = "build_seconds"
        case indexBytes = "index_bytes"
        case peakRSSBytes = "peak_rss_bytes"
    }

    var table: String {
        var lines = [
            "index \(index)\(storage.map { " (\($0))" } ?? ""), metric \(metric), k \(k): \(nBase) base × \(dimension), \(nQueries) queries",
            "simd \(simd); blas \(blas)",
            String(
                format: "build %.3f s; index %.1f MB (resident growth %.1f MB); peak RSS %.1f MB",
                buildSeconds, Double(indexBytes) / 1e6, Double(indexRSSBytes) / 1e6, Double(peakRSSBytes) / 1e6),
        ]
        if let memoryParts, mapped == true {
            let resident = memoryParts.reduce(0) { $0 + $1.resident }
            lines.append(
                String(
                    format: "index resident after searching: %.1f MB, %.1f bytes per vector (", Double(resident) / 1e6, Double(resident) / Double(max(nBase, 1))
                )
                    + memoryParts.map { "\($0.part) \($0.resident * 100 / max($0.bytes, 1)) %" }.joined(separator: ", ") + ")")
        }
        if let rssAnonBytes, let rssFileBytes {
            lines.append(
                String(
                    format: "resident after searching: %.1f MB own memory, %.1f MB of mapped files",
                    Double(rssAnonBytes) / 1e6, Double(rssFileBytes) / 1e6) + (mapped == true ? " (index mapped)" : ""))
        }
        if !points.isEmpty { lines += pointLines(points, qpsAtRecall: qpsAtRecall) }
        for run in filtered ?? [] {
            let share = Double(run.matchCount) / Double(max(nBase, 1))
            lines += ["", "filter \(run.filter): \(run.matchCount) of \(nBase) match (\(String(format: "%.3g", share * 100)) %)"]
            lines += pointLines(run.points, qpsAtRecall: run.qpsAtRecall)
        }
        return lines.joined(separator: "\n")
    }

    private func pointLines(_ points: [Point], qpsAtRecall: [String: RecallQPS]?) -> [String] {
        let strategies = points.contains { $0.strategy != nil }
        var lines = [
            "",
            "params        recall@\(k)   qps (1 thread)   batch qps (\(threads) threads)   p50 ms   p99 ms" + (strategies ? "   strategy" : ""),
        ]
        for point in points {
            let params = point.params.isEmpty ? "-" : point.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            let latency = [point.p50Milliseconds, point.p99Milliseconds].map { $0.map { String(format: "%6.3f", $0) } ?? "     -" }
            lines.append(
                params.padding(toLength: max(12, params.count), withPad: " ", startingAt: 0)
                    + String(
                        format: "  %9.4f   %14.1f   %25.1f   %@   %@",
                        point.recall, point.qps, point.batchQPS, latency[0], latency[1])
                    + (point.strategy.map { "   " + $0 } ?? ""))
        }
        if let qpsAtRecall {
            lines.append("")
            for target in ["0.90", "0.95", "0.99"] {
                if let value = qpsAtRecall[target] {
                    lines.append(String(format: "at recall@%d = %@: %.1f queries/s (1 thread), %.1f batched", k, target, value.qps, value.batchQPS))
                } else {
                    lines.append("at recall@\(k) = \(target): not reached by the sweep")
                }
            }
        }
        return lines
    }
}
