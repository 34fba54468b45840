import ArgumentParser
import Foundation
import VectorSearch
import VectorSearchEmbeddings
import VectorSearchRAG

struct RAGCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag", abstract: "Collections of documents: ingest, query with citations, update, delete.",
        subcommands: [
            RAGIngestCommand.self, RAGQueryCommand.self, RAGUpdateCommand.self, RAGDeleteCommand.self, RAGInfoCommand.self,
            RAGCompactCommand.self, RAGCheckCommand.self, RAGReindexCommand.self, RAGEvalCommand.self, RAGTuneCommand.self,
        ])
}

/// Where documents and their vectors come from, for `ingest` and `update`.
struct DocumentInput: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            #"Documents, JSON Lines: {"id", "text", "metadata": {...} or other keys as metadata, "embedding": [...]}."#,
            valueName: "docs.jsonl"))
    var documents: String?
    @Option(
        help: ArgumentHelp(
            #"A BEIR dataset directory instead: its corpus.jsonl ({"_id", "title", "text", "metadata"}; title and text are the document)."#,
            valueName: "dir"))
    var beir: String?
    @Option(help: "A collection directory (created by ingest when it does not exist).") var collection: String
    @Option(help: "The documents' vectors, one row per document in file order (fvecs, fbin, npy, jsonl), instead of \"embedding\" keys.")
    var embeddings: String?

    func validate() throws {
        if (documents == nil) == (beir == nil) { throw ValidationError("give --documents or --beir") }
    }

    /// The file the documents come from.
    var source: String { documents ?? (beir! + "/corpus.jsonl") }

    /// Each document, with the vector of its whole text when the input gives one.
    func read() throws -> [DocumentFile.Entry] {
        let entries: [DocumentFile.Entry] =
            if let beir { try BEIRDataset.readCorpus(beir + "/corpus.jsonl").map { .init(document: $0) } } else {
                try DocumentFile.read(source)
            }
        let rows = try embeddings.map { try EmbeddingFile.read($0).vectors }
        if let rows, rows.count != entries.count {
            throw CLIError("\(embeddings!) has \(rows.count) vectors for \(entries.count) documents in \(source)")
        }
        return entries.enumerated().map { row, entry in .init(document: entry.document, embedding: rows.map { $0[row] } ?? entry.embedding) }
    }
}

/// How text becomes vectors (ingest, update, query by text): the built-in model, or an
/// OpenAI-compatible embedding server; and the chat server for query --generate.
struct EndpointOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The built-in embedder's model directory (a sentence-transformers BERT model), used when no --embedder-url is given; default $VECTORSEARCH_MODEL or ~/.cache/vectorsearch/all-MiniLM-L6-v2 (scripts/fetch-model.sh).",
            valueName: "dir"))
    var model: String?
    @Option(
        name: .customLong("embedder-url"),
        help: ArgumentHelp(
            "An OpenAI-compatible server that embeds text (/v1/embeddings), e.g. http://localhost:11434 (Ollama).", valueName: "url"))
    var embedderURL: String?
    @Option(name: .customLong("embedder-model"), help: "The embedding model it serves.") var embedderModel: String?
    @Option(name: .customLong("embed-batch"), help: "Texts per embedding request (or per batch of the built-in model).") var embedBatch: Int = 32
    @Option(
        name: .customLong("api-key-env"),
        help: ArgumentHelp(
            "Environment variable whose value is sent as the servers' API key, when set.", valueName: "name"))
    var apiKeyEnvironment: String = "OPENAI_API_KEY"
    @Option(help: "Seconds to wait for each answer from a server.") var timeout: Double = 60
    @Option(help: "Retries after a 429 or 5xx answer (with backoff).") var retries: Int = 3

    func validate() throws {
        if (embedderURL == nil) != (embedderModel == nil) { throw ValidationError("--embedder-url and --embedder-model go together") }
        if model != nil, embedderURL != nil { throw ValidationError("--model (the built-in embedder) and --embedder-url are two embedders: give one") }
        guard embedBatch >= 1 else { throw ValidationError("--embed-batch must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard retries >= 0 else { throw ValidationError("--retries must be non-negative") }
    }

    func endpoint(url: String, model: String, option: String) throws -> OpenAIEndpoint {
        guard let parsed = URL(string: url) else { throw CLIError("\(option): '\(url)' is not a URL") }
        return try OpenAIEndpoint(
            baseURL: parsed, model: model, apiKey: OpenAIEndpoint.apiKey(fromEnvironment: apiKeyEnvironment), timeout: timeout,
            maxRetries: retries)
    }

    /// The server's embedder when --embedder-url is given, else the built-in model (loaded on
    /// first use), with a progress line for long runs.
    func embedder(dimension: Int?) throws -> any Embedder {
        let line = ProgressLine("embedding", total: 0)
        let progress: @Sendable (Int, Int) -> Void = { done, total in
            line.update(done, of: total)
            if done == total { line.finish() }
        }
        guard let embedderURL, let embedderModel else {
            return try BuiltInEmbedder(directory: model ?? SentenceEmbedder.defaultDirectory, batchSize: embedBatch, progress: progress)
        }
        return try OpenAIEmbedder(
            endpoint: try endpoint(url: embedderURL, model: embedderModel, option: "--embedder-url"), batchSize: embedBatch,
            dimension: dimension, progress: progress)
    }
}

struct RAGIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Add documents to a collection (creating it).",
        discussion: """
            A document with a precomputed embedding (an "embedding" key, or a row of --embeddings) \
            is stored as one chunk (its whole text). Any other document is split into chunks, and \
            the chunks are embedded by the built-in model (all-MiniLM-L6-v2, 384-d; --model DIR for \
            another), or by the server given with --embedder-url and --embedder-model. \
            The collection's index kind, metric and chunking are fixed when it is created.
            """)

    @OptionGroup var input: DocumentInput
    @OptionGroup var endpoints: EndpointOptions
    @Option(help: "Index kind of a new collection: flat, ivf or hnsw.") var index: IndexKind = .hnsw
    @Option(help: "Metric of a new collection: cosine, ip or l2.") var metric: Metric = .cosine
    @Option(name: .customLong("chunk-size"), help: "Characters per chunk (a new collection).") var chunkSize: Int = 1000
    @Option(name: .customLong("chunk-overlap"), help: "Characters shared by neighbouring chunks (a new collection).") var chunkOverlap: Int = 200
    @OptionGroup(title: "Index build parameters (a new collection)") var parameters: BuildParameterOptions

    func run() async throws {
        let start = monotonicSeconds()
        let entries = try input.read()
        var collection: DocumentCollection
        if DocumentCollection.exists(at: input.collection) {
            collection = try openCollection(input.collection)
        } else {
            guard let first = entries.first else { throw CLIError("\(input.source) holds no documents") }
            let chunker = try Chunker(size: chunkSize, overlap: chunkOverlap)
            let dimension: Int
            if let embedding = entries.lazy.compactMap(\.embedding).first {
                dimension = embedding.count
            } else if endpoints.embedderURL == nil {
                dimension = try BuiltInEmbedder(directory: endpoints.model ?? SentenceEmbedder.defaultDirectory).model().dimension
            } else {
                // A new collection takes the server's dimension: one short request to learn it.
                let probe = chunker.chunks(of: first.document).first?.text ?? first.document.id
                dimension = try await endpoints.embedder(dimension: nil).embed([probe])[0].count
            }
            do {
                collection = try DocumentCollection.create(
                    at: input.collection, dimension: dimension, metric: metric, index: index, hnsw: try parameters.hnsw,
                    ivf: try parameters.ivf, chunker: chunker)
            } catch CollectionError.collectionExists {
                collection = try openCollection(input.collection)  // another process created it meanwhile
            }
        }
        try await collection.add(entries, embedder: try endpoints.embedder(dimension: collection.dimension))
        status(
            String(
                format: "%@: %d documents, %d chunks (%@ index, %@) in %.2fs", input.collection, try collection.documentCount,
                try collection.chunkCount, collection.indexKind.rawValue, collection.metric.rawValue, monotonicSeconds() - start))
    }
}

struct RAGUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Add or replace documents (by id) in a collection.")

    @OptionGroup var input: DocumentInput
    @OptionGroup var endpoints: EndpointOptions

    func run() async throws {
        let collection = try openCollection(input.collection)
        try await collection.add(try input.read(), embedder: try endpoints.embedder(dimension: collection.dimension), replacing: true)
        status("\(input.collection): \(try collection.documentCount) documents, \(try collection.chunkCount) chunks")
    }
}

struct RAGDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete documents and all their chunks from a collection.")

    @Option(help: "A collection directory.") var collection: String
    @Option(name: .customLong("id"), help: "A document id (repeat for several).") var ids: [String]

    func run() throws {
        let opened = try openCollection(collection)
        let deleted = try opened.delete(documentIDs: ids)
        status("\(collection): deleted \(deleted) of \(Set(ids).count) documents; \(try opened.documentCount) remain")
    }
}

struct RAGQueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "Retrieve chunks with citations and build the prompt context.",
        discussion: """
            --vector is the query's embedding: numbers separated by commas, or FILE:ROW for a row of \
            an embedding file. --text is the question: it goes into the prompt and, with --hybrid, \
            into BM25 keyword search fused with the vector ranking; without --vector it is embedded \
            by the built-in model (--model DIR), or by the server given with --embedder-url and \
            --embedder-model (use the model the collection was embedded with). --generate sends the prompt to a chat server and prints \
            its answer after the sources.
            """)

    @Option(help: "A collection directory.") var collection: String
    @Option(help: ArgumentHelp("The query's vector: 0.1,0.2,... or FILE:ROW.", valueName: "vector")) var vector: String?
    @Option(help: "The question (for the prompt and hybrid search).") var text: String?
    @Option(parsing: .unconditional, help: "Chunks to retrieve.") var k: Int = 5
    @Option(help: ArgumentHelp(#"Only documents whose metadata matches, e.g. '{"year": {"$gte": 2020}}'."#, valueName: "json"))
    var filter: String?
    @Option(name: .customLong("min-score"), help: "Keep chunks at least this close (cosine/ip: similarity ≥; l2: distance ≤).")
    var minScore: Float?
    @Option(help: ArgumentHelp("Maximal marginal relevance with this λ (1 relevance … 0 diversity).", valueName: "lambda"))
    var mmr: Double?
    @Option(name: .customLong("max-per-document"), help: "At most this many chunks of one document.") var maxPerDocument: Int?
    @Flag(help: "Fuse BM25 keyword search on --text with the vector ranking (reciprocal rank fusion).") var hybrid = false
    @OptionGroup(title: "Search settings") var settings: SearchSettingOptions
    @Option(help: "Prompt budget in approximate tokens (characters / 4).") var budget: Int = 1500
    @Flag(help: "Print JSON: the chunks, the context and any answer.") var json = false
    @OptionGroup var endpoints: EndpointOptions
    @Flag(help: "Ask a chat model (--chat-url, --chat-model) to answer from the context.") var generate = false
    @Option(
        name: .customLong("chat-url"),
        help: ArgumentHelp(
            "An OpenAI-compatible server (/v1/chat/completions), e.g. https://api.openai.com/v1.", valueName: "url"))
    var chatURL: String?
    @Option(name: .customLong("chat-model"), help: "The chat model it serves.") var chatModel: String?
    @Option(name: .customLong("max-tokens"), help: "Longest answer in tokens (default: the server's).") var maxTokens: Int?

    func validate() throws {
        guard k >= 0 else { throw ValidationError("--k must be non-negative") }
        if let mmr, !(0...1).contains(mmr) { throw ValidationError("--mmr takes a λ in [0, 1]") }
        if let maxPerDocument, maxPerDocument < 1 { throw ValidationError("--max-per-document must be at least 1") }
        if hybrid, text == nil { throw ValidationError("--hybrid needs --text") }
        guard budget > 0 else { throw ValidationError("--budget must be positive") }
        if vector == nil {
            if text == nil { throw ValidationError("give the query's --text or its --vector (or both)") }
        }
        if generate, chatURL == nil || chatModel == nil { throw ValidationError("--generate needs --chat-url and --chat-model") }
        if !generate, chatURL != nil || chatModel != nil { throw ValidationError("--chat-url and --chat-model go with --generate") }
        if generate, text == nil { throw ValidationError("--generate needs the question as --text") }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
    }

    func run() async throws {
        let opened = try openCollection(collection)
        let options = RetrievalOptions(
            k: k, filter: try filter.map(parseFilter), minScore: minScore, mmrLambda: mmr, maxChunksPerDocument: maxPerDocument,
            hybrid: hybrid, search: settings.options)
        let chunks: [RetrievedChunk]
        if let vector {
            chunks = try opened.retrieve(vector: try Self.parseVector(vector), text: text, options: options)
        } else {
            chunks = try await opened.retrieve(text: text!, embedder: try endpoints.embedder(dimension: opened.dimension), options: options)
        }
        let context = ContextBuilder(budget: .tokens(budget)).build(question: text ?? "", chunks: chunks)
        var answer: Answer?
        if generate, let chatURL, let chatModel {
            let generator = OpenAIChatGenerator(
                endpoint: try endpoints.endpoint(url: chatURL, model: chatModel, option: "--chat-url"), maxTokens: maxTokens)
            answer = try await generator.answer(context)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let report = QueryReport(chunks: chunks, context: context, answer: answer?.text)
            StandardOutput.print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        for (rank, hit) in chunks.enumerated() {
            let metadata = hit.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            StandardOutput.print(
                String(format: "%d. score %.4f", rank + 1, hit.score)
                    + (hit.fusedScore.map { String(format: " (fused %.4f)", $0) } ?? "")
                    + "  \(hit.chunk.documentID) [\(hit.chunk.range.lowerBound)..<\(hit.chunk.range.upperBound)]  \(metadata)")
            StandardOutput.print("   " + hit.chunk.text)
        }
        StandardOutput.print("--- context: \(context.sources.count) sources, \(context.prompt.count) characters ---")
        StandardOutput.print(context.prompt)
        if let answer {
            StandardOutput.print("--- answer (\(chatModel!)) ---")
            StandardOutput.print(answer.text)
        }
    }

    /// `0.1,0.2,...` or `FILE:ROW`.
    static func parseVector(_ text: String) throws -> [Float] {
        if let colon = text.lastIndex(of: ":"), let row = Int(text[text.index(after: colon)...]) {
            let path = String(text[..<colon])
            // fvecs, bvecs and fbin: just that row (the file may be larger than memory).
            if EmbeddingStream.supports(path) {
                let stream = try EmbeddingStream(path)
                guard row >= 0, row < stream.count else { throw CLIError("--vector: \(path) has rows 0..<\(stream.count), not \(row)") }
                return try stream.read(rows: [row])[0]
            }
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
    var answer: String?
}

/// Opens a collection, saying so when one in the earlier layout is converted first.
func openCollection(_ directory: String) throws -> DocumentCollection {
    if DocumentCollection.needsConversion(at: directory) {
        status("\(directory): converting the collection to the SQLite layout (once; the old files are kept in \(directory)/format-1)")
    }
    return try DocumentCollection.open(at: directory)
}

struct RAGInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Documents, chunks, log length, checkpoint and sizes of a collection.")

    @Option(help: "A collection directory.") var collection: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let opened = try openCollection(collection)
        let info = try opened.info()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            StandardOutput.print(String(decoding: try encoder.encode(info), as: UTF8.self))
            return
        }
        StandardOutput.print(
            """
            collection: \(collection) (\(opened.indexKind.rawValue) index, \(opened.metric.rawValue), \(opened.dimension)-d)
            documents:  \(info.documents)
            chunks:     \(info.chunks)
            log:        \(info.logEntries) vector changes after the checkpoint (at entry \(info.checkpointSequence))
            database:   \(info.databaseBytes) bytes
            checkpoint: \(info.checkpointBytes) bytes
            adapter:    \(info.queryAdapter ?? "none")
            """)
    }
}

struct RAGCompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact", abstract: "Write an index checkpoint holding every change and drop the log entries it holds.")

    @Option(help: "A collection directory.") var collection: String

    func run() throws {
        let opened = try openCollection(collection)
        let start = monotonicSeconds()
        try opened.checkpoint()
        let info = try opened.info()
        status(
            String(
                format: "%@: checkpoint at log entry %lld, %d chunks, in %.2fs", collection, info.checkpointSequence, info.chunks, monotonicSeconds() - start))
    }
}

struct RAGCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check a collection's database, keyword index and vector index, and that they agree.")

    @Option(help: "A collection directory.") var collection: String

    func run() throws {
        let opened = try openCollection(collection)
        try opened.check()
        status("\(collection): ok (\(try opened.documentCount) documents, \(try opened.chunkCount) chunks)")
    }
}

struct RAGReindexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reindex", abstract: "Rebuild a collection's vector index from the vectors in its database.")

    @Option(help: "A collection directory.") var collection: String

    func run() throws {
        let opened = try openCollection(collection)
        let start = monotonicSeconds()
        try opened.reindex()
        status(String(format: "%@: index rebuilt from %d chunks in %.2fs", collection, try opened.chunkCount, monotonicSeconds() - start))
    }
}
