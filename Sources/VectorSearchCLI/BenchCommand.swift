import ArgumentParser
import Foundation
import VectorSearch
import VectorSearchHDF5

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Build an index and measure recall@k, queries/s (one at a time and batched), latency and memory.",
        discussion: """
            Single queries run one at a time on one thread; the batch runs every query in one call \
            over --threads threads (best of --runs). Each --sweep-ef value (HNSW) or --sweep-nprobe \
            value (IVF) is one point, and the queries/s at recall 0.90, 0.95 and 0.99 are \
            interpolated between points. Ground truth \
            rows are row numbers of the base file (as `vectorsearch gen` and `groundtruth` write \
            them). --json writes the report in the stable schema documented in the README.

            Filtered search: --filter JSON (fields from --metadata; repeat for several) or --filter-selectivity \
            0.5,0.1,0.01,0.001, which gives every base vector a random integer `bench_label` and \
            filters on `bench_label < s·100000`. Each filter is measured over the same sweep \
            against its exact filtered ground truth (computed here by a flat scan), and the \
            strategy the index plans for it is shown.

            --dataset F.hdf5 takes an ann-benchmarks file instead of --base/--queries/--groundtruth: \
            train, test and neighbors from the file, and the metric from its distance attribute \
            (euclidean: l2, angular: cosine); --metric is then ignored.
            """)

    @Option(help: "Base vectors (fvecs, bvecs, fbin, npy, jsonl).") var base: String?
    @Option(help: "Query vectors.") var queries: String?
    @Option(help: "Ground truth (.ivecs, .ibin or .npy): exact neighbour rows per query (needed for the unfiltered points).")
    var groundtruth: String?
    @Option(help: "An ann-benchmarks HDF5 file (train, test, neighbors, distance attribute) in place of --base, --queries and --groundtruth.")
    var dataset: String?
    @OptionGroup var options: IndexOptions
    @Option(help: "Neighbours per query.") var k: Int = 10
    @Option(help: "HNSW: candidate list size for a single point.") var ef: Int = HNSWSearchParameters.default.ef
    @Option(name: .customLong("sweep-ef"), parsing: .singleValue, help: ArgumentHelp(
        "HNSW: ef values to sweep, comma-separated (e.g. 10,16,32,64,128,256,512).", valueName: "list"))
    var sweepEF: [String] = []
    @Option(help: "IVF: lists scanned per query for a single point.") var nprobe: Int = IVFSearchParameters.default.nprobe
    @Option(name: .customLong("sweep-nprobe"), parsing: .singleValue, help: ArgumentHelp(
        "IVF: nprobe values to sweep, comma-separated (e.g. 1,2,4,8,16,32,64,128).", valueName: "list"))
    var sweepNprobe: [String] = []
    @Option(help: ArgumentHelp(#"A metadata filter to measure, e.g. '{"year": {"$gte": 2020}}'; repeat for several."#, valueName: "json"))
    var filter: [String] = []
    @Option(name: .customLong("filter-selectivity"), parsing: .singleValue, help: ArgumentHelp(
        "Fractions of the base that filters admit, comma-separated (e.g. 0.5,0.1,0.01,0.001).", valueName: "list"))
    var filterSelectivity: [String] = []
    @Option(name: .customLong("filter-strategy"), help: "HNSW: force the exact scan or the graph walk for filtered points (default: the planner chooses).")
    var filterStrategy: FilterPlan.Strategy?
    @Option(help: "Threads for the batch (default: every core).") var threads: Int?
    @Option(name: .customLong("build-threads"), help: "Threads for building (default: every core).") var buildThreads: Int?
    @Option(help: "Batch runs per point; the best is reported.") var runs: Int = 3
    @Option(help: "Write the report as JSON here.") var json: String?

    /// The points to measure: one per swept value of the index kind's knob.
    var sweep: [(params: [String: Int], knobs: SearchKnobs)] {
        get throws {
            switch options.index {
            case .flat:
                return [([:], SearchKnobs())]
            case .ivf:
                return try Self.values(sweepNprobe, option: "--sweep-nprobe", single: nprobe).map {
                    (["nprobe": $0], SearchKnobs(nprobe: $0))
                }
            case .hnsw:
                return try Self.values(sweepEF, option: "--sweep-ef", single: ef).map {
                    (["ef": $0], SearchKnobs(ef: $0, filterStrategy: filterStrategy))
                }
            }
        }
    }

    private static func values(_ lists: [String], option: String, single: Int) throws -> [Int] {
        let values = lists.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        guard !values.isEmpty else { return [single] }
        return try values.map {
            guard let value = Int($0), value > 0 else { throw ValidationError("\(option): '\($0)' is not a positive integer") }
            return value
        }
    }

    func validate() throws {
        guard k > 0 else { throw ValidationError("--k must be positive") }
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if options.index != .hnsw, !sweepEF.isEmpty { throw ValidationError("--sweep-ef applies to --index hnsw") }
        if options.index != .ivf, !sweepNprobe.isEmpty { throw ValidationError("--sweep-nprobe applies to --index ivf") }
        if options.index != .hnsw, filterStrategy != nil { throw ValidationError("--filter-strategy applies to --index hnsw") }
        if filterStrategy == .unfiltered { throw ValidationError("--filter-strategy is exact or index") }
        _ = try sweep
        _ = try selectivities
        if dataset != nil {
            guard base == nil, queries == nil, groundtruth == nil else {
                throw ValidationError("--dataset holds the base, queries and ground truth: give it alone, or --base and --queries")
            }
        } else {
            guard base != nil, queries != nil else { throw ValidationError("give --base and --queries, or --dataset FILE.hdf5") }
            if groundtruth == nil, filter.isEmpty, filterSelectivity.isEmpty {
                throw ValidationError("give --groundtruth, or a --filter or --filter-selectivity to measure")
            }
        }
    }

    /// Label values of the generated selectivity column: `bench_label < s·labelRange` admits s.
    static let labelRange = 100_000
    static let labelField = "bench_label"

    var selectivities: [Double] {
        get throws {
            try filterSelectivity.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.map {
                guard let value = Double($0), value > 0, value <= 1 else {
                    throw ValidationError("--filter-selectivity: '\($0)' is not a fraction in (0, 1]")
                }
                return value
            }
        }
    }

    /// The filters to measure, with the selectivity they were asked for (nil: a --filter).
    var filters: [(filter: Filter, target: Double?)] {
        get throws {
            try filter.map { (try parseFilter($0), nil) } + selectivities.map { s in
                (Filter.lessThan(Self.labelField, .int(Int64((s * Double(Self.labelRange)).rounded()))), Optional(s))
            }
        }
    }

    /// The base, the queries, the ground truth (where there is one, and the file it came from)
    /// and the index options: from --base/--queries/--groundtruth, or from --dataset, whose
    /// distance attribute sets the metric.
    private func inputs() throws -> (base: EmbeddingSet, queries: VectorMatrix, truth: (IntegerMatrix, String)?, options: IndexOptions) {
        var options = self.options
        if let dataset {
            let file = try ANNBenchmarksDataset.read(dataset)
            options.metric = file.metric
            if file.neighbors == nil, filter.isEmpty, filterSelectivity.isEmpty {
                throw CLIError("\(dataset) has no 'neighbors' dataset: give a --filter or --filter-selectivity to measure")
            }
            return (EmbeddingSet(vectors: file.train, ids: nil), file.test, file.neighbors.map { ($0, "\(dataset):neighbors") }, options)
        }
        guard let base, let queries else { throw ValidationError("give --base and --queries, or --dataset FILE.hdf5") }
        let baseSet = try EmbeddingFile.read(base)
        let queryVectors = try EmbeddingFile.read(queries).vectors
        guard queryVectors.dimension == baseSet.vectors.dimension else {
            throw VectorSearchError.dimensionMismatch(expected: baseSet.vectors.dimension, actual: queryVectors.dimension, row: nil)
        }
        return (baseSet, queryVectors, try groundtruth.map { (try EmbeddingFile.readIntegers($0), $0) }, options)
    }

    func run() throws {
        let (baseSet, queryVectors, truthFile, options) = try inputs()
        let ids = baseSet.ids ?? (0..<baseSet.vectors.count).map { VectorID($0) }
        let truth = try truthFile.map { try truthSets($0.0, path: $0.1, queryCount: queryVectors.count, ids: ids) }
        let filters = try self.filters
        var attributes = try options.attributes(for: baseSet)
        if !filterSelectivity.isEmpty { attributes = Self.addingLabels(to: attributes, count: baseSet.vectors.count) }
        let threadCount = threads ?? VectorSearchLibrary.coreCount

        let rssBefore = residentBytes()
        let buildStart = monotonicSeconds()
        let index = try buildIndex(baseSet, attributes: attributes, options: options, threads: buildThreads)
        let buildSeconds = monotonicSeconds() - buildStart
        let indexRSS = residentBytes() - rssBefore

        var points: [BenchmarkReport.Point] = []
        if let truth {
            for (params, knobs) in try sweep {
                points.append(try measure(
                    index, queries: queryVectors, truth: truth, params: params, knobs: knobs, filter: nil, threads: threadCount))
            }
        }
        var filtered: [BenchmarkReport.FilteredRun] = []
        if !filters.isEmpty {
            let exact = try FlatIndex(dimension: baseSet.vectors.dimension, metric: options.metric)
            try exact.add(baseSet.vectors, ids: ids, attributes: attributes)
            for (filter, target) in filters {
                let progress = ProgressLine("filtered ground truth (flat scan)", total: 1)
                let truth = try exact.search(batch: queryVectors, k: k, filter: filter, threads: threadCount).map { Set($0.map(\.id)) }
                progress.finish()
                var run = BenchmarkReport.FilteredRun(
                    filter: filter.json, targetSelectivity: target, matchCount: try exact.plan(filter: filter, parameters: .init()).matchCount,
                    points: [])
                for (params, knobs) in try sweep {
                    // Planning compiles the filter (cached from then on): not part of the timing.
                    let strategy = try index.plan(filter: filter, knobs: knobs).strategy
                    var point = try measure(
                        index, queries: queryVectors, truth: truth, params: params, knobs: knobs, filter: filter, threads: threadCount)
                    point.strategy = strategy.rawValue
                    run.points.append(point)
                }
                if options.index != .flat { run.qpsAtRecall = BenchmarkReport.interpolate(run.points, targets: [0.90, 0.95, 0.99]) }
                filtered.append(run)
            }
        }
        var report = BenchmarkReport(
            index: options.index.rawValue, metric: options.metric.rawValue, k: k, threads: threadCount,
            nBase: index.count, nQueries: queryVectors.count, dimension: index.dimension,
            buildSeconds: buildSeconds, indexBytes: index.memoryBytes, peakRSSBytes: peakResidentBytes(),
            simd: SIMDLevel.detected.rawValue, blas: BLAS.description, points: points, indexRSSBytes: indexRSS)
        let buildThreadCount = buildThreads ?? VectorSearchLibrary.coreCount
        switch index {
        case .flat: break
        case let .ivf(ivf):
            report.build = ["nlist": ivf.listCount, "threads": buildThreadCount]
            if let trainSize = options.trainSize { report.build?["train_size"] = trainSize }
        case .hnsw:
            report.build = ["m": options.m, "ef_construction": options.efConstruction, "threads": buildThreadCount]
        }
        if options.index != .flat, !points.isEmpty {
            report.qpsAtRecall = BenchmarkReport.interpolate(points, targets: [0.90, 0.95, 0.99])
        }
        if !filtered.isEmpty { report.filtered = filtered }
        print(report.table)
        fflush(nil)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic)
            status("wrote \(json)")
        }
    }

    /// The ground truth's rows as sets of ids (its first k per query); `path` names it in errors.
    private func truthSets(_ truth: IntegerMatrix, path: String, queryCount: Int, ids: [VectorID]) throws -> [Set<VectorID>] {
        guard truth.count == queryCount else {
            throw CLIError("\(path) has \(truth.count) rows but there are \(queryCount) queries")
        }
        guard truth.dimension >= k else { throw CLIError("\(path) holds top-\(truth.dimension), fewer than --k \(k)") }
        return try (0..<queryCount).map { q in
            Set(try truth.values[(q * truth.dimension)..<(q * truth.dimension + k)].map { row in
                guard row >= 0, Int(row) < ids.count else { throw CLIError("\(path): row \(row) is not a row of the base (\(ids.count) rows)") }
                return ids[Int(row)]
            })
        }
    }

    /// `attributes` (or empty ones) with a uniform pseudo-random `bench_label` in 0..<labelRange
    /// each: the SplitMix64 hash of the row number, so every run labels the same.
    static func addingLabels(to attributes: [Attributes], count: Int) -> [Attributes] {
        (0..<count).map { row in
            var z = UInt64(row) &* 0x9E37_79B9_7F4A_7C15 &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            var a = attributes.isEmpty ? [:] : attributes[row]
            a[labelField] = .int(Int64((z ^ (z >> 31)) % UInt64(labelRange)))
            return a
        }
    }

    /// One point: every query alone on one thread (latencies, recall), then the batch.
    private func measure(
        _ index: AnyIndex, queries: VectorMatrix, truth: [Set<VectorID>], params: [String: Int], knobs: SearchKnobs,
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
                    let n = try index.search(query, k: k, knobs: knobs, filter: filter, into: out)
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
            batchResults = try index.search(batch: queries, k: k, knobs: knobs, filter: filter, threads: threads)
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
        case version, index, metric, k, threads, dimension, simd, blas, points, build, filtered
        case qpsAtRecall = "qps_at_recall"
        case indexRSSBytes = "index_rss_bytes"
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
            String(format: "build %.3f s; index %.1f MB (resident growth %.1f MB); peak RSS %.1f MB",
                   buildSeconds, Double(indexBytes) / 1e6, Double(indexRSSBytes) / 1e6, Double(peakRSSBytes) / 1e6),
        ]
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
            lines.append(params.padding(toLength: max(12, params.count), withPad: " ", startingAt: 0) + String(
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
