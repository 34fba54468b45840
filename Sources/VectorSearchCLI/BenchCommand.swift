import ArgumentParser
import Foundation
import VectorSearch

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Build an index and measure recall@k, queries/s (one at a time and batched), latency and memory.",
        discussion: """
            Single queries run one at a time on one thread; the batch runs every query in one call \
            over --threads threads (best of --runs). Ground truth rows are row numbers of the base \
            file (as `vectorsearch gen` and `groundtruth` write them). --json writes the report in \
            the stable schema documented in the README.
            """)

    @Option(help: "Base vectors (fvecs, bvecs, fbin, npy, jsonl).") var base: String
    @Option(help: "Query vectors.") var queries: String
    @Option(help: "Ground truth (.ivecs, .ibin or .npy): exact neighbour rows per query.") var groundtruth: String
    @OptionGroup var options: IndexOptions
    @Option(help: "Neighbours per query.") var k: Int = 10
    @Option(help: "Threads for the batch (default: every core).") var threads: Int?
    @Option(help: "Batch runs; the best is reported.") var runs: Int = 3
    @Option(help: "Write the report as JSON here.") var json: String?

    func validate() throws {
        guard k > 0 else { throw ValidationError("--k must be positive") }
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let baseSet = try EmbeddingFile.read(base)
        let querySet = try EmbeddingFile.read(queries)
        let truth = try EmbeddingFile.readIntegers(groundtruth)
        let queryVectors = querySet.vectors
        guard truth.count == queryVectors.count else {
            throw CLIError("\(groundtruth) has \(truth.count) rows but \(queries) has \(queryVectors.count) queries")
        }
        guard truth.dimension >= k else {
            throw CLIError("\(groundtruth) holds top-\(truth.dimension), fewer than --k \(k)")
        }
        guard queryVectors.dimension == baseSet.vectors.dimension else {
            throw VectorSearchError.dimensionMismatch(expected: baseSet.vectors.dimension, actual: queryVectors.dimension, row: nil)
        }
        let threadCount = threads ?? VectorSearchLibrary.coreCount

        let buildStart = monotonicSeconds()
        let index = try buildFlatIndex(baseSet, metric: options.metric)
        let buildSeconds = monotonicSeconds() - buildStart

        // One query at a time, one thread.
        var latencies = [Double]()
        latencies.reserveCapacity(queryVectors.count)
        var found = [[Neighbor]]()
        found.reserveCapacity(queryVectors.count)
        let progress = ProgressLine("single queries", total: queryVectors.count)
        var results = [Neighbor](repeating: Neighbor(id: 0, score: 0), count: k)
        try queryVectors.withUnsafeBufferPointer { all in
            try results.withUnsafeMutableBufferPointer { out in
                for q in 0..<queryVectors.count {
                    let query = UnsafeBufferPointer(rebasing: all[(q * queryVectors.dimension)..<((q + 1) * queryVectors.dimension)])
                    let start = monotonicSeconds()
                    let n = try index.search(query, k: k, parameters: FlatSearchParameters(), into: out)
                    latencies.append(monotonicSeconds() - start)
                    found.append(Array(out[0..<n]))
                    progress.update(q + 1)
                }
            }
        }
        progress.finish()
        let singleSeconds = latencies.reduce(0, +)

        // The whole batch in one call.
        var bestBatch = Double.infinity
        var batchResults: SearchResults?
        for _ in 0..<runs {
            let start = monotonicSeconds()
            batchResults = try index.search(batch: queryVectors, k: k, threads: threadCount)
            bestBatch = min(bestBatch, monotonicSeconds() - start)
        }

        let baseIDs = baseSet.ids
        let recall = Self.recall(found, truth: truth, k: k, ids: baseIDs)
        let batchRecall = Self.recall(batchResults!.map(Array.init), truth: truth, k: k, ids: baseIDs)
        latencies.sort()
        let report = BenchmarkReport(
            index: options.index.rawValue, metric: options.metric.rawValue, k: k, threads: threadCount,
            nBase: index.count, nQueries: queryVectors.count, dimension: index.dimension,
            buildSeconds: buildSeconds, indexBytes: index.memoryBytes, peakRSSBytes: peakResidentBytes(),
            simd: SIMDLevel.detected.rawValue, blas: BLAS.description,
            points: [BenchmarkReport.Point(
                params: [:], recall: recall, qps: Double(queryVectors.count) / singleSeconds,
                batchQPS: Double(queryVectors.count) / bestBatch,
                p50Milliseconds: 1000 * Self.percentile(latencies, 0.50),
                p99Milliseconds: 1000 * Self.percentile(latencies, 0.99))])
        print(report.table)
        fflush(nil)
        if abs(batchRecall - recall) > 1e-9 {
            status(String(format: "note: batch recall %.4f differs from single-query recall %.4f (near-ties)", batchRecall, recall))
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic)
            status("wrote \(json)")
        }
    }

    /// Mean over queries of |found ∩ true top-k| / k; ground-truth rows map to ids through `ids`.
    static func recall(_ found: [[Neighbor]], truth: IntegerMatrix, k: Int, ids: [VectorID]?) -> Double {
        var total = 0.0
        for (q, neighbours) in found.enumerated() {
            let expected = Set(truth.values[(q * truth.dimension)..<(q * truth.dimension + k)].map { row in
                ids.map { $0[Int(row)] } ?? VectorID(row)
            })
            total += Double(neighbours.prefix(k).filter { expected.contains($0.id) }.count) / Double(k)
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

/// The `bench --json` report: a stable contract other tools read. Extend only by adding keys.
struct BenchmarkReport: Codable {
    var version = 1
    var index: String
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

    struct Point: Codable {
        /// The parameter setting of this point (`{}` for flat, `{"ef": 64}`, `{"nprobe": 8}`).
        var params: [String: Int]
        var recall: Double
        var qps: Double
        var batchQPS: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double

        enum CodingKeys: String, CodingKey {
            case params, recall, qps
            case batchQPS = "batch_qps"
            case p50Milliseconds = "p50_ms"
            case p99Milliseconds = "p99_ms"
        }
    }

    enum CodingKeys: String, CodingKey {
        case version, index, metric, k, threads, dimension, simd, blas, points
        case nBase = "n_base"
        case nQueries = "n_queries"
        case buildSeconds = "build_seconds"
        case indexBytes = "index_bytes"
        case peakRSSBytes = "peak_rss_bytes"
    }

    var table: String {
        var lines = [
            "index \(index), metric \(metric), k \(k): \(nBase) base × \(dimension), \(nQueries) queries",
            "simd \(simd); blas \(blas)",
            String(format: "build %.3f s; index %.1f MB; peak RSS %.1f MB",
                   buildSeconds, Double(indexBytes) / 1e6, Double(peakRSSBytes) / 1e6),
            "",
            "params        recall@\(k)   qps (1 thread)   batch qps (\(threads) threads)   p50 ms   p99 ms",
        ]
        for point in points {
            let params = point.params.isEmpty ? "-" : point.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            lines.append(params.padding(toLength: max(12, params.count), withPad: " ", startingAt: 0) + String(
                format: "  %9.4f   %14.1f   %25.1f   %6.3f   %6.3f",
                point.recall, point.qps, point.batchQPS, point.p50Milliseconds, point.p99Milliseconds))
        }
        return lines.joined(separator: "\n")
    }
}
