import Dispatch
import Foundation
import Synchronization
import VectorSearch

/// A sentence-embedding model run in process: a BERT encoder from a Hugging Face
/// sentence-transformers directory (all-MiniLM-L6-v2 by default), its WordPiece tokenizer,
/// pooling and normalisation, with every large product through the same sgemm as the indexes.
///
/// ```swift
/// let embedder = try SentenceEmbedder()   // ~/.cache/vectorsearch/all-MiniLM-L6-v2
/// let vectors = try embedder.embed(["how do I parse JSON in Swift?", "a fast HTTP server"])
/// ```
///
/// Thread-safe: one embedder may serve many threads at once.
public final class SentenceEmbedder: Sendable {
    /// How token states become one vector.
    public enum Pooling: String, Sendable {
        /// The mean over the text's tokens (all-MiniLM-L6-v2, e5).
        case mean
        /// The `[CLS]` token's state (bge).
        case cls
    }

    /// The model directory this embedder was loaded from.
    public let directory: String
    /// Length of every embedding (the encoder's hidden size).
    public let dimension: Int
    /// Longest input in tokens, `[CLS]` and `[SEP]` included; longer texts are truncated.
    public let maxSequenceLength: Int
    public let pooling: Pooling
    /// Whether embeddings are scaled to unit length (the model has a Normalize module).
    public let normalizes: Bool
    public let tokenizer: WordPieceTokenizer
    /// Whether texts are lower-cased before tokenizing (sentence_bert_config's `do_lower_case`).
    private let lowercasesInput: Bool
    let encoder: BertEncoder
    private let weights: SafeTensorsFile

    /// Where the built-in model is looked for: `$VECTORSEARCH_MODEL`, else
    /// `~/.cache/vectorsearch/all-MiniLM-L6-v2` (where `scripts/fetch-model.sh` puts it).
    public static var defaultDirectory: String {
        if let path = ProcessInfo.processInfo.environment["VECTORSEARCH_MODEL"], !path.isEmpty { return path }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/vectorsearch/all-MiniLM-L6-v2").path
    }

    /// Loads the model in `directory`: `config.json`, `model.safetensors` (memory-mapped),
    /// `vocab.txt`, and where present `tokenizer_config.json`, `special_tokens_map.json`,
    /// `sentence_bert_config.json`, `modules.json` and the pooling module's `config.json`.
    public init(directory: String = SentenceEmbedder.defaultDirectory) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EmbeddingModelError.missingFile(path: directory)
        }
        let root = URL(fileURLWithPath: directory)
        func path(_ name: String) -> String { root.appendingPathComponent(name).path }

        let configuration = try BertConfiguration(json: try Self.readObject(path("config.json")), path: path("config.json"))
        let sentenceConfig = try Self.readObject(path("sentence_bert_config.json"), optional: true)
        let tokenizerConfig = try Self.readObject(path("tokenizer_config.json"), optional: true)
        let specialTokens = try Self.readObject(path("special_tokens_map.json"), optional: true)

        // modules.json lists Transformer → Pooling → (Normalize); without it, mean pooling.
        var pooling = Pooling.mean, normalizes = false
        let modulesPath = path("modules.json")
        if FileManager.default.fileExists(atPath: modulesPath) {
            let modules = try Self.readJSON(modulesPath).array ?? []
            for module in modules {
                let type = module["type"]?.string ?? ""
                if type.hasSuffix("Normalize") { normalizes = true }
                if type.hasSuffix("Pooling") {
                    let poolingPath = root.appendingPathComponent(module["path"]?.string ?? "1_Pooling").appendingPathComponent("config.json").path
                    pooling = try Self.pooling(from: try Self.readObject(poolingPath), path: poolingPath)
                } else if !type.hasSuffix("Transformer") && !type.hasSuffix("Normalize") {
                    throw EmbeddingModelError.unsupported(path: modulesPath, reason: "module \(type); Transformer, Pooling and Normalize are implemented")
                }
            }
        }

        func token(_ key: String, _ fallback: String) -> String {
            let value = specialTokens[key] ?? tokenizerConfig[key]
            return value?.string ?? value?["content"]?.string ?? fallback
        }
        let lowercase = tokenizerConfig["do_lower_case"]?.bool ?? true
        let tokenizer = try WordPieceTokenizer(
            vocabularyFile: path("vocab.txt"), lowercase: lowercase, stripAccents: tokenizerConfig["strip_accents"]?.bool,
            specialTokens: ["pad_token", "unk_token", "cls_token", "sep_token", "mask_token"].map { token($0, "") }.filter { !$0.isEmpty },
            unknownToken: token("unk_token", "[UNK]"), clsToken: token("cls_token", "[CLS]"),
            sepToken: token("sep_token", "[SEP]"), padToken: token("pad_token", "[PAD]"))
        guard tokenizer.vocabularySize <= configuration.vocabularySize else {
            throw EmbeddingModelError.malformed(
                path: path("vocab.txt"), reason: "\(tokenizer.vocabularySize) tokens, the model's vocab_size is \(configuration.vocabularySize)")
        }

        let weights = try SafeTensorsFile(path: path("model.safetensors"))
        self.encoder = try BertEncoder(configuration: configuration, weights: weights)
        self.weights = weights
        self.directory = directory
        self.dimension = configuration.hiddenSize
        self.maxSequenceLength = min(sentenceConfig["max_seq_length"]?.int ?? 512, configuration.maxPositions)
        self.lowercasesInput = sentenceConfig["do_lower_case"]?.bool ?? false
        self.pooling = pooling
        self.normalizes = normalizes
        self.tokenizer = tokenizer
    }

    /// The token ids the model sees for `text` (`[CLS]` … `[SEP]`, truncated to `maxSequenceLength`).
    public func tokenize(_ text: String) -> [Int32] {
        tokenizer.encode(lowercasesInput ? text.lowercased() : text, maxLength: maxSequenceLength)
    }

    /// The embedding of one text.
    public func embed(_ text: String) -> [Float] {
        let scratch = BertEncoder.Scratch()
        var vector = [Float](repeating: 0, count: dimension)
        vector.withUnsafeMutableBufferPointer { out in
            BLAS.withSingleThreadedBLAS { encode([tokenize(text)], scratch: scratch, into: out.baseAddress!) }
        }
        return vector
    }

    /// Most tokens one forward pass takes: a batch with more is cut, because beyond about this
    /// many rows the activations leave the cache (measured on short texts, batch 128 on 2
    /// threads: 3 % faster cut at 1,024 tokens than whole, 2,900; cut at 2,048 no better).
    static let maxBatchTokens = 1024

    /// Embeddings of `texts`, row i for text i.
    ///
    /// Texts are tokenized, sorted by token count and cut into batches of `batchSize` texts (and
    /// at most 1,024 tokens), so each batch holds texts of similar length; `threads` workers take
    /// batches in turn, each running single-threaded sgemm. `progress` is called (from any thread) after each batch
    /// with the texts done so far and the total. The result does not depend on `batchSize`
    /// or `threads` beyond float rounding in sgemm.
    public func embed(
        _ texts: [String], batchSize: Int = 32, threads: Int = VectorSearchLibrary.coreCount,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> VectorMatrix {
        try ParameterCheck.atLeast(1, "batch size", batchSize)
        try ParameterCheck.threads(threads)
        guard !texts.isEmpty else { return VectorMatrix(dimension: dimension) }
        var values = [Float](repeating: 0, count: texts.count * dimension)
        let workers = min(threads, (texts.count + batchSize - 1) / batchSize)

        let sequences = tokenizeAll(texts, workers: workers)
        let order = sequences.indices.sorted { (sequences[$0].count, $0) < (sequences[$1].count, $1) }
        let batches = Self.batches(order, sequences: sequences, batchSize: batchSize)
        let next = Atomic<Int>(0), done = Atomic<Int>(0)
        values.withUnsafeMutableBufferPointer { buffer in
            let output = UnsafeSendable(buffer.baseAddress!)
            BLAS.withSingleThreadedBLAS {
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    let scratch = BertEncoder.Scratch()
                    var pooled = [Float](repeating: 0, count: batchSize * dimension)
                    while true {
                        let b = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard b < batches.count else { break }
                        let batch = batches[b]
                        pooled.withUnsafeMutableBufferPointer { rows in
                            encode(batch.map { sequences[$0] }, scratch: scratch, into: rows.baseAddress!)
                            for (row, text) in batch.enumerated() {
                                (output.value + text * dimension).update(from: rows.baseAddress! + row * dimension, count: dimension)
                            }
                        }
                        let finished = done.wrappingAdd(batch.count, ordering: .relaxed).newValue
                        progress?(finished, texts.count)
                    }
                }
            }
        }
        return try VectorMatrix(dimension: dimension, values: values)
    }

    /// `order` cut into runs of at most `batchSize` texts and `maxBatchTokens` tokens (one text at least).
    static func batches(_ order: [Int], sequences: [[Int32]], batchSize: Int) -> [ArraySlice<Int>] {
        var batches: [ArraySlice<Int>] = []
        var first = 0, tokens = 0
        for (position, text) in order.enumerated() {
            let count = sequences[text].count
            if position > first, position - first == batchSize || tokens + count > maxBatchTokens {
                batches.append(order[first..<position])
                first = position
                tokens = 0
            }
            tokens += count
        }
        batches.append(order[first...])
        return batches
    }

    private func tokenizeAll(_ texts: [String], workers: Int) -> [[Int32]] {
        var sequences = [[Int32]](repeating: [], count: texts.count)
        sequences.withUnsafeMutableBufferPointer { buffer in
            let output = UnsafeSendable(buffer.baseAddress!)
            Parallel.forEachChunk(count: texts.count, workers: workers) { _, range in
                for i in range { (output.value + i).pointee = tokenize(texts[i]) }
            }
        }
        return sequences
    }

    /// Encodes `sequences` and writes their pooled (and normalised) embeddings to `out`, row by row.
    private func encode(_ sequences: [[Int32]], scratch: BertEncoder.Scratch, into out: UnsafeMutablePointer<Float>) {
        let starts = encoder.forward(sequences, scratch: scratch)
        let h = dimension
        for (s, sequence) in sequences.enumerated() {
            let target = out + s * h
            let first = scratch.hidden + starts[s] * h
            switch pooling {
            case .cls:
                target.update(from: first, count: h)
            case .mean:
                target.update(repeating: 0, count: h)
                for t in 0..<sequence.count {
                    let row = first + t * h
                    for j in 0..<h { target[j] += row[j] }
                }
                let scale = 1 / Float(max(sequence.count, 1))
                for j in 0..<h { target[j] *= scale }
            }
            if normalizes {
                var squares: Float = 0
                for j in 0..<h { squares += target[j] * target[j] }
                let norm = squares.squareRoot()
                if norm > 0 { for j in 0..<h { target[j] /= norm } }
            }
        }
    }

    private static func pooling(from json: [String: JSONValue], path: String) throws -> Pooling {
        let enabled = json.filter { $0.key.hasPrefix("pooling_mode_") && $0.value.bool == true }.map(\.key)
        switch enabled {
        case ["pooling_mode_mean_tokens"]: return .mean
        case ["pooling_mode_cls_token"]: return .cls
        default:
            throw EmbeddingModelError.unsupported(
                path: path, reason: "pooling \(enabled.sorted()); one of pooling_mode_mean_tokens or pooling_mode_cls_token is implemented")
        }
    }

    private static func readJSON(_ path: String) throws -> JSONValue {
        guard FileManager.default.fileExists(atPath: path) else { throw EmbeddingModelError.missingFile(path: path) }
        let data: [UInt8]
        do { data = try RegularFile.readAll(path) } catch let VectorSearchError.io(_, reason) {
            throw EmbeddingModelError.unreadable(path: path, reason: reason)
        }
        do { return try data.withUnsafeBytes { try JSONValue.parse($0) } } catch {
            throw EmbeddingModelError.malformed(path: path, reason: "not valid JSON: \(error)")
        }
    }

    private static func readObject(_ path: String, optional: Bool = false) throws -> [String: JSONValue] {
        if optional && !FileManager.default.fileExists(atPath: path) { return [:] }
        guard let object = try readJSON(path).object else {
            throw EmbeddingModelError.malformed(path: path, reason: "expected a JSON object")
        }
        return object
    }
}
