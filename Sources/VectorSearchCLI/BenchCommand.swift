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
    @Option(parsing: .unconditional, help: "Neighbours per query.") var k: Int = 10
    @Option(
        name: .customLong("sweep-ef"), parsing: .singleValue,
        help: ArgumentHelp(
            "HNSW: ef values to sweep, comma-separated (e.g. 10,16,32,64,128,256,512).", valueName: "list"))
    var sweepEF: [String] = []
    @Option(
        name: .customLong("sweep-nprobe"), parsing: .singleValue,
        help: ArgumentHelp(
            "IVF: nprobe values to sweep, comma-separated (e.g. 1,2,4,8,16,32,64,128).", valueName: "list"))
    var sweepNprobe: [String] = []
    @Option(
        name: .customLong("sweep-rerank"), parsing: .singleValue,
        help: ArgumentHelp(
            "Quantized storage: rerank values to sweep, comma-separated (e.g. 0,1,2,4), crossed with the other sweep.", valueName: "list"))
    var sweepRerank: [String] = []
    @Option(help: ArgumentHelp(#"A metadata filter to measure, e.g. '{"year": {"$gte": 2020}}'; repeat for several."#, valueName: "json"))
    var filter: [String] = []
    @Option(
        name: .customLong("filter-selectivity"), parsing: .singleValue,
        help: ArgumentHelp(
            "Fractions of the base that filters admit, comma-separated (e.g. 0.5,0.1,0.01,0.001).", valueName: "list"))
    var filterSelectivity: [String] = []
    @OptionGroup(title: "Search settings (--ef and --nprobe: the single point when there is no sweep)") var settings: SearchSettingOptions
    @Option(help: "Threads for the batch (default: every core).") var threads: Int?
    @Option(name: .customLong("build-threads"), help: "Threads for building (default: every core).") var buildThreads: Int?
    @Option(help: "Batch runs per point; the best is reported.") var runs: Int = 3
    @Option(help: "Write the report as JSON here.") var json: String?
    @Flag(help: "Search the index memory-mapped: it is saved to a temporary file beside --json (or in the working directory) and opened mapped.")
    var mmap = false
    @Flag(name: .customLong("mmap-vectors"), help: "As --mmap, mapping only the float32 vectors (codes and links read into memory).")
    var mmapVectors = false
    @Flag(
        help: "With --mmap or --mmap-vectors: measure from a cold page cache (no warm-up pass; the first points read from disk what they touch).")
    var cold = false

    /// The points to measure: one per swept value of the index kind's knob (and of rerank).
    var sweep: [(params: [String: Int], options: SearchOptions)] {
        get throws {
            let points = try kindSweep
            guard !sweepRerank.isEmpty else { return points }
            return try Self.values(sweepRerank, option: "--sweep-rerank", single: 0, allowZero: true).flatMap { rerank in
                points.map { point in
                    var options = point.options
                    options.rerank = rerank
                    return (point.params.merging(["rerank": rerank]) { $1 }, options)
                }
            }
        }
    }

    private var kindSweep: [(params: [String: Int], options: SearchOptions)] {
        get throws {
            let base = settings.options
            switch options.index {
            case .flat:
                return [([:], base)]
            case .ivf:
                return try Self.values(sweepNprobe, option: "--sweep-nprobe", single: base.nprobe).map {
                    var options = base
                    options.nprobe = $0
                    return (["nprobe": $0], options)
                }
            case .hnsw:
                return try Self.values(sweepEF, option: "--sweep-ef", single: base.ef).map {
                    var options = base
                    options.ef = $0
                    return (["ef": $0], options)
                }
            }
        }
    }

    /// The settings of a sweep that read the most: the largest ef, nprobe and rerank.
    static func widest(_ points: [SearchOptions]) -> SearchOptions? {
        guard var widest = points.first else { return nil }
        for point in points {
            widest.ef = max(widest.ef, point.ef)
            widest.nprobe = max(widest.nprobe, point.nprobe)
            widest.rerank = max(widest.rerank, point.rerank)
        }
        return widest
    }

    /// The index saved to a temporary file and opened from it memory-mapped; the file is
    /// unlinked at once (the mapping keeps it until the process ends). Its pages are evicted
    /// from the page cache first, so what is resident afterwards is what the searches touched.
    static func reopenedMapped(_ index: AnyIndex, mode: IndexLoadMode, besides json: String?) throws -> AnyIndex {
        let directory = json.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "."
        let path = "\(directory)/.vectorsearch-bench-\(getpid()).vsidx"
        let progress = ProgressLine("saving and mapping the index", total: 1)
        try index.save(to: path)
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))  // saved with fsync: clean pages, evictable
            close(fd)
        }
        let mapped = try AnyIndex.load(from: path, mode: mode)
        progress.finish()
        return mapped
    }

    private static func values(_ lists: [String], option: String, single: Int, allowZero: Bool = false) throws -> [Int] {
        let values = lists.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        guard !values.isEmpty else { return [single] }
        return try values.map {
            guard let value = Int($0), value > 0 || (allowZero && value == 0) else {
                throw ValidationError("\(option): '\($0)' is not a \(allowZero ? "non-negative" : "positive") integer")
            }
            return value
        }
    }

    func validate() throws {
        guard k > 0 else { throw ValidationError("--k must be positive") }
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard !(mmap && mmapVectors) else { throw ValidationError("give --mmap or --mmap-vectors, not both") }
        guard !cold || mmap || mmapVectors else { throw ValidationError("--cold applies to --mmap and --mmap-vectors") }
        if options.index != .hnsw, !sweepEF.isEmpty { throw ValidationError("--sweep-ef applies to --index hnsw") }
        if options.index != .ivf, !sweepNprobe.isEmpty { throw ValidationError("--sweep-nprobe applies to --index ivf") }
        if !options.storage.isQuantized, options.parameters.codec == nil, !sweepRerank.isEmpty {
            throw ValidationError("--sweep-rerank applies to quantized --storage and to --codec")
        }
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
            try filter.map { (try parseFilter($0), nil) }
                + selectivities.map { s in
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
        guard let base, let queries else { throw CLIError("give --base and --queries, or --dataset FILE.hdf5") }
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
        var index = try buildIndex(baseSet, attributes: attributes, options: options, threads: buildThreads)
        let buildSeconds = monotonicSeconds() - buildStart
        let indexRSS = residentBytes() - rssBefore
        if mmap || mmapVectors {
            index = try Self.reopenedMapped(index, mode: mmap ? .mapped : .mappedVectors, besides: json)
            if !cold, let widest = Self.widest(try sweep.map(\.options)) {
                // Once through the queries at the widest point: the pages they touch are read in
                // before the timing, as in a server that has been answering for a while.
                let progress = ProgressLine("warming the mapped index", total: 1)
                _ = try index.search(batch: queryVectors, k: k, options: widest, threads: threadCount)
                progress.finish()
            }
        }

        var points: [BenchmarkReport.Point] = []
        if let truth {
            for (params, settings) in try sweep {
                points.append(
                    try measure(
                        index, queries: queryVectors, truth: truth, params: params, options: settings, filter: nil, threads: threadCount))
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
                    filter: filter.json, targetSelectivity: target, matchCount: try exact.plan(filter: filter, parameters: .default).matchCount,
                    points: [])
                for (params, settings) in try sweep {
                    // Planning compiles the filter (cached from then on): not part of the timing.
                    let strategy = try index.plan(filter: filter, options: settings).strategy
                    var point = try measure(
                        index, queries: queryVectors, truth: truth, params: params, options: settings, filter: filter, threads: threadCount)
                    point.strategy = strategy.rawValue
                    run.points.append(point)
                }
                if options.index != .flat { run.qpsAtRecall = BenchmarkReport.interpolate(run.points, targets: [0.90, 0.95, 0.99]) }
                filtered.append(run)
            }
        }
        var report = BenchmarkReport(
            index: options.index.rawValue, storage: options.parameters.codec?.rawValue ?? options.storage.rawValue, metric: options.metric.rawValue, k: k,
            threads: threadCount,
            nBase: index.count, nQueries: queryVectors.count, dimension: index.dimension,
            buildSeconds: buildSeconds, indexBytes: index.memoryBytes, peakRSSBytes: peakResidentBytes(),
            simd: SIMDLevel.detected.rawValue, blas: BLAS.description, points: points, indexRSSBytes: indexRSS)
        let buildThreadCount = buildThreads ?? VectorSearchLibrary.coreCount
        switch index {
        case .flat: break
        case let .ivf(ivf):
            report.build = ["nlist": ivf.listCount, "threads": buildThreadCount]
            if let codec = ivf.parameters.codec {
                report.build?["pq_m"] = codec.subquantizers
                report.build?["opq"] = codec.rotation ? 1 : 0
                report.build?["code_bytes"] = codec.bytesPerVector
            }
            if let trainSize = options.parameters.trainSize { report.build?["train_size"] = trainSize }
        case let .hnsw(hnsw):
            report.build = ["m": hnsw.parameters.m, "ef_construction": hnsw.parameters.efConstruction, "threads": buildThreadCount]
        }
        if options.index != .flat, !points.isEmpty {
            report.qpsAtRecall = BenchmarkReport.interpolate(points, targets: [0.90, 0.95, 0.99])
        }
        if !filtered.isEmpty { report.filtered = filtered }
        if mmap || mmapVectors { report.mapped = true }
        if mmapVectors { report.mappedVectorsOnly = true }
        if (mmap || mmapVectors) && cold { report.cold = true }
        report.memoryParts = index.memoryParts.map { .init(part: $0.part, bytes: $0.bytes, mapped: $0.mapped, resident: $0.resident) }
        (report.rssAnonBytes, report.rssFileBytes) = residentSplit()
        StandardOutput.print(report.table)
        fflush(nil)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(Array(try encoder.encode(report)), to: json)
            status("wrote \(json)")
        }
    }
}
