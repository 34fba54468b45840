import Foundation
import VectorSearch

/// A knowledge base on disk: documents split into chunks, their vectors in one index (flat, IVF
/// or HNSW), their metadata for filters, a keyword index for hybrid search, and a manifest.
///
/// Documents can be added, replaced and deleted at any time; nothing is rebuilt. ``save()``
/// writes a new generation of files and switches to it by renaming the manifest, so a crash
/// at any point leaves the collection as it was saved last. Safe to share across threads (its
/// operations run one at a time).
///
/// ```swift
/// let collection = try DocumentCollection.create(at: "kb", dimension: 384)
/// try collection.add(Document(id: "a", text: "…", metadata: ["year": 2024]), embedding: vector)
/// try collection.save()
/// let hits = try collection.retrieve(vector: query, options: RetrievalOptions(k: 5, filter: .field("year") >= 2020))
/// ```
public final class DocumentCollection: @unchecked Sendable {
    public let directory: String
    public let dimension: Int
    public let metric: Metric
    public let indexKind: IndexKind
    /// How ``add(_:embedder:)`` splits texts.
    public let chunker: Chunker

    // Guarded by `lock`.
    private let lock = NSLock()
    private var index: AnyIndex
    private var chunks: [VectorID: Chunk] = [:]
    private var documents: [String: StoredDocument] = [:]
    private var keywords = BM25Index()
    private var nextChunkID: VectorID = 0
    private var generation = 0

    struct StoredDocument: Codable {
        var metadata: Attributes
        var chunkIDs: [VectorID]
    }

    private init(directory: String, manifest: Manifest, index: AnyIndex) {
        self.directory = directory
        dimension = manifest.dimension
        metric = manifest.metric
        indexKind = index.kind
        chunker = manifest.chunker
        self.index = index
        nextChunkID = manifest.nextChunkID
        generation = manifest.generation
    }

    /// A new, empty collection in `directory` (created if needed; it must not hold a collection).
    /// Cosine suits sentence embeddings. An IVF collection trains its lists on the first
    /// documents added, so add at least a few hundred at once.
    public static func create(
        at directory: String, dimension: Int, metric: Metric = .cosine, index kind: IndexKind = .hnsw,
        chunker: Chunker = try! Chunker()
    ) throws -> DocumentCollection {
        let manifestPath = directory + "/" + Manifest.fileName
        guard !FileManager.default.fileExists(atPath: manifestPath) else {
            throw VectorSearchError.invalidArgument("\(directory) already holds a collection (open it instead)")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw VectorSearchError.io(path: directory, reason: "cannot create: \(error.localizedDescription)")
        }
        let index: AnyIndex = switch kind {
        case .flat: .flat(try FlatIndex(dimension: dimension, metric: metric))
        case .ivf: .ivf(try IVFIndex(dimension: dimension, metric: metric))
        case .hnsw: .hnsw(try HNSWIndex(dimension: dimension, metric: metric))
        }
        let manifest = Manifest(generation: 0, dimension: dimension, metric: metric, index: kind.rawValue, chunker: chunker, nextChunkID: 0)
        return DocumentCollection(directory: directory, manifest: manifest, index: index)
    }

    /// Opens the collection saved in `directory`.
    public static func open(at directory: String) throws -> DocumentCollection {
        let manifestPath = directory + "/" + Manifest.fileName
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        } catch let error as DecodingError {
            throw VectorSearchError.malformedFile(path: manifestPath, row: nil, byteOffset: nil, reason: DocumentFile.describe(error))
        } catch {
            throw VectorSearchError.io(path: manifestPath, reason: "cannot read (is \(directory) a collection?): \(error.localizedDescription)")
        }
        guard manifest.format == Manifest.currentFormat else {
            throw VectorSearchError.malformedFile(
                path: manifestPath, row: nil, byteOffset: nil,
                reason: "collection format \(manifest.format), this build reads \(Manifest.currentFormat)")
        }
        let index = try AnyIndex.load(from: directory + "/" + manifest.indexFile)
        guard index.dimension == manifest.dimension, index.metric == manifest.metric, index.kind.rawValue == manifest.index else {
            throw VectorSearchError.corruptIndex(path: directory + "/" + manifest.indexFile, reason: "does not match the manifest")
        }
        let collection = DocumentCollection(directory: directory, manifest: manifest, index: index)
        try collection.readDocuments(directory + "/" + manifest.documentsFile)
        return collection
    }

    /// Number of documents.
    public var documentCount: Int { lock.withLock { documents.count } }
    /// Number of chunks (vectors) over all documents.
    public var chunkCount: Int { lock.withLock { chunks.count } }

    /// The ids of the documents, sorted.
    public var documentIDs: [String] { lock.withLock { documents.keys.sorted() } }

    /// The metadata and chunks of a document, or nil.
    public func document(_ id: String) -> (metadata: Attributes, chunks: [Chunk])? {
        lock.withLock { documents[id].map { ($0.metadata, $0.chunkIDs.compactMap { chunks[$0] }) } }
    }

    /// The stored vector of a chunk (normalised under cosine), or nil.
    public func vector(forChunk id: VectorID) -> [Float]? { lock.withLock { index.vector(for: id) } }

    // MARK: Changing

    /// Adds `document` as one chunk (its whole text) with its precomputed `embedding`.
    /// Refused if a document with its id is there (see ``replace(_:embeddings:)``).
    public func add(_ document: Document, embedding: [Float]) throws {
        try add([document], embeddings: try VectorMatrix(dimension: dimension, values: embedding))
    }

    /// Adds documents, each as one chunk (its whole text), with precomputed embeddings (one row
    /// per document); all or none. An HNSW index inserts a batch on every core.
    public func add(_ documents: [Document], embeddings: VectorMatrix) throws {
        try insert(documents, chunks: documents.map(Self.wholeChunk), vectors: embeddings, replacing: false)
    }

    /// As ``add(_:embeddings:)``, replacing the documents that have these ids.
    public func replace(_ documents: [Document], embeddings: VectorMatrix) throws {
        try insert(documents, chunks: documents.map(Self.wholeChunk), vectors: embeddings, replacing: true)
    }

    /// Splits `documents` with the collection's chunker, embeds the chunks with `embedder`
    /// and adds them all, or none if anything is refused (an existing id, a wrong dimension).
    public func add(_ documents: [Document], embedder: some Embedder) async throws {
        let (chunks, vectors) = try await embed(documents, embedder)
        try insert(documents, chunks: chunks, vectors: vectors, replacing: false)
    }

    /// As ``add(_:embedder:)``, replacing the documents that have these ids: their old chunks
    /// go, the new ones come.
    public func replace(_ documents: [Document], embedder: some Embedder) async throws {
        let (chunks, vectors) = try await embed(documents, embedder)
        try insert(documents, chunks: chunks, vectors: vectors, replacing: true)
    }

    /// Deletes documents and all their chunks; returns how many documents were there.
    @discardableResult
    public func delete(documentIDs ids: [String]) -> Int {
        lock.withLock {
            let removed = Set(ids).compactMap { documents.removeValue(forKey: $0) }
            removeChunks(removed.flatMap(\.chunkIDs))
            return removed.count
        }
    }

    private func embed(_ documents: [Document], _ embedder: some Embedder) async throws -> ([Chunk], VectorMatrix) {
        let perDocument = documents.map { chunker.chunks(of: $0) }
        let chunks = perDocument.flatMap { $0 }
        if let empty = zip(documents, perDocument).first(where: { $1.isEmpty })?.0 {
            throw VectorSearchError.invalidArgument("document \"\(empty.id)\" has no text to embed")
        }
        let vectors = try await embedder.embed(chunks.map(\.text))
        guard vectors.count == chunks.count else {
            throw VectorSearchError.invalidArgument("the embedder returned \(vectors.count) vectors for \(chunks.count) texts")
        }
        var matrix = VectorMatrix(dimension: dimension)
        for (row, vector) in vectors.enumerated() {
            guard vector.count == dimension else {
                throw VectorSearchError.dimensionMismatch(expected: dimension, actual: vector.count, row: row)
            }
            try matrix.append(vector)
        }
        return (chunks, matrix)
    }

    private static func wholeChunk(_ document: Document) -> Chunk {
        Chunk(documentID: document.id, index: 0, range: 0..<document.text.count, text: document.text)
    }

    /// Adds `chunks` (of `documents`, in order) with one vector each, all or nothing.
    private func insert(_ newDocuments: [Document], chunks newChunks: [Chunk], vectors: VectorMatrix, replacing: Bool) throws {
        guard vectors.dimension == dimension else {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: vectors.dimension, row: nil)
        }
        guard vectors.count == newChunks.count else {
            throw VectorSearchError.invalidArgument("\(vectors.count) vectors for \(newChunks.count) chunks")
        }
        var ids = Set<String>()
        for document in newDocuments where !ids.insert(document.id).inserted {
            throw VectorSearchError.invalidArgument("document \"\(document.id)\" is given twice")
        }
        try lock.withLock {
            if !replacing, let existing = newDocuments.first(where: { documents[$0.id] != nil }) {
                throw VectorSearchError.invalidArgument("document \"\(existing.id)\" is already in the collection (replace it instead)")
            }
            let metadata = Dictionary(uniqueKeysWithValues: newDocuments.map { ($0.id, $0.metadata) })
            let chunkIDs = (0..<newChunks.count).map { nextChunkID + VectorID($0) }
            if case let .ivf(ivf) = index, !ivf.isTrained { try ivf.train(vectors) }
            // Added first, so a refusal (NaN, wrong dimension, a metadata type clash) changes nothing.
            do {
                try index.add(vectors, ids: chunkIDs, attributes: newChunks.map { metadata[$0.documentID]! })
            } catch let error as VectorSearchError {
                throw Self.naming(error, in: newChunks)
            }
            nextChunkID += VectorID(newChunks.count)
            if replacing { removeChunks(newDocuments.flatMap { documents.removeValue(forKey: $0.id)?.chunkIDs ?? [] }) }
            for document in newDocuments { documents[document.id] = StoredDocument(metadata: document.metadata, chunkIDs: []) }
            for (id, chunk) in zip(chunkIDs, newChunks) {
                chunks[id] = chunk
                documents[chunk.documentID]!.chunkIDs.append(id)
                keywords.add(id: id, text: chunk.text)
            }
        }
    }

    /// An index's refusal of row `r` restated for the document and chunk that row came from.
    private static func naming(_ error: VectorSearchError, in chunks: [Chunk]) -> VectorSearchError {
        let (row, reason): (Int?, String) =
            switch error {
            case let .nonFiniteValue(row, column): (row, "its embedding has a non-finite value (NaN or infinity) at component \(column)")
            case let .zeroVector(row): (row, "its embedding is all zeros, which cosine cannot compare")
            case let .invalidAttributes(row, reason): (row, reason)
            default: (nil, "")
            }
        guard let row, chunks.indices.contains(row) else { return error }
        let chunk = chunks[row]
        return .invalidArgument("document \"\(chunk.documentID)\"\(chunk.index > 0 ? " (chunk \(chunk.index))" : ""): \(reason)")
    }

    private func removeChunks(_ ids: [VectorID]) {
        index.remove(ids: ids)
        for id in ids {
            chunks[id] = nil
            keywords.remove(id: id)
        }
    }

    // MARK: Saving

    /// Writes the collection: a new index file and documents file, then the manifest that
    /// names them (renamed into place), then removes the previous generation's files.
    public func save() throws {
        try lock.withLock {
            let next = generation + 1
            let manifest = Manifest(
                generation: next, dimension: dimension, metric: metric, index: indexKind.rawValue, chunker: chunker,
                nextChunkID: nextChunkID)
            try index.save(to: directory + "/" + manifest.indexFile)
            try writeDocuments(to: directory + "/" + manifest.documentsFile)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(Array(try encoder.encode(manifest)), to: directory + "/" + Manifest.fileName)
            let old = Manifest(generation: generation, dimension: 0, metric: metric, index: "", chunker: chunker, nextChunkID: 0)
            try? FileManager.default.removeItem(atPath: directory + "/" + old.indexFile)
            try? FileManager.default.removeItem(atPath: directory + "/" + old.documentsFile)
            generation = next
        }
    }

    /// One JSON object per document, sorted by id: `{"id", "metadata", "chunks": [{"id", "index", "start", "end", "text"}]}`.
    private func writeDocuments(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes: [UInt8] = []
        for id in documents.keys.sorted() {
            let stored = documents[id]!
            let line = DocumentLine(
                id: id, metadata: stored.metadata,
                chunks: stored.chunkIDs.map { DocumentLine.StoredChunk(id: $0, chunk: chunks[$0]!) })
            bytes += try encoder.encode(line)
            bytes.append(UInt8(ascii: "\n"))
        }
        try AtomicFile.write(bytes, to: path)
    }

    private func readDocuments(_ path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw VectorSearchError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            let stored: DocumentLine
            do {
                stored = try decoder.decode(DocumentLine.self, from: Data(line))
            } catch let error as DecodingError {
                throw VectorSearchError.malformedFile(path: path, row: number, byteOffset: nil, reason: DocumentFile.describe(error))
            }
            for entry in stored.chunks {
                guard index.vector(for: entry.id) != nil, chunks[entry.id] == nil, entry.chunk.documentID == stored.id else {
                    throw VectorSearchError.malformedFile(
                        path: path, row: number, byteOffset: nil, reason: "chunk \(entry.id) is not in the index, or listed twice")
                }
                chunks[entry.id] = entry.chunk
                keywords.add(id: entry.id, text: entry.chunk.text)
            }
            documents[stored.id] = StoredDocument(metadata: stored.metadata, chunkIDs: stored.chunks.map(\.id))
        }
        guard chunks.count == index.count else {
            throw VectorSearchError.malformedFile(
                path: path, row: nil, byteOffset: nil, reason: "\(chunks.count) chunks listed, the index holds \(index.count)")
        }
    }

    // MARK: Retrieving

    /// The chunks nearest to `vector` (among those `options.filter` admits), re-ranked as
    /// `options` asks. `text` is the query's text, for hybrid keyword search.
    public func retrieve(vector: [Float], text: String? = nil, options: RetrievalOptions = RetrievalOptions()) throws -> [RetrievedChunk] {
        guard options.k >= 0 else { throw VectorSearchError.invalidArgument("k must be non-negative, got \(options.k)") }
        if options.hybrid, text == nil { throw VectorSearchError.invalidArgument("hybrid search needs the query's text") }
        return try lock.withLock {
            let wanted = options.reranks ? options.candidates ?? max(4 * options.k, 20) : options.k
            let hits = try index.search(vector, k: wanted, filter: options.filter)
            var ranked = hits.map(\.id)
            var scores = Dictionary(uniqueKeysWithValues: hits.map { ($0.id, $0.score) })
            var fused: [VectorID: Double] = [:]
            if options.hybrid, let text {
                let keywordHits = keywords.search(text, k: wanted) { id in
                    options.filter.map { $0.matches(self.documents[self.chunks[id]!.documentID]!.metadata) } ?? true
                }
                let fusion = Ranking.reciprocalRankFusion([ranked, keywordHits.map(\.id)])
                ranked = fusion.map(\.id)
                fused = Dictionary(uniqueKeysWithValues: fusion.map { ($0.id, $0.score) })
                for id in ranked where scores[id] == nil { scores[id] = score(vector, id) }
            }
            if let threshold = options.minScore {
                ranked.removeAll { metric.higherIsCloser ? scores[$0]! < threshold : scores[$0]! > threshold }
            }
            if let limit = options.maxChunksPerDocument {
                var taken: [String: Int] = [:]
                ranked = ranked.filter { id in
                    let document = chunks[id]!.documentID
                    taken[document, default: 0] += 1
                    return taken[document]! <= limit
                }
            }
            if let lambda = options.mmrLambda {
                let picked = Ranking.maximalMarginalRelevance(
                    query: vector, candidates: ranked.map { index.vector(for: $0)! }, k: options.k, lambda: lambda)
                ranked = picked.map { ranked[$0] }
            }
            return ranked.prefix(options.k).map { id in
                let chunk = chunks[id]!
                return RetrievedChunk(
                    chunkID: id, score: scores[id]!, fusedScore: fused[id], chunk: chunk,
                    metadata: documents[chunk.documentID]!.metadata)
            }
        }
    }

    /// As ``retrieve(vector:text:options:)``, embedding `text` with `embedder` first.
    public func retrieve(text: String, embedder: some Embedder, options: RetrievalOptions = RetrievalOptions()) async throws -> [RetrievedChunk] {
        let vectors = try await embedder.embed([text])
        guard let vector = vectors.first, vectors.count == 1 else {
            throw VectorSearchError.invalidArgument("the embedder returned \(vectors.count) vectors for 1 text")
        }
        guard vector.count == dimension else {
            throw VectorSearchError.invalidArgument(
                "the embedder gives \(vector.count)-d vectors, this collection holds \(dimension)-d ones: query it with the model it was embedded with")
        }
        return try retrieve(vector: vector, text: text, options: options)
    }

    /// The public score of the stored vector `id` for `query`, as a search reports it.
    private func score(_ query: [Float], _ id: VectorID) -> Float {
        let stored = index.vector(for: id)!
        switch metric {
        case .l2: return zip(query, stored).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        case .innerProduct: return zip(query, stored).reduce(0) { $0 + $1.0 * $1.1 }
        case .cosine:
            let norm = query.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return zip(query, stored).reduce(0) { $0 + $1.0 * $1.1 } / norm
        }
    }
}

/// What ``DocumentCollection/retrieve(vector:text:options:)`` returns and how it ranks.
public struct RetrievalOptions: Sendable {
    /// Chunks to return at most.
    public var k: Int
    /// Only chunks of documents whose metadata satisfies this.
    public var filter: Filter?
    /// Keep only chunks at least this close: similarity ≥ minScore for cosine and inner
    /// product, squared distance ≤ minScore for L2.
    public var minScore: Float?
    /// Maximal marginal relevance with this λ (1: pure relevance, 0: pure diversity); nil: off.
    public var mmrLambda: Double?
    /// At most this many chunks of one document.
    public var maxChunksPerDocument: Int?
    /// Fuse the vector ranking with a BM25 keyword ranking of the query text (reciprocal rank fusion).
    public var hybrid: Bool
    /// Candidates fetched before re-ranking (threshold, per-document limit, MMR, hybrid);
    /// nil: max(4k, 20). Without re-ranking exactly k are fetched, as a plain search would.
    public var candidates: Int?

    public init(
        k: Int = 5, filter: Filter? = nil, minScore: Float? = nil, mmrLambda: Double? = nil, maxChunksPerDocument: Int? = nil,
        hybrid: Bool = false, candidates: Int? = nil
    ) {
        self.k = k
        self.filter = filter
        self.minScore = minScore
        self.mmrLambda = mmrLambda
        self.maxChunksPerDocument = maxChunksPerDocument
        self.hybrid = hybrid
        self.candidates = candidates
    }

    var reranks: Bool { minScore != nil || mmrLambda != nil || maxChunksPerDocument != nil || hybrid }
}

/// One retrieved chunk, with what a citation needs. Encodes as JSON
/// `{"score", "fused_score", "document", "chunk_index", "start", "end", "text", "metadata"}`.
public struct RetrievedChunk: Sendable, Hashable, Encodable {
    /// The chunk's vector id in the collection's index.
    public var chunkID: VectorID
    /// The vector search's score (see ``Metric``).
    public var score: Float
    /// The reciprocal-rank-fusion score, for hybrid retrieval.
    public var fusedScore: Double?
    /// Document id, position, character range and text.
    public var chunk: Chunk
    /// The document's metadata.
    public var metadata: Attributes

    public init(chunkID: VectorID, score: Float, fusedScore: Double? = nil, chunk: Chunk, metadata: Attributes) {
        self.chunkID = chunkID
        self.score = score
        self.fusedScore = fusedScore
        self.chunk = chunk
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case score, fusedScore = "fused_score", documentID = "document", chunkIndex = "chunk_index", start, end, text, metadata
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(score, forKey: .score)
        try c.encodeIfPresent(fusedScore, forKey: .fusedScore)
        try c.encode(chunk.documentID, forKey: .documentID)
        try c.encode(chunk.index, forKey: .chunkIndex)
        try c.encode(chunk.range.lowerBound, forKey: .start)
        try c.encode(chunk.range.upperBound, forKey: .end)
        try c.encode(chunk.text, forKey: .text)
        try c.encode(metadata, forKey: .metadata)
    }
}

/// The collection's `manifest.json`: which generation of files is current, and how it was made.
struct Manifest: Codable {
    static let fileName = "manifest.json"
    static let currentFormat = 1

    var format = Manifest.currentFormat
    var generation: Int
    var dimension: Int
    var metric: Metric
    var index: String
    var chunker: Chunker
    var nextChunkID: VectorID

    var indexFile: String { "index-\(generation).vsidx" }
    var documentsFile: String { "documents-\(generation).jsonl" }

    enum CodingKeys: String, CodingKey {
        case format, generation, dimension, metric, index, chunker
        case nextChunkID = "next_chunk_id"
    }
}

/// One line of a collection's documents file.
struct DocumentLine: Codable {
    var id: String
    var metadata: Attributes
    var chunks: [StoredChunk]

    struct StoredChunk: Codable {
        var id: VectorID
        var chunk: Chunk

        init(id: VectorID, chunk: Chunk) {
            self.id = id
            self.chunk = chunk
        }

        enum CodingKeys: String, CodingKey { case id }

        init(from decoder: any Decoder) throws {
            id = try decoder.container(keyedBy: CodingKeys.self).decode(VectorID.self, forKey: .id)
            chunk = try Chunk(from: decoder)
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try chunk.encode(to: encoder)
        }
    }
}
