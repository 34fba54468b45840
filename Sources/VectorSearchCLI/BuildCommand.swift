import ArgumentParser
import VectorSearch

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an index from an embedding file and save it.",
        discussion: """
            Ids come from the file when it has them (JSONL "id"), else they are row numbers. An IVF index \
            from an fvecs, bvecs or fbin file without --metadata is built streaming: one pass reads the \
            training sample, a second adds the rows a batch at a time, so memory holds the index and one \
            batch, never the file twice.
            """)

    @Option(help: "Embedding file (fvecs, bvecs, fbin, npy, jsonl).") var input: String
    @Option(help: "Input format when the extension does not tell.") var format: EmbeddingFormat?
    @OptionGroup var options: IndexOptions
    @Option(help: "Threads for building (default: every core).") var threads: Int?
    @Option(help: "Where to write the index.") var output: String

    func run() throws {
        if options.index == .ivf, options.metadata == nil, EmbeddingStream.supports(input, format: format) {
            return try buildStreamedIVF()
        }
        let start = monotonicSeconds()
        let set = try EmbeddingFile.read(input, format: format)
        let attributes = try options.attributes(for: set)
        let loaded = monotonicSeconds()
        let index = try buildIndex(set, attributes: attributes, options: options, threads: threads)
        let built = monotonicSeconds()
        try index.save(to: output)
        status(
            String(
                format: "built %@ index of %d vectors (dimension %d, %@, %@): read %.2fs, build %.2fs, save %.2fs -> %@",
                options.index.rawValue, set.vectors.count, set.vectors.dimension, options.metric.rawValue, options.storage.rawValue,
                loaded - start, built - loaded, monotonicSeconds() - built, output))
    }

    /// An IVF index from a file read twice, a batch at a time: the rows training samples (the
    /// same rows an in-memory build samples, so the same index), then every row added.
    private func buildStreamedIVF() throws {
        let start = monotonicSeconds()
        var stream = try EmbeddingStream(input, format: format)
        let d = stream.dimension
        var parameters = try options.parameters.ivf
        parameters.nlist = parameters.nlist ?? IVFParameters.defaultListCount(for: stream.count)
        let index = try IVFIndex(dimension: d, metric: options.metric, parameters: parameters, storage: options.storage)
        let rows = index.trainingRows(count: stream.count)
        var sample = [Float]()
        sample.reserveCapacity(rows.count * d)
        let reading = ProgressLine("reading the training sample", total: stream.count)
        var next = 0
        while let batch = try stream.next(rows: Self.batchRows) {
            let first = stream.position - batch.count
            batch.withUnsafeBufferPointer { x in
                while next < rows.count, rows[next] < stream.position {
                    sample.append(contentsOf: UnsafeBufferPointer(start: x.baseAddress! + (rows[next] - first) * d, count: d))
                    next += 1
                }
            }
            reading.update(stream.position)
        }
        reading.finish()
        let codebooks = parameters.codec.map { " and the \($0.kind.rawValue) codebooks\($0.rotation ? " with OPQ" : "")" } ?? ""
        let training = ProgressLine("training \(parameters.nlist!) lists (k-means)\(codebooks)", total: parameters.iterations)
        try index.train(try VectorMatrix(dimension: d, values: sample), threads: threads) { iteration, _ in training.update(iteration) }
        training.finish()
        sample = []
        index.reserveCapacity(stream.count)
        stream = try EmbeddingStream(input, format: format)
        let adding = ProgressLine("adding", total: stream.count)
        while let batch = try stream.next(rows: Self.batchRows) {
            let first = stream.position - batch.count
            try rebasingRowErrors(offset: first) {
                try index.add(batch, ids: (first..<stream.position).map { VectorID($0) }, threads: threads)
            }
            adding.update(stream.position)
        }
        adding.finish()
        SystemResources.returnFreedMemory()
        let built = monotonicSeconds()
        try index.save(to: output)
        status(
            String(
                format: "built ivf index of %d vectors (dimension %d, %@, %@), streamed: build %.2fs, save %.2fs -> %@",
                index.count, d, options.metric.rawValue, parameters.codec?.description ?? options.storage.rawValue,
                built - start, monotonicSeconds() - built, output))
    }

    /// Rows a streamed build reads at a time.
    static let batchRows = 262_144
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
