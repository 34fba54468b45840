import ArgumentParser
import Foundation
import VectorSearch

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an index from an embedding file and save it.",
        discussion: """
            Ids come from the file when it has them (JSONL "id"), else they are row numbers. An IVF index \
            from an fvecs, bvecs or fbin file without --metadata is built streaming: one pass reads the \
            training sample, a second adds the rows a batch at a time, so memory holds the index and one \
            batch, never the file twice.

            Shards: --shard I/N builds only rows I·R/N ..< (I+1)·R/N of the R rows (I from 0), keeping \
            their global row numbers as ids, and writes OUTPUT.shard.json (dataset fingerprint, rows, \
            build parameters) beside the index, which `serve` reports and a router checks. IVF shards \
            agree on their lists when they share one trained quantizer: build it once with \
            --train-only (trains on the whole input, adds nothing), then give it to every shard with \
            --quantizer.
            """)

    @Option(help: "Embedding file (fvecs, bvecs, fbin, npy, jsonl).") var input: String
    @Option(help: "Input format when the extension does not tell.") var format: EmbeddingFormat?
    @OptionGroup var options: IndexOptions
    @Option(help: "Threads for building (default: every core).") var threads: Int?
    @Option(help: "Where to write the index.") var output: String
    @Option(help: ArgumentHelp("Build only shard I of N (I from 0); see below.", valueName: "I/N")) var shard: ShardNumber?
    @Option(help: "IVF: add to this trained, empty index (from --train-only) instead of training.") var quantizer: String?
    @Flag(name: .customLong("train-only"), help: "IVF: train the lists on the input and save the empty index (a --quantizer for shards).")
    var trainOnly = false

    func validate() throws {
        if quantizer != nil || trainOnly, options.index != .ivf { throw ValidationError("--quantizer and --train-only are for --index ivf") }
        if quantizer != nil, trainOnly { throw ValidationError("give --quantizer or --train-only, not both") }
        if trainOnly, shard != nil { throw ValidationError("--train-only trains on the whole input: no --shard") }
    }

    func run() throws {
        if options.index == .ivf, options.metadata == nil, EmbeddingStream.supports(input, format: format) {
            return try buildStreamedIVF()
        }
        if quantizer != nil || trainOnly {
            throw CLIError("--quantizer and --train-only need a streamed build: an fvecs, bvecs or fbin input without --metadata")
        }
        let start = monotonicSeconds()
        var set = try EmbeddingFile.read(input, format: format)
        var attributes = try options.attributes(for: set)
        var manifest: ShardManifest?
        if let shard {
            let whole = set.vectors
            let sampled = ShardManifest.fingerprintRows(count: whole.count).flatMap { whole[$0] }
            let built = try shardManifest(shard, rows: whole.count, dimension: whole.dimension, sampled: sampled, quantizer: nil)
            let rows = built.first..<built.end
            let ids = set.ids ?? (0..<whole.count).map { VectorID($0) }
            set = EmbeddingSet(
                vectors: try VectorMatrix(
                    dimension: whole.dimension, values: Array(whole.values[(rows.lowerBound * whole.dimension)..<(rows.upperBound * whole.dimension)])),
                ids: Array(ids[rows]))
            if !attributes.isEmpty { attributes = Array(attributes[rows]) }
            manifest = built
        }
        let loaded = monotonicSeconds()
        let index = try buildIndex(set, attributes: attributes, options: options, threads: threads)
        let built = monotonicSeconds()
        try index.save(to: output)
        try writeManifest(manifest)
        status(
            String(
                format: "built %@ index of %d vectors (dimension %d, %@, %@): read %.2fs, build %.2fs, save %.2fs -> %@",
                options.index.rawValue, set.vectors.count, set.vectors.dimension, options.metric.rawValue, options.storage.rawValue,
                loaded - start, built - loaded, monotonicSeconds() - built, output))
    }

    /// An IVF index from a streamed file: the training sample's rows read where they lie (the
    /// same rows an in-memory build samples, so the same index), then the rows (a shard's only)
    /// added a batch at a time.
    private func buildStreamedIVF() throws {
        let start = monotonicSeconds()
        var stream = try EmbeddingStream(input, format: format)
        let d = stream.dimension, count = stream.count
        // A shard's rows (all of them otherwise), and the rows the dataset's fingerprint reads.
        var rows = 0..<count
        if let shard {
            let range = ShardManifest.rows(shard: shard.number, of: shard.count, count: count)
            rows = range.first..<range.end
        }
        let fingerprintRows = shard == nil ? [] : ShardManifest.fingerprintRows(count: count)
        var sampled = [Float]()
        let index: IVFIndex
        var quantizerFingerprint: String?
        if let quantizer {
            (index, quantizerFingerprint) = try Self.loadQuantizer(quantizer, dimension: d, metric: options.metric)
        } else {
            var parameters = try options.parameters.ivf
            parameters.nlist = parameters.nlist ?? IVFParameters.defaultListCount(for: rows.count)
            index = try IVFIndex(dimension: d, metric: options.metric, parameters: parameters, storage: options.storage)
        }
        // The training sample (unless a quantizer is given), in one pass over the shard's rows.
        let training = quantizer == nil ? index.trainingRows(count: rows.count).map { $0 + rows.lowerBound } : []
        if !training.isEmpty {
            let started = monotonicSeconds()
            let sample = try stream.read(rows: training)
            status(String(format: "read the training sample (%d rows) in %.1fs", training.count, monotonicSeconds() - started))
            let parameters = index.parameters
            let codebooks = parameters.codec.map { " and the \($0.kind.rawValue) codebooks\($0.rotation ? " with OPQ" : "")" } ?? ""
            let progress = ProgressLine("training \(parameters.nlist!) lists (k-means)\(codebooks)", total: parameters.iterations)
            try index.train(sample, threads: threads) { iteration, _ in progress.update(iteration) }
            progress.finish()
            stream = try EmbeddingStream(input, format: format)
        }
        // A shard's fingerprint: 64 rows spread over the whole file, read where they lie.
        if !fingerprintRows.isEmpty {
            sampled = try stream.read(rows: fingerprintRows).values
            stream = try EmbeddingStream(input, format: format)
        }
        var manifest: ShardManifest?
        if let shard { manifest = try shardManifest(shard, rows: count, dimension: d, sampled: sampled, quantizer: quantizerFingerprint) }
        if !trainOnly {
            index.reserveCapacity(rows.count)
            let adding = ProgressLine("adding", total: rows.count)
            try stream.skip(rows: rows.lowerBound)
            while let batch = try stream.next(rows: Self.batchRows) {
                let first = stream.position - batch.count
                let wanted = max(first, rows.lowerBound)..<min(stream.position, rows.upperBound)
                if !wanted.isEmpty {
                    let part =
                        wanted == first..<stream.position
                        ? batch
                        : try VectorMatrix(dimension: d, values: Array(batch.values[((wanted.lowerBound - first) * d)..<((wanted.upperBound - first) * d)]))
                    try rebasingRowErrors(offset: wanted.lowerBound) {
                        try index.add(part, ids: wanted.map { VectorID($0) }, threads: threads)
                    }
                }
                adding.update(max(0, min(stream.position, rows.upperBound) - rows.lowerBound))
                if stream.position >= rows.upperBound { break }
            }
            adding.finish()
        }
        SystemResources.returnFreedMemory()
        let built = monotonicSeconds()
        try index.save(to: output)
        try writeManifest(manifest)
        status(
            String(
                format: "built ivf index of %d vectors (dimension %d, %@, %@), streamed%@: build %.2fs, save %.2fs -> %@",
                index.count, d, options.metric.rawValue, index.parameters.codec?.description ?? index.storage.rawValue,
                trainOnly ? ", trained only" : manifest.map { ", shard \($0.shard)/\($0.shards) (rows \($0.first)..<\($0.end))" } ?? "",
                built - start, monotonicSeconds() - built, output))
    }

    /// Writes a shard's manifest beside the index, or removes one left by an earlier shard build
    /// to the same path (the index is not a shard now).
    func writeManifest(_ manifest: ShardManifest?) throws {
        if let manifest { return try manifest.write(besideIndex: output) }
        let stale = ShardManifest.path(besideIndex: output)
        guard FileManager.default.fileExists(atPath: stale) else { return }
        do {
            try FileManager.default.removeItem(atPath: stale)
        } catch {
            throw VectorSearchError.io(path: stale, reason: "cannot remove this earlier shard manifest: \(error.localizedDescription)")
        }
    }

    /// A trained, empty IVF index to add a shard's rows to, and its fingerprint (its file's CRC).
    static func loadQuantizer(_ path: String, dimension: Int, metric: Metric) throws -> (IVFIndex, String) {
        guard case .ivf(let index) = try AnyIndex.load(from: path) else { throw CLIError("--quantizer \(path) is not an IVF index") }
        guard index.isTrained, index.count == 0 else {
            throw CLIError("--quantizer \(path) must be trained and empty (build it with --train-only); it holds \(index.count) vectors")
        }
        guard index.dimension == dimension, index.metric == metric else {
            throw CLIError(
                "--quantizer \(path) is \(index.metric.rawValue), dimension \(index.dimension); the input and --metric are \(metric.rawValue), dimension \(dimension)"
            )
        }
        let bytes = try RegularFile.readAll(path)
        return (index, String(bytes.withUnsafeBytes { Checksum.crc32($0) }, radix: 16))
    }

    /// The manifest of this build's shard: the dataset's size and fingerprint, and the build
    /// parameters as given (so every shard of one build computes the same).
    func shardManifest(_ shard: ShardNumber, rows: Int, dimension: Int, sampled: [Float], quantizer: String?) throws -> ShardManifest {
        let p = options.parameters
        let parameters =
            switch options.index {
            case .flat: "storage=\(options.storage.rawValue)"
            case .hnsw: "storage=\(options.storage.rawValue) m=\(p.m) ef_construction=\(p.efConstruction) seed=\(p.seed.map(String.init) ?? "default")"
            case .ivf:
                quantizer != nil
                    ? "quantizer"
                    : "storage=\(options.storage.rawValue) nlist=\(p.nlist.map(String.init) ?? "auto") train=\(p.trainSize.map(String.init) ?? "all") "
                        + "iterations=\(p.kmeansIterations) codec=\(p.codec?.rawValue ?? "none") pq_m=\(p.pqM.map(String.init) ?? "-") opq=\(p.opq) residual=\(!p.noResidual) seed=\(p.seed.map(String.init) ?? "default")"
            }
        let name = (input as NSString).lastPathComponent
        return try ShardManifest(
            shard: shard.number, of: shard.count,
            dataset: .init(
                file: name, rows: rows, dimension: dimension,
                fingerprint: ShardManifest.datasetFingerprint(rows: rows, dimension: dimension, sampled: sampled)),
            kind: options.index, metric: options.metric, parameters: parameters, quantizer: quantizer)
    }

    /// Rows a streamed build reads at a time.
    static let batchRows = 262_144
}

/// `--shard I/N`: shard I (from 0) of N.
struct ShardNumber: ExpressibleByArgument {
    let number: Int
    let count: Int

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let number = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(number) else {
            return nil
        }
        (self.number, self.count) = (number, count)
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// Builds the index `options` describe from a file's vectors (and their metadata, if any), in
/// chunks, with a progress line. Ids come from the file when it has them, else they are row numbers.
func buildIndex(_ set: EmbeddingSet, attributes: [Attributes], options: IndexOptions, threads: Int?) throws -> AnyIndex {
    try ParameterCheck.threads(threads)  // flat builds use none, but a bad value is still an error
    let vectors = set.vectors
    let ids = set.ids ?? (0..<vectors.count).map { VectorID($0) }
    let progress = ProgressLine("adding", total: vectors.count)
    defer { progress.finish() }
    let index = try AnyIndex(
        kind: options.index, dimension: vectors.dimension, metric: options.metric, storage: options.storage, hnsw: options.parameters.hnsw,
        ivf: options.parameters.ivf)
    switch index {
    case let .flat(flat):
        try addInChunks(vectors, ids: ids, attributes: attributes, progress: progress) { try flat.add($0, ids: $1, attributes: $2) }
    case let .ivf(ivf):
        let parameters = ivf.parameters
        let nlist = parameters.nlist ?? IVFParameters.defaultListCount(for: vectors.count)
        let codebooks = parameters.codec.map { " and the \($0.kind.rawValue) codebooks\($0.rotation ? " with OPQ" : "")" } ?? ""
        let training = ProgressLine("training \(nlist) lists (k-means)\(codebooks)", total: parameters.iterations)
        try rebasingRowErrors(offset: 0) {
            try ivf.train(vectors, threads: threads) { iteration, _ in training.update(iteration) }
        }
        training.finish()
        try rebasingRowErrors(offset: 0) { try ivf.add(vectors, ids: ids, attributes: attributes, threads: threads) }
        SystemResources.returnFreedMemory()  // training's copies and the coding batches
    case let .hnsw(hnsw):
        // One call, so the whole build runs in parallel; the index reports progress from a worker
        // (ProgressLine is locked, so any thread may update it).
        try rebasingRowErrors(offset: 0) {
            try hnsw.add(vectors, ids: ids, attributes: attributes, threads: threads) { done, _ in progress.update(done) }
        }
    }
    return index
}

/// Adds `vectors` in chunks so the progress line moves; errors name rows of the whole file.
private func addInChunks(
    _ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes], progress: ProgressLine,
    add: (VectorMatrix, [VectorID], [Attributes]) throws -> Void
) throws {
    let chunk = 65_536
    var start = 0
    while start < vectors.count {
        let end = min(start + chunk, vectors.count)
        let part = try VectorMatrix(
            dimension: vectors.dimension, values: Array(vectors.values[(start * vectors.dimension)..<(end * vectors.dimension)]))
        try rebasingRowErrors(offset: start) {
            try add(part, Array(ids[start..<end]), attributes.isEmpty ? [] : Array(attributes[start..<end]))
        }
        start = end
        progress.update(start)
    }
}

/// Runs `body`, shifting the row numbers of its errors by `offset`.
func rebasingRowErrors(offset: Int, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let VectorSearchError.nonFiniteValue(row, column) {
        throw VectorSearchError.nonFiniteValue(row: offset + row, column: column)
    } catch let VectorSearchError.zeroVector(row?) {
        throw VectorSearchError.zeroVector(row: offset + row)
    } catch let VectorSearchError.normOverflow(row?) {
        throw VectorSearchError.normOverflow(row: offset + row)
    } catch let VectorSearchError.invalidAttributes(row?, reason) {
        throw VectorSearchError.invalidAttributes(row: offset + row, reason: reason)
    }
}
