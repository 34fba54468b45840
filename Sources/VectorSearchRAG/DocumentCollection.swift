import Foundation
import VectorSearch

/// A knowledge base on disk: documents split into chunks, their vectors in one index (flat, IVF
/// or HNSW), their metadata for filters, and an FTS5 keyword index for hybrid search.
///
/// Documents, chunks (text, vector), metadata and a log of vector changes live in one SQLite
/// database (`collection.sqlite`, WAL mode). Each ``add(_:embeddings:)``, ``replace(_:embeddings:)``
/// and ``delete(documentIDs:)`` is one transaction: when it returns, the change is on disk and
/// seen by every new search, in this process and in others. The vector index is a checkpoint
/// (`checkpoint-SEQ.vsidx`, the index file of the last log entry it holds): a search loads it
/// the first time and applies the log entries after it; ``checkpoint()`` writes a new one (a
/// write does when the log grows past ``checkpointInterval`` entries). Any number of processes
/// may read and write one collection: writers take turns (a second waits up to
/// ``busyTimeout`` seconds), readers see one consistent state. Safe to share across threads.
///
/// ```swift
/// let collection = try DocumentCollection.create(at: "kb", dimension: 384)
/// try collection.add(Document(id: "a", text: "…", metadata: ["year": 2024]), embedding: vector)
/// let hits = try collection.retrieve(vector: query, options: RetrievalOptions(k: 5, filter: .field("year") >= 2020))
/// ```
public final class DocumentCollection: @unchecked Sendable {
    public let directory: String
    public let dimension: Int
    public let metric: Metric
    public let indexKind: IndexKind
    /// How ``add(_:embedder:)`` splits texts.
    public let chunker: Chunker
    /// Log entries after the checkpoint beyond which a write also writes a new checkpoint (the
    /// log entries a process replays when it first searches).
    public var checkpointInterval: Int {
        get { writeLock.withLock { interval } }
        set { writeLock.withLock { interval = max(1, newValue) } }
    }

    // Writes and checkpoints: one at a time in this process (and across processes, SQLite's lock).
    let writeLock = NSLock()
    let writer: SQLiteDatabase
    var interval = 1_000
    // Reads: each on a connection of its own from the pool, so searches run in parallel.
    private let readers = ContextPool<SQLiteDatabase>()
    // The vectors, loaded on the first search; they hold the log up to `appliedSequence`. Searches
    // read them under `state`'s read lock; catching up with the log and checkpoints write.
    let state = ReadWriteLock()
    var index: CollectionIndex?
    var appliedSequence: Int64 = 0

    // The query adapter as last read, by its stored version (read again when another write changed it).
    let adapterLock = NSLock()
    var cachedAdapter: (version: Int64, adapter: QueryAdapter)?

    /// How long a writer waits for another process's write lock, in seconds.
    public static let busyTimeout = 30.0

    let settings: CollectionSettings

    init(directory: String, database: SQLiteDatabase, settings: CollectionSettings) {
        self.directory = directory
        writer = database
        self.settings = settings
        dimension = settings.dimension
        metric = settings.metric
        indexKind = settings.index
        chunker = settings.chunker
    }

    /// A new, empty collection in `directory` (created if needed; it must not hold a collection).
    /// Cosine suits sentence embeddings. The index takes the build parameters of its kind
    /// (`hnsw` for HNSW, `ivf` for IVF; the other is ignored). An IVF collection trains its
    /// lists at its first checkpoint, on every chunk added by then (searched exactly until then).
    public static func create(
        at directory: String, dimension: Int, metric: Metric = .cosine, index kind: IndexKind = .hnsw,
        hnsw: HNSWParameters = .default, ivf: IVFParameters = .default, chunker: Chunker = try! Chunker()
    ) throws -> DocumentCollection {
        // Checked before anything is written, so bad parameters leave no directory behind.
        let empty = try AnyIndex(kind: kind, dimension: dimension, metric: metric, hnsw: hnsw, ivf: ivf)
        guard !FileManager.default.fileExists(atPath: directory + "/" + LegacyCollection.manifestName) else {
            throw CollectionError.collectionExists(directory: directory)
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw VectorSearchError.io(path: directory, reason: "cannot create: \(error.localizedDescription)")
        }
        let settings = CollectionSettings(dimension: dimension, metric: metric, index: kind, chunker: chunker, hnsw: hnsw, ivf: ivf)
        let database = try SQLiteDatabase(path: databasePath(directory), create: true, busyTimeout: busyTimeout)
        // Two processes creating one collection: the write lock orders them, the second finds it made.
        try database.transaction(immediate: true) {
            guard try !CollectionSchema.exists(database) else { throw CollectionError.collectionExists(directory: directory) }
            try CollectionSchema.create(database, settings: settings)
            try empty.save(to: checkpointPath(directory, 0))
        }
        let collection = DocumentCollection(directory: directory, database: database, settings: settings)
        // The index of a new collection is known (empty, at log entry 0): its writes go straight into it.
        collection.index = try CollectionIndex(main: empty)
        return collection
    }

    /// Opens the collection in `directory`. A collection saved in the earlier layout (a
    /// manifest, an index file and a documents file) is converted first; see
    /// ``needsConversion(at:)``.
    public static func open(at directory: String) throws -> DocumentCollection {
        let path = databasePath(directory)
        if !FileManager.default.fileExists(atPath: path) {
            guard needsConversion(at: directory) else {
                throw VectorSearchError.io(path: directory, reason: "not a collection (no \(CollectionSchema.fileName) in it)")
            }
            try LegacyCollection.convert(directory)
        }
        _ = try RegularFile.check(path)
        let database = try SQLiteDatabase(path: path, create: false, busyTimeout: busyTimeout)
        // A database without its tables may be one another process is creating: its transaction
        // holds the write lock, so wait for it (as a writer would) before reading again.
        let settings =
            try database.transaction(immediate: false) { try CollectionSchema.exists(database) }
            ? try database.transaction(immediate: false) { try CollectionSchema.settings(database, path: path) }
            : try database.transaction(immediate: true) { try CollectionSchema.settings(database, path: path) }
        return DocumentCollection(directory: directory, database: database, settings: settings)
    }

    /// Whether `directory` holds a collection (in either layout).
    public static func exists(at directory: String) -> Bool {
        FileManager.default.fileExists(atPath: databasePath(directory))
            || FileManager.default.fileExists(atPath: directory + "/" + LegacyCollection.manifestName)
    }

    /// Whether `directory` holds a collection in the earlier layout, which ``open(at:)`` converts.
    public static func needsConversion(at directory: String) -> Bool {
        !FileManager.default.fileExists(atPath: databasePath(directory))
            && FileManager.default.fileExists(atPath: directory + "/" + LegacyCollection.manifestName)
    }

    static func databasePath(_ directory: String) -> String { directory + "/" + CollectionSchema.fileName }
    static func checkpointPath(_ directory: String, _ sequence: Int64) -> String { directory + "/checkpoint-\(sequence).vsidx" }

    // MARK: Reading

    /// Number of documents.
    public var documentCount: Int {
        get throws { try read { Int(try $0.integer("SELECT count(*) FROM documents") ?? 0) } }
    }

    /// Number of chunks (vectors) over all documents.
    public var chunkCount: Int {
        get throws { try read { Int(try $0.integer("SELECT count(*) FROM chunks") ?? 0) } }
    }

    /// The ids of the documents, sorted.
    public var documentIDs: [String] {
        get throws { try read { try $0.rows("SELECT id FROM documents ORDER BY id") { $0.text(0) } } }
    }

    /// The metadata and chunks of a document, or nil.
    public func document(_ id: String) throws -> (metadata: Attributes, chunks: [Chunk])? {
        try read { database in
            guard let json = try database.rows("SELECT metadata FROM documents WHERE id = ?", .text(id), row: { $0.text(0) }).first
            else { return nil }
            let chunks = try database.rows(
                "SELECT position, range_start, range_end, text FROM chunks WHERE document = ? ORDER BY position", .text(id)
            ) { row in
                Chunk(documentID: id, index: row.int(0), range: row.int(1)..<max(row.int(1), row.int(2)), text: row.text(3))
            }
            return (try CollectionSchema.metadata(json, database: database), chunks)
        }
    }

    /// The indexed vector of a chunk (normalised under cosine), or nil.
    public func vector(forChunk id: VectorID) throws -> [Float]? {
        try read { database in
            let index = try currentIndex(database)
            return state.withReadLock { index.vector(for: id) }
        }
    }

    /// Runs `body` in one read transaction on a connection of its own: it sees one state of the
    /// database, whatever other threads and processes write meanwhile. Started over when another
    /// process replaced the checkpoint the transaction named.
    func read<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        let path = Self.databasePath(directory)
        let connect = { try SQLiteDatabase(path: path, create: false, busyTimeout: Self.busyTimeout) }
        let attempt = { (database: SQLiteDatabase) throws -> T in
            for _ in 0..<10 {
                do {
                    return try database.transaction(immediate: false) { try body(database) }
                } catch is CheckpointReplaced {
                    continue
                }
            }
            return try database.transaction(immediate: true) { try body(database) }
        }
        return try readers.withContext(make: connect, attempt)
    }

    /// Runs `body` in one write transaction on the writer connection: one writer at a time in
    /// this process, and across processes (a second waits for SQLite's lock up to the busy timeout).
    func write<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        try writeLock.withLock { try writer.transaction(immediate: true) { try body(writer) } }
    }

    // MARK: Changing

    /// Adds `document` as one chunk (its whole text, which may be empty) with its precomputed
    /// `embedding`. Refused if a document with its id is there (see ``replace(_:embeddings:)``).
    public func add(_ document: Document, embedding: [Float]) throws {
        try add([document], embeddings: try VectorMatrix(dimension: dimension, values: embedding))
    }

    /// Adds documents, each as one chunk (its whole text), with precomputed embeddings (one row
    /// per document); all or none.
    public func add(_ documents: [Document], embeddings: VectorMatrix) throws {
        try write(documents, chunks: documents.map(Chunk.whole), vectors: embeddings, replacing: false)
    }

    /// As ``add(_:embeddings:)``, replacing the documents that have these ids.
    public func replace(_ documents: [Document], embeddings: VectorMatrix) throws {
        try write(documents, chunks: documents.map(Chunk.whole), vectors: embeddings, replacing: true)
    }

    /// Adds (or, `replacing`, replaces) documents given as chunks with one vector each (row `i`
    /// for `chunks[i]`; see ``chunkAndEmbed(_:embedder:)``), in one transaction: all or none.
    public func add(_ documents: [Document], chunks: [Chunk], embeddings: VectorMatrix, replacing: Bool = false) throws {
        try write(documents, chunks: chunks, vectors: embeddings, replacing: replacing)
    }

    /// Splits `documents` with the collection's chunker, embeds the chunks with `embedder`
    /// and adds them all, or none if anything is refused (an existing id, a wrong dimension).
    public func add(_ documents: [Document], embedder: some Embedder) async throws {
        let (chunks, vectors) = try await chunkAndEmbed(documents, embedder: embedder)
        try write(documents, chunks: chunks, vectors: vectors, replacing: false)
    }

    /// As ``add(_:embedder:)``, replacing the documents that have these ids: their old chunks
    /// go, the new ones come.
    public func replace(_ documents: [Document], embedder: some Embedder) async throws {
        let (chunks, vectors) = try await chunkAndEmbed(documents, embedder: embedder)
        try write(documents, chunks: chunks, vectors: vectors, replacing: true)
    }

    /// Adds (or, `replacing`, replaces) documents some of which bring the vector of their whole
    /// text (stored as one chunk each) while the others are chunked and embedded by `embedder`
    /// first; one transaction: nothing is stored unless all are taken.
    public func add(_ entries: [DocumentFile.Entry], embedder: some Embedder, replacing: Bool = false) async throws {
        var vectors = VectorMatrix(dimension: dimension)
        var chunks: [Chunk] = [], toEmbed: [Document] = []
        for entry in entries {
            guard let embedding = entry.embedding else {
                toEmbed.append(entry.document)
                continue
            }
            guard embedding.count == dimension else {
                throw CollectionError.invalidDocument(
                    documentID: entry.document.id, chunk: 0,
                    reason: "its embedding has \(embedding.count) components, the collection's \(dimension)")
            }
            try vectors.append(embedding)
            chunks.append(.whole(entry.document))
        }
        if !toEmbed.isEmpty {
            let embedded = try await chunkAndEmbed(toEmbed, embedder: embedder)
            chunks += embedded.chunks
            for row in 0..<embedded.vectors.count { try vectors.append(embedded.vectors[row]) }
        }
        try write(entries.map(\.document), chunks: chunks, vectors: vectors, replacing: replacing)
    }

    /// Deletes documents and all their chunks; returns how many documents were there.
    @discardableResult
    public func delete(documentIDs ids: [String]) throws -> Int {
        let deleted = try write { database in
            var deleted = 0
            for id in Set(ids) {
                try database.run("DELETE FROM documents WHERE id = ?", .text(id))
                deleted += database.changes > 0 ? 1 : 0
            }
            return deleted
        }
        checkpointIfDue()
        return deleted
    }

    /// `documents` split by the collection's chunker, and the chunks' vectors from `embedder`
    /// (nothing is stored).
    public func chunkAndEmbed(_ documents: [Document], embedder: some Embedder) async throws -> (chunks: [Chunk], vectors: VectorMatrix) {
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

    /// Stores `chunks` (of `documents`, in order) with one vector each in one transaction, all
    /// or nothing. Everything an index could refuse is checked first, so the log only ever holds
    /// what every index takes.
    private func write(_ newDocuments: [Document], chunks newChunks: [Chunk], vectors: VectorMatrix, replacing: Bool) throws {
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
        do {
            try VectorValidation.checkRows(vectors, dimension: dimension, metric: metric)
        } catch let error as VectorSearchError {
            throw Self.naming(error, in: newChunks)
        }
        // A write that will be followed by a checkpoint (more chunks than the interval) loads
        // the index first, if this process has none: the checkpoint needs it anyway, and it then
        // takes the new chunks as they are instead of reading them back.
        if newChunks.count > checkpointInterval, state.withReadLock({ index == nil }) { _ = try read { try currentIndex($0) } }
        try writeLock.withLock {
            let database = writer
            let committed = try database.transaction(immediate: true) {
                let before = try CollectionSchema.lastLogged(database)
                let added = try insert(newDocuments, chunks: newChunks, vectors: vectors, replacing: replacing, database)
                let after = try CollectionSchema.lastLogged(database)
                // Replaced documents' chunks were logged as removed, before the additions.
                let removed =
                    after - before > Int64(added.count)
                    ? try database.rows("SELECT chunk FROM vector_log WHERE seq > ? AND added = 0", .integer(before)) {
                        VectorID(bitPattern: $0.int64(0))
                    } : []
                return (before: before, after: after, added: added, removed: removed, fields: try CollectionSchema.fields(database))
            }
            // The index this process holds, if it holds the log up to this write, takes the
            // change as it is (rather than reading it back from the database at the next search).
            state.withWriteLock {
                guard let index, appliedSequence == committed.before else { return }
                let metadata = Dictionary(newDocuments.map { ($0.id, $0.metadata) }, uniquingKeysWith: { first, _ in first })
                do {
                    index.declareFields(committed.fields)
                    index.remove(committed.removed)
                    try index.add(vectors, ids: committed.added, attributes: newChunks.map { metadata[$0.documentID] ?? [:] })
                    appliedSequence = committed.after
                } catch {
                    self.index = nil  // loaded again, from the checkpoint and the log, by the next search
                }
            }
        }
        checkpointIfDue()
    }

    /// The rows of a write (see `write(_:chunks:vectors:replacing:)`), inside its transaction;
    /// returns the new chunks' ids.
    private func insert(
        _ newDocuments: [Document], chunks newChunks: [Chunk], vectors: VectorMatrix, replacing: Bool, _ database: SQLiteDatabase
    ) throws -> [VectorID] {
        for document in newDocuments where try database.integer("SELECT 1 FROM documents WHERE id = ?", .text(document.id)) != nil {
            guard replacing else { throw CollectionError.documentExists(documentID: document.id) }
            try database.run("DELETE FROM documents WHERE id = ?", .text(document.id))
        }
        do {
            try CollectionSchema.addFields(database, newDocuments.map(\.metadata))
        } catch let VectorSearchError.invalidAttributes(row?, reason) {
            throw CollectionError.invalidDocument(documentID: newDocuments[row].id, chunk: 0, reason: reason)
        }
        for document in newDocuments {
            try database.run(
                "INSERT INTO documents(id, metadata) VALUES (?, ?)", .text(document.id),
                .text(document.metadata.jsonText))
        }
        // Many chunks per statement: each statement that changes the FTS5 table (through the
        // trigger) costs about 30 µs whatever its rows (one chunk per statement was 40 % of the
        // time 200,000 documents took to write).
        var ids: [VectorID] = []
        ids.reserveCapacity(newChunks.count)
        try vectors.withUnsafeBufferPointer { floats in
            let bytes = UnsafeRawBufferPointer(floats)
            var first = 0
            while first < newChunks.count {
                // 256 rows, or the largest power of two left: a few statement shapes to prepare.
                let remaining = newChunks.count - first
                let rows = remaining >= 256 ? 256 : 1 << (Int.bitWidth - 1 - remaining.leadingZeroBitCount)
                var values: [SQLiteValue] = []
                values.reserveCapacity(rows * 6)
                for row in first..<(first + rows) {
                    let chunk = newChunks[row]
                    let vector = UnsafeRawBufferPointer(rebasing: bytes[(row * dimension * 4)..<((row + 1) * dimension * 4)])
                    values += [
                        .text(chunk.documentID), .integer(Int64(chunk.index)), .integer(Int64(chunk.range.lowerBound)),
                        .integer(Int64(chunk.range.upperBound)), .text(chunk.text), .blob(vector),
                    ]
                }
                try database.run(Self.insertChunks(rows: rows), values: values)
                // Rows get consecutive ids in order: the table's AUTOINCREMENT counts on from the
                // largest id, and this transaction is the only writer.
                let last = database.lastInsertedRowID
                ids += ((last - Int64(rows) + 1)...last).map { VectorID(bitPattern: $0) }
                first += rows
            }
        }
        return ids
    }

    /// The statement inserting `rows` chunks.
    private static func insertChunks(rows: Int) -> String {
        "INSERT INTO chunks(document, position, range_start, range_end, text, vector) VALUES "
            + repeatElement("(?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }

    /// A refusal of row `r` restated for the document and chunk that row came from.
    private static func naming(_ error: VectorSearchError, in chunks: [Chunk]) -> any Error {
        let (row, reason): (Int?, String) =
            switch error {
            case let .nonFiniteValue(row, column): (row, "its embedding has a non-finite value (NaN or infinity) at component \(column)")
            case let .zeroVector(row): (row, "its embedding is all zeros, which cosine cannot compare")
            case let .normOverflow(row): (row, "its embedding's norm is too large for float32 arithmetic")
            default: (nil, "")
            }
        guard let row, chunks.indices.contains(row) else { return error }
        let chunk = chunks[row]
        return CollectionError.invalidDocument(documentID: chunk.documentID, chunk: chunk.index, reason: reason)
    }
}
