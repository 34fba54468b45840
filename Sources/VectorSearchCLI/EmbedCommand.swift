import ArgumentParser
import Foundation
import VectorSearch
import VectorSearchEmbeddings

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed", abstract: "Embed texts with the built-in sentence embedder and write the vectors.",
        discussion: """
            --input is a .txt file (one text per line) or JSON Lines (the text in --field; integer \
            "id" keys are kept in a .jsonl output). The model is all-MiniLM-L6-v2 (384-d, unit \
            length) from scripts/fetch-model.sh, or any sentence-transformers BERT model with --model DIR.
            """)

    @Option(help: "Texts: .txt (one per line) or .jsonl.") var input: String
    @Option(help: "The JSON key holding each text (.jsonl input).") var field = "text"
    @Option(help: "Where to write the vectors (.fvecs, .fbin, .npy or .jsonl).") var output: String
    @Option(
        help: ArgumentHelp(
            "Model directory (default $VECTORSEARCH_MODEL or ~/.cache/vectorsearch/all-MiniLM-L6-v2).", valueName: "dir"))
    var model: String?
    @Option(help: "Texts per batch (texts of similar length together; a batch is cut at 1,024 tokens).") var batch = 32
    @Option(help: "Threads (default: every core).") var threads: Int?
    @Option(help: "Also write a JSON report (texts/s, load time, peak memory) to this file.") var json: String?

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let (texts, ids) = try Self.readTexts(input, field: field)
        let loadStart = monotonicSeconds()
        let embedder = try SentenceEmbedder(directory: model ?? SentenceEmbedder.defaultDirectory)
        let loadSeconds = monotonicSeconds() - loadStart
        let start = monotonicSeconds()
        let progress = ProgressLine("embedding", total: texts.count)
        let vectors = try embedder.embed(texts, batchSize: batch, threads: threads ?? VectorSearchLibrary.coreCount) { done, _ in
            progress.update(done)
        }
        progress.finish()
        let seconds = monotonicSeconds() - start
        try EmbeddingFile.write(vectors, to: output, ids: ids)
        if let json {
            let report: [String: Any] = [
                "system": "vectorsearch", "batch": batch, "threads": threads ?? VectorSearchLibrary.coreCount, "texts": texts.count,
                "tokens": texts.reduce(0) { $0 + embedder.tokenize($1).count }, "seconds": seconds,
                "texts_per_s": Double(texts.count) / max(seconds, 1e-9), "load_s": loadSeconds,
                "peak_rss_mib": Double(peakResidentBytes()) / 1_048_576,
            ]
            try AtomicFile.write(Array(try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])), to: json)
        }
        status(
            String(
                format: "embedded %d texts (%d-d) in %.2fs: %.1f texts/s; model loaded in %.2fs; wrote %@",
                texts.count, vectors.dimension, seconds, Double(texts.count) / max(seconds, 1e-9), loadSeconds, output))
    }

    /// The texts of a .txt or .jsonl file, and the JSON lines' integer ids when every line has one.
    static func readTexts(_ path: String, field: String) throws -> (texts: [String], ids: [VectorID]?) {
        let data = Data(try RegularFile.readAll(path))
        guard let text = String(data: data, encoding: .utf8) else {
            throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "not UTF-8 text")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard path.lowercased().hasSuffix(".jsonl") || path.lowercased().hasSuffix(".ndjson") else { return (lines, nil) }
        var texts: [String] = [], ids: [VectorID] = []
        for (number, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "line \(number + 1) is not a JSON object")
            }
            guard let value = object[field] as? String else {
                throw VectorSearchError.malformedFile(
                    path: path, row: nil, byteOffset: nil, reason: "line \(number + 1) has no string \"\(field)\" (choose the key with --field)")
            }
            texts.append(value)
            if let id = object["id"] as? Int, id >= 0, ids.count == texts.count - 1 { ids.append(VectorID(id)) }
        }
        return (texts, ids.count == texts.count && !texts.isEmpty ? ids : nil)
    }
}
