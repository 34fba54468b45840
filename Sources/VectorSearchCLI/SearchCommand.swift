import ArgumentParser
import VectorSearch

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search a saved index with every query of a file.",
        discussion: """
            Prints one line per query, in query order: the query's row number, then id:score pairs best \
            first. With --output, writes the ids instead (.ivecs/.ibin/.npy, int32; -1 pads queries \
            with fewer than k results).
            """)

    @Option(help: "A saved index.") var index: String
    @Option(help: "Query vectors (fvecs, bvecs, fbin, npy, jsonl).") var queries: String
    @Option(parsing: .unconditional, help: "Neighbours per query.") var k: Int = 10
    @OptionGroup var settings: SearchSettingOptions
    @Option(
        help: ArgumentHelp(
            #"Only vectors whose metadata matches, e.g. '{"year": {"$gte": 2020}}' ($eq $ne $lt $lte $gt $gte $in $nin $contains $exists $and $or $not)."#,
            valueName: "json"))
    var filter: String?
    @Option(help: "Threads (default: every core).") var threads: Int?
    @Option(help: "Write result ids here instead of printing.") var output: String?
    @Flag(help: "Open the index memory-mapped (format 3): no read at open of the vectors (IVF: of the float32 rows); the page cache holds what searches touch.")
    var mmap = false
    @Flag(
        name: .customLong("mmap-vectors"),
        help: "Map only the float32 vectors; read codes and links into memory (quantized storage: in-memory speed, float32 re-ranking from the file).")
    var mmapVectors = false

    var loadMode: IndexLoadMode { mmap ? .mapped : mmapVectors ? .mappedVectors : .copy }

    func validate() throws {
        guard k > 0 else { throw ValidationError("--k must be positive") }
        guard !(mmap && mmapVectors) else { throw ValidationError("give --mmap or --mmap-vectors, not both") }
    }

    func run() throws {
        let filter = try self.filter.map(parseFilter)
        let querySet = try EmbeddingFile.read(queries)
        let start = monotonicSeconds()
        let loaded = try AnyIndex.load(from: index, mode: loadMode)
        let opened = monotonicSeconds()
        let results = try loaded.search(batch: querySet.vectors, k: k, options: settings.options, filter: filter, threads: threads)
        let searched = monotonicSeconds()
        let resident = residentSplit()
        status(
            "opened \(loadMode.rawValue) in "
                + String(
                    format: "%.1f ms; %d queries in %.3f s (%.0f queries/s); resident %.1f MB own memory, %.1f MB of mapped files",
                    (opened - start) * 1000, querySet.vectors.count, searched - opened,
                    Double(querySet.vectors.count) / max(searched - opened, 1e-9), Double(resident.anonymous) / 1e6,
                    Double(resident.file) / 1e6))
        if let output {
            // As wide as the results can be: k, or the index's size when it holds fewer.
            let k = max(results.k, 1)
            var ids = [Int32](repeating: -1, count: querySet.vectors.count * k)
            for (q, neighbours) in results.enumerated() {
                for (rank, neighbour) in neighbours.enumerated() {
                    guard let id = Int32(exactly: neighbour.id) else {
                        throw CLIError("id \(neighbour.id) does not fit the int32 of \(output); print the results instead")
                    }
                    ids[q * k + rank] = id
                }
            }
            try EmbeddingFile.write(IntegerMatrix(dimension: k, values: ids), to: output)
        } else {
            var text = ""
            for (q, neighbours) in results.enumerated() {
                text += "\(q)\t" + neighbours.map { "\($0.id):\($0.score)" }.joined(separator: " ") + "\n"
                if text.utf8.count > 1 << 16 {
                    StandardOutput.print(text, terminator: "")
                    text = ""
                }
            }
            StandardOutput.print(text, terminator: "")
        }
    }
}
