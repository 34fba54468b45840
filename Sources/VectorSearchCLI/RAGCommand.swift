import ArgumentParser
import Foundation
import VectorSearch
import VectorSearchRAG

struct RAGCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag", abstract: "Collections of documents: ingest, query with citations, update, delete.",
        subcommands: [RAGIngestCommand.self, RAGQueryCommand.self, RAGUpdateCommand.self, RAGDeleteCommand.self])
}

/// Where documents and their vectors come from, for `ingest` and `update`.
struct DocumentInput: ParsableArguments {
    @Option(help: ArgumentHelp(
        #"Documents, JSON Lines: {"id", "text", "metadata": {...} or other keys as metadata, "embedding": [...]}."#,
        valueName: "docs.jsonl"))
    var documents: String
    @Option(help: "A collection directory (created by ingest when it does not exist).") var collection: String
    @Option(help: "The documents' vectors, one row per document in file order (fvecs, fbin, npy, jsonl), instead of \"embedding\" keys.")
    var embeddings: String?

    /// Each document with the vector of its whole text.
    func read() throws -> [(document: Document, embedding: [Float])] {
        let entries = try DocumentFile.read(documents)
        let rows = try embeddings.map { try EmbeddingFile.read($0).vectors }
        if let rows, rows.count != entries.count {
            throw CLIError("\(embeddings!) has \(rows.count) vectors for \(entries.count) documents in \(documents)")
        }
        return try entries.enumerated().map { row, entry in
            if let rows { return (entry.document, rows[row]) }
            guard let embedding = entry.embedding else {
                throw CLIError(
                    "document \"\(entry.document.id)\" has no \"embedding\"; give each line one, or all vectors with --embeddings FILE "
                        + "(this version embeds no text itself)")
            }
            return (entry.document, embedding)
        }
    }

    /// Adds (or replaces) every document in one batch, then saves.
    func store(_ entries: [(document: Document, embedding: [Float])], into collection: DocumentCollection, replacing: Bool) throws {
        var vectors = VectorMatrix(dimension: collection.dimension)
        for (document, embedding) in entries {
            guard embedding.count == collection.dimension else {
                throw CLIError("document \"\(document.id)\": its embedding has \(embedding.count) components, the collection's \(collection.dimension)")
            }
            try vectors.append(embedding)
        }
        let documents = entries.map(\.document)
        do {
            if replacing { try collection.replace(documents, embeddings: vectors) } else { try collection.add(documents, embeddings: vectors) }
        } catch let VectorSearchError.nonFiniteValue(row, column) {
            throw CLIError("document \"\(documents[row].id)\": its embedding has a non-finite value (NaN or infinity) at component \(column)")
        } catch let VectorSearchError.zeroVector(row?) {
            throw CLIError("document \"\(documents[row].id)\": its embedding is all zeros, which cosine cannot compare")
        } catch let VectorSearchError.invalidAttributes(row?, reason) {
            throw CLIError("document \"\(documents[row].id)\": \(reason)")
        }
        try collection.save()
    }
}

struct RAGIngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Add documents to a collection (creating it), then save it.",
        discussion: """
            A document with a precomputed embedding is stored as one chunk (its whole text). The \
            collection's index kind, metric and chunking are fixed when it is created.
            """)

    @OptionGroup var input: DocumentInput
    @Option(help: "Index kind of a new collection: flat, ivf or hnsw.") var index: IndexKindArgument = .hnsw
    @Option(help: "Metric of a new collection: cosine, ip or l2.") var metric: Metric = .cosine
    @Option(name: .customLong("chunk-size"), help: "Characters per chunk (a new collection).") var chunkSize: Int = 1000
    @Option(name: .customLong("chunk-overlap"), help: "Characters shared by neighbouring chunks (a new collection).") var chunkOverlap: Int = 200

    func run() throws {
        let start = monotonicSeconds()
        let entries = try input.read()
        let collection: DocumentCollection
        if FileManager.default.fileExists(atPath: input.collection + "/manifest.json") {
            collection = try DocumentCollection.open(at: input.collection)
        } else {
            guard let dimension = entries.first?.embedding.count else { throw CLIError("\(input.documents) holds no documents") }
            collection = try DocumentCollection.create(
                at: input.collection, dimension: dimension, metric: metric, index: IndexKind(rawValue: index.rawValue)!,
                chunker: try Chunker(size: chunkSize, overlap: chunkOverlap))
        }
        try input.store(entries, into: collection, replacing: false)
        status(String(
            format: "%@: %d documents, %d chunks (%@ index, %@) in %.2fs", input.collection, collection.documentCount,
            collection.chunkCount, collection.indexKind.rawValue, collection.metric.rawValue, monotonicSeconds() - start))
    }
}

struct RAGUpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Add or replace documents (by id) in a collection, then save it.")

    @OptionGroup var input: DocumentInput

    func run() throws {
        let collection = try DocumentCollection.open(at: input.collection)
        try input.store(try input.read(), into: collection, replacing: true)
        status("\(input.collection): \(collection.documentCount) documents, \(collection.chunkCount) chunks")
    }
}

struct RAGDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete documents and all their chunks from a collection, then save it.")

    @Option(help: "A collection directory.") var collection: String
    @Option(name: .customLong("id"), help: "A document id (repeat for several).") var ids: [String]

    func run() throws {
        let opened = try DocumentCollection.open(at: collection)
        let deleted = opened.delete(documentIDs: ids)
        try opened.save()
        status("\(collection): deleted \(deleted) of \(Set(ids).count) documents; \(opened.documentCount) remain")
    }
}

struct RAGQueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "Retrieve chunks with citations and build the prompt context.",
        discussion: """
            --vector is the query's embedding: numbers separated by commas, or FILE:ROW for a row of \
            an embedding file. --text is the question: it goes into the prompt and, with --hybrid, \
            into BM25 keyword search fused with the vector ranking.
            """)

    @Option(help: "A collection directory.") var collection: String
    @Option(help: ArgumentHelp("The query's vector: 0.1,0.2,... or FILE:ROW.", valueName: "vector")) var vector: String?
    @Option(help: "The question (for the prompt and hybrid search).") var text: String?
    @Option(help: "Chunks to retrieve.") var k: Int = 5
    @Option(help: ArgumentHelp(#"Only documents whose metadata matches, e.g. '{"year": {"$gte": 2020}}'."#, valueName: "json"))
    var filter: String?
    @Option(name: .customLong("min-score"), help: "Keep chunks at least this close (cosine/ip: similarity ≥; l2: distance ≤).")
    var minScore: Float?
    @Option(help: ArgumentHelp("Maximal marginal relevance with this λ (1 relevance … 0 diversity).", valueName: "lambda"))
    var mmr: Double?
    @Option(name: .customLong("max-per-document"), help: "At most this many chunks of one document.") var maxPerDocument: Int?
    @Flag(help: "Fuse BM25 keyword search on --text with the vector ranking (reciprocal rank fusion).") var hybrid = false
    @Option(help: "Prompt budget in approximate tokens (characters / 4).") var budget: Int = 1500
    @Flag(help: "Print JSON: the chunks and the context.") var json = false

    func validate() throws {
        guard k >= 0 else { throw ValidationError("--k must be non-negative") }
        if let mmr, !(0...1).contains(mmr) { throw ValidationError("--mmr takes a λ in [0, 1]") }
        if let maxPerDocument, maxPerDocument < 1 { throw ValidationError("--max-per-document must be at least 1") }
        if hybrid, text == nil { throw ValidationError("--hybrid needs --text") }
        guard budget > 0 else { throw ValidationError("--budget must be positive") }
        if vector == nil {
            throw ValidationError(
                text == nil ? "give the query's --vector (and optionally its --text)"
                    : "--text without --vector needs an embedder, which this version lacks: give the query's --vector too")
        }
    }

    func run() throws {
        let opened = try DocumentCollection.open(at: collection)
        let query = try Self.parseVector(vector!)
        let options = RetrievalOptions(
            k: k, filter: try filter.map(parseFilter), minScore: minScore, mmrLambda: mmr, maxChunksPerDocument: maxPerDocument,
            hybrid: hybrid)
        let chunks = try opened.retrieve(vector: query, text: text, options: options)
        let context = ContextBuilder(budget: .tokens(budget)).build(question: text ?? "", chunks: chunks)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let report = QueryReport(chunks: chunks, context: context)
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        for (rank, hit) in chunks.enumerated() {
            let metadata = hit.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            print(String(format: "%d. score %.4f", rank + 1, hit.score)
                + (hit.fusedScore.map { String(format: " (fused %.4f)", $0) } ?? "")
                + "  \(hit.chunk.documentID) [\(hit.chunk.range.lowerBound)..<\(hit.chunk.range.upperBound)]  \(metadata)")
            print("   " + hit.chunk.text)
        }
        print("--- context: \(context.sources.count) sources, \(context.prompt.count) characters ---")
        print(context.prompt)
    }

    /// `0.1,0.2,...` or `FILE:ROW`.
    static func parseVector(_ text: String) throws -> [Float] {
        if let colon = text.lastIndex(of: ":"), let row = Int(text[text.index(after: colon)...]) {
            let path = String(text[..<colon])
            let vectors = try EmbeddingFile.read(path).vectors
            guard (0..<vectors.count).contains(row) else { throw CLIError("--vector: \(path) has rows 0..<\(vectors.count), not \(row)") }
            return vectors[row]
        }
        return try text.split(separator: ",").map {
            guard let value = Float($0.trimmingCharacters(in: .whitespaces)) else {
                throw CLIError("--vector: '\($0)' is not a number (give numbers separated by commas, or FILE:ROW)")
            }
            return value
        }
    }
}

/// `rag query --json`.
struct QueryReport: Encodable {
    var chunks: [RetrievedChunk]
    var context: ContextBuilder.Context
}
