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
    let lock = NSLock()
    var index: AnyIndex
    var chunks: [VectorID: Chunk] = [:]
    var documents: [String: StoredDocument] = [:]
    var keywords = BM25Index()
    var nextChunkID: VectorID = 0
    var generation = 0

    struct StoredDocument: Codable {
        var metadata: Attributes
        var chunkIDs: [VectorID]
    }

    init(directory: String, manifest: Manifest, index: AnyIndex) {
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
    /// Cosine suits sentence embeddings. The index takes the build parameters of its kind
    /// (`hnsw` for HNSW, `ivf` for IVF; the other is ignored). An IVF collection trains its
    /// lists on the first documents added, so add at least a few hundred at once.
    public static func create(
        at directory: String, dimension: Int, metric: Metric = .cosine, index kind: IndexKind = .hnsw,
        hnsw: HNSWParameters = .default, ivf: IVFParameters = .default, chunker: Chunker = try! Chunker()
    ) throws -> DocumentCollection {
        let manifestPath = directory + "/" + Manifest.fileName
        guard !FileManager.default.fileExists(atPath: manifestPath) else { throw CollectionError.collectionExists(directory: directory) }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw VectorSearchError.io(path: directory, reason: "cannot create: \(error.localizedDescription)")
        }
        let index = try AnyIndex(kind: kind, dimension: dimension, metric: metric, hnsw: hnsw, ivf: ivf)
        let manifest = Manifest(generation: 0, dimension: dimension, metric: metric, index: kind.rawValue, chunker: chunker, nextChunkID: 0)
        return DocumentCollection(directory: directory, manifest: manifest, index: index)
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
            throw CollectionError.nothingToEmbed(documentID: empty.id)
        }
        let vectors = try await embedder.embed(chunks.map(\.text))
        guard vectors.count == chunks.count else {
            throw CollectionError.embedderReturned(vectors: vectors.count, texts: chunks.count)
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
            throw CollectionError.documentGivenTwice(documentID: document.id)
        }
        try lock.withLock {
            if !replacing, let existing = newDocuments.first(where: { documents[$0.id] != nil }) {
                throw CollectionError.documentExists(documentID: existing.id)
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
    private static func naming(_ error: VectorSearchError, in chunks: [Chunk]) -> any Error {
        let (row, reason): (Int?, String) =
            switch error {
            case let .nonFiniteValue(row, column): (row, "its embedding has a non-finite value (NaN or infinity) at component \(column)")
            case let .zeroVector(row): (row, "its embedding is all zeros, which cosine cannot compare")
            case let .normOverflow(row): (row, "its embedding's norm is too large for float32 arithmetic")
            case let .invalidAttributes(row, reason): (row, reason)
            default: (nil, "")
            }
        guard let row, chunks.indices.contains(row) else { return error }
        let chunk = chunks[row]
        return CollectionError.invalidDocument(documentID: chunk.documentID, chunk: chunk.index, reason: reason)
    }

    func removeChunks(_ ids: [VectorID]) {
        index.remove(ids: ids)
        for id in ids {
            chunks[id] = nil
            keywords.remove(id: id)
        }
    }
}
