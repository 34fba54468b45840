import ArgumentParser
import VectorSearch

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an index from an embedding file and save it.",
        discussion: "Ids come from the file when it has them (JSONL \"id\"), else they are row numbers.")

    @Option(help: "Embedding file (fvecs, bvecs, fbin, npy, jsonl).") var input: String
    @Option(help: "Input format when the extension does not tell.") var format: EmbeddingFormat?
    @OptionGroup var options: IndexOptions
    @Option(help: "Where to write the index.") var output: String

    func run() throws {
        let start = monotonicSeconds()
        let set = try EmbeddingFile.read(input, format: format)
        let loaded = monotonicSeconds()
        let index = try buildFlatIndex(set, metric: options.metric)
        let built = monotonicSeconds()
        try index.save(to: output)
        status(String(
            format: "built %@ index of %d vectors (dimension %d, %@): read %.2fs, build %.2fs, save %.2fs -> %@",
            options.index.rawValue, index.count, index.dimension, options.metric.rawValue,
            loaded - start, built - loaded, monotonicSeconds() - built, output))
    }
}

/// Adds a file's vectors to a new flat index in chunks, with a progress line.
func buildFlatIndex(_ set: EmbeddingSet, metric: Metric) throws -> FlatIndex {
    let vectors = set.vectors
    let index = try FlatIndex(dimension: vectors.dimension, metric: metric)
    let ids = set.ids ?? (0..<vectors.count).map { VectorID($0) }
    let progress = ProgressLine("adding", total: vectors.count)
    let chunk = 65_536
    var start = 0
    while start < vectors.count {
        let end = min(start + chunk, vectors.count)
        let part = try VectorMatrix(
            dimension: vectors.dimension, values: Array(vectors.values[(start * vectors.dimension)..<(end * vectors.dimension)]))
        do {
            try index.add(part, ids: Array(ids[start..<end]))
        } catch let VectorSearchError.nonFiniteValue(row, column) {
            throw VectorSearchError.nonFiniteValue(row: start + row, column: column)
        } catch let VectorSearchError.zeroVector(row?) {
            throw VectorSearchError.zeroVector(row: start + row)
        }
        start = end
        progress.update(start)
    }
    progress.finish()
    return index
}
