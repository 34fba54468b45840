import ArgumentParser
import VectorSearch

struct GroundTruthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groundtruth",
        abstract: "Compute exact nearest neighbours (row numbers of the base) through the BLAS path.")

    @Option(help: "Base vectors (fvecs, bvecs, fbin, npy, jsonl).") var base: String
    @Option(help: "Query vectors.") var queries: String
    @Option(help: "Metric: l2, ip or cosine.") var metric: Metric = .l2
    @Option(parsing: .unconditional, help: "Neighbours per query.") var k: Int = 100
    @Option(help: "Threads (default: every core).") var threads: Int?
    @Option(help: "Output file (.ivecs, .ibin or .npy).") var output: String

    func validate() throws {
        guard k > 0 else { throw ValidationError("--k must be positive") }
    }

    func run() throws {
        let baseSet = try EmbeddingFile.read(base)
        let querySet = try EmbeddingFile.read(queries)
        guard k <= baseSet.vectors.count else { throw CLIError("--k \(k) is more than the \(baseSet.vectors.count) base vectors") }
        let truth = try computeGroundTruth(base: baseSet.vectors, queries: querySet.vectors, metric: metric, k: k, threads: threads)
        try EmbeddingFile.write(truth, to: output)
        status("wrote \(output): top-\(k) of \(querySet.vectors.count) queries over \(baseSet.vectors.count) vectors")
    }
}

/// Exact top-k row numbers of `base` for each query.
func computeGroundTruth(base: VectorMatrix, queries: VectorMatrix, metric: Metric, k: Int, threads: Int?) throws -> IntegerMatrix {
    guard base.count <= Int(Int32.max) else { throw CLIError("ground truth rows are int32: base too large") }
    let index = try FlatIndex(dimension: base.dimension, metric: metric)
    try index.add(base)
    var values = [Int32]()
    values.reserveCapacity(queries.count * k)
    let progress = ProgressLine("ground truth", total: queries.count)
    let chunk = 1024
    var start = 0
    while start < queries.count {
        let end = min(start + chunk, queries.count)
        let part = try VectorMatrix(dimension: queries.dimension, values: Array(queries.values[(start * queries.dimension)..<(end * queries.dimension)]))
        let results = try index.search(batch: part, k: k, threads: threads)
        for neighbours in results {
            values.append(contentsOf: neighbours.map { Int32($0.id) })
        }
        start = end
        progress.update(start)
    }
    progress.finish()
    return try IntegerMatrix(dimension: k, values: values)
}
