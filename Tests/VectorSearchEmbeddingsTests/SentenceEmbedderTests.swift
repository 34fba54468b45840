import CVectorKernels
import Foundation
import Testing
import VectorSearch
@testable import VectorSearchEmbeddings

/// Test resources (copied from the project's reference set, see Resources/README.md) and the
/// repository's sample data.
private let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
private let resources = testsDirectory.appendingPathComponent("Resources")
private let sampleData = testsDirectory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("data/pypi-minilm-2k")

/// The model, loaded once for the suite: `scripts/test.sh` fetches it with `scripts/fetch-model.sh`.
private let model: Result<SentenceEmbedder, Error> = Result { try SentenceEmbedder() }

private func loadModel() throws -> SentenceEmbedder {
    do { return try model.get() } catch {
        Issue.record("the built-in model is not where the tests look (\(SentenceEmbedder.defaultDirectory)); run scripts/fetch-model.sh: \(error)")
        throw error
    }
}

private struct Reference: Decodable {
    struct Sentence: Decodable {
        var text: String
        var tokenIDs: [Int32]
        var embedding: [Float]

        enum CodingKeys: String, CodingKey {
            case text, embedding
            case tokenIDs = "token_ids"
        }
    }
    var sentences: [Sentence]
}

private struct EdgeCases: Decodable {
    struct Item: Decodable {
        var text: String
        var embedding: [Float]
    }
    var items: [Item]
}

private struct TokenLine: Decodable {
    var kind: String
    var text: String
    var ids: [Int32]
}

private func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(contentsOf: resources.appendingPathComponent(name)))
}

private func jsonLines<T: Decodable>(_ type: T.Type, _ url: URL) throws -> [T] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
        try JSONDecoder().decode(type, from: Data($0.utf8))
    }
}

private func maxDifference(_ a: some Collection<Float>, _ b: some Collection<Float>) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

private func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x * x); nb += Double(y * y) }
    return dot / (na.squareRoot() * nb.squareRoot())
}

@Suite("Sentence embedder")
struct SentenceEmbedderTests {
    @Test("token ids equal Hugging Face tokenizers' on every reference line")
    func tokenIDs() throws {
        let embedder = try loadModel()
        let lines = try jsonLines(TokenLine.self, resources.appendingPathComponent("tokenizer-refs.jsonl"))
        #expect(lines.count == 1_020)
        var mismatches = 0
        for line in lines {
            let ids = embedder.tokenizer.encode(line.text)
            if ids != line.ids {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(line.kind) \(line.text.debugDescription): got \(ids), expected \(line.ids)") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("embeddings of the reference sentences and edge cases within 1e-5 per component")
    func referenceEmbeddings() throws {
        let embedder = try loadModel()
        let reference = try decode(Reference.self, "refs.json")
        let edges = try decode(EdgeCases.self, "edge-cases.json")
        #expect(reference.sentences.count == 5 && edges.items.count == 20)
        for sentence in reference.sentences { #expect(embedder.tokenize(sentence.text) == sentence.tokenIDs) }
        let texts = reference.sentences.map(\.text) + edges.items.map(\.text)
        let expected = reference.sentences.map(\.embedding) + edges.items.map(\.embedding)
        let vectors = try embedder.embed(texts, batchSize: 8)
        #expect(vectors.count == texts.count && vectors.dimension == 384)
        var worst: Float = 0
        for (i, want) in expected.enumerated() {
            let difference = maxDifference(vectors[i], want)
            worst = max(worst, difference)
            #expect(difference <= 1e-5, "text \(i) \(texts[i].prefix(40).debugDescription): max |diff| \(difference)")
        }
        print("reference embeddings: max |diff| \(worst) over \(texts.count) texts")
    }

    @Test("query texts land on their stored vectors, and flat search finds the same top-10")
    func queriesMatchStoredVectors() throws {
        struct Line: Decodable { var text: String }
        let embedder = try loadModel()
        let texts = try jsonLines(Line.self, sampleData.appendingPathComponent("queries.jsonl")).map(\.text)
        let stored = try EmbeddingFile.read(sampleData.appendingPathComponent("query.fvecs").path).vectors
        let base = try EmbeddingFile.read(sampleData.appendingPathComponent("base.fvecs").path).vectors
        #expect(texts.count == stored.count && texts.count == 100)
        let embedded = try embedder.embed(texts)
        let worst = (0..<texts.count).map { cosine(embedded[$0], stored[$0]) }.min() ?? 0
        #expect(worst >= 0.99999, "lowest cosine \(worst)")
        let index = try FlatIndex(dimension: 384, metric: .cosine)
        try index.add(base)
        for q in 0..<texts.count {
            let fromText = try index.search(embedded[q], k: 10).map(\.id)
            let fromStored = try index.search(stored[q], k: 10).map(\.id)
            #expect(fromText == fromStored, "query \(q)")
        }
        print("sample queries: lowest cosine to the stored vectors \(worst)")
    }

    @Test("a text alone equals the same text batched with longer ones; one thread equals two")
    func batchingAndThreads() throws {
        let embedder = try loadModel()
        let short = "Swift is a general-purpose programming language."
        let long = (0..<12).map { "Sentence \($0) talks about vector search, graphs and inverted lists." }
        let alone = embedder.embed(short)
        let batched = try embedder.embed(long + [short] + long, batchSize: 64)
        #expect(maxDifference(alone, batched[long.count]) < 1e-6)
        let texts = (0..<70).map { i in String(repeating: "word\(i % 7) ", count: 1 + i % 13) + "end" }
        let one = try embedder.embed(texts, batchSize: 8, threads: 1)
        let two = try embedder.embed(texts, batchSize: 8, threads: 2)
        #expect(one == two)
        let bigBatch = try embedder.embed(texts, batchSize: 70, threads: 1)
        #expect(maxDifference(one.values, bigBatch.values) < 1e-6)
    }

    @Test("truncation at 256 tokens, empty text, empty input, progress")
    func truncationAndEmpty() throws {
        let embedder = try loadModel()
        #expect(embedder.maxSequenceLength == 256 && embedder.pooling == .mean && embedder.normalizes)
        let words = (0..<400).map { "token\($0 % 50)" }
        let long = words.joined(separator: " ")
        let ids = embedder.tokenize(long)
        #expect(ids.count == 256 && ids.first == 101 && ids.last == 102)
        #expect(Array(ids.dropLast()) == Array(embedder.tokenizer.encode(long).prefix(255)))
        // What lies past the 256th token cannot change the embedding.
        let longer = long + " and a great deal more text that the model never sees"
        #expect(embedder.embed(long) == embedder.embed(longer))
        let empty = embedder.embed("")
        #expect(empty.count == 384 && abs(empty.map { $0 * $0 }.reduce(0, +) - 1) < 1e-5)
        let none = try embedder.embed([String]())
        #expect(none.count == 0 && none.dimension == 384)
        let seen = Counter()
        _ = try embedder.embed((0..<10).map { "text \($0)" }, batchSize: 3, threads: 2) { done, total in
            #expect(total == 10 && done <= 10)
            seen.record(done)
        }
        #expect(seen.maximum == 10)
        #expect(throws: VectorSearchError.self) { try embedder.embed(["a"], batchSize: 0) }
        #expect(throws: VectorSearchError.self) { try embedder.embed(["a"], threads: 0) }
    }

    @Test("special tokens written in the text keep their ids, as in tokenizers")
    func specialTokensInText() throws {
        let embedder = try loadModel()
        let ids = embedder.tokenizer.encode("fill the [MASK] here")
        #expect(ids.contains(103) && ids.first == 101 && ids.last == 102)
        #expect(embedder.tokenizer.encode("[mask]") != [101, 103, 102])  // matched as written, case and all
    }
}

/// Largest value reported from any thread.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func record(_ v: Int) { lock.lock(); value = max(value, v); lock.unlock() }
    var maximum: Int { lock.lock(); defer { lock.unlock() }; return value }
}
