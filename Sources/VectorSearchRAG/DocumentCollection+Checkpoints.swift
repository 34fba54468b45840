import Foundation
import VectorSearch

// The vector index as a checkpoint plus the log of vector changes after it.
extension DocumentCollection {
    /// The vectors of every change committed before the transaction on `database` began (or
    /// later: another thread may have caught up further): the checkpoint is loaded when this
    /// process has none (or another process checkpointed past it and dropped the log entries it
    /// needs), then the log entries after it are applied (added chunks join the exact recent part,
    /// see ``CollectionIndex``). Called inside a transaction; read the result under `state`.
    func currentIndex(_ database: SQLiteDatabase) throws -> CollectionIndex {
        let checkpoint = try CollectionSchema.checkpoint(database)
        let newest = max(checkpoint, try database.integer("SELECT max(seq) FROM vector_log") ?? 0)
        if let index = state.withReadLock({ appliedSequence >= newest && appliedSequence >= checkpoint ? self.index : nil }) {
            return index
        }
        return try state.withWriteLock {
            if index == nil || appliedSequence < checkpoint {
                let path = Self.checkpointPath(directory, checkpoint)
                do {
                    index = try CollectionIndex(main: try AnyIndex.load(from: path))
                } catch  where !FileManager.default.fileExists(atPath: path) {
                    // Another process replaced it after this transaction began: start over (see `read`).
                    throw CheckpointReplaced()
                }
                appliedSequence = checkpoint
            }
            guard let index else { preconditionFailure("loaded above") }
            index.declareFields(try CollectionSchema.fields(database))
            let entries = try database.rows(
                "SELECT seq, chunk, added FROM vector_log WHERE seq > ? ORDER BY seq", .integer(appliedSequence)
            ) {
                (sequence: $0.int64(0), chunk: VectorID(bitPattern: $0.int64(1)), added: $0.int(2) != 0)
            }
            guard let last = entries.last else { return index }
            // Chunk ids are never reused: each is added once and removed at most once, after, so
            // the entries reduce to a set of removals and a set of additions, in any order.
            let removed = Set(entries.lazy.filter { !$0.added }.map(\.chunk))
            index.remove(removed)
            // The chunks added since that still exist (one removed since is gone from the table).
            let (ids, vectors, attributes) = try storedVectors(
                database, where: "c.id IN (SELECT chunk FROM vector_log WHERE seq > ? AND added = 1)", .integer(appliedSequence))
            if !ids.isEmpty { try index.add(vectors, ids: ids, attributes: attributes) }
            appliedSequence = last.sequence
            return index
        }
    }

    /// The chunks `condition` admits (all by default), in id order, with their vectors and their
    /// documents' metadata: what an index is given, when it catches up with the log or is rebuilt.
    func storedVectors(
        _ database: SQLiteDatabase, where condition: String = "1", _ values: SQLiteValue...
    ) throws -> (ids: [VectorID], vectors: VectorMatrix, attributes: [Attributes]) {
        var ids: [VectorID] = []
        var vectors = VectorMatrix(dimension: dimension)
        var attributes: [Attributes] = []
        var metadataOf: [String: Attributes] = [:]
        let statement = try database.statement(
            "SELECT c.id, c.vector, c.document, d.metadata FROM chunks c JOIN documents d ON d.id = c.document WHERE \(condition) ORDER BY c.id")
        defer { statement.reset() }
        try statement.bind(values)
        while try statement.step() {
            let id = VectorID(bitPattern: statement.int64(0))
            guard statement.blob(1).count == dimension * MemoryLayout<Float>.size else {
                throw VectorSearchError.malformedFile(
                    path: database.path, row: nil, byteOffset: nil, reason: "chunk \(id) is not stored with a \(dimension)-d vector")
            }
            let document = statement.text(2)
            if metadataOf[document] == nil { metadataOf[document] = try CollectionSchema.metadata(statement.text(3), database: database) }
            ids.append(id)
            try vectors.append(Array(statement.blob(1).bindMemory(to: Float.self)))
            attributes.append(metadataOf[document]!)
        }
        return (ids, vectors, attributes)
    }

    /// Writes a checkpoint of the index holding every change so far, then drops the log entries
    /// it holds. Changes are durable without it; it makes the next open faster. Waits for other
    /// writers (their changes are then in the checkpoint too).
    public func checkpoint() throws {
        let sequence: Int64? = try write { database in
            // Under the write lock nothing new is logged: the index holds exactly `sequence`.
            let index = try currentIndex(database)
            let sequence = state.withReadLock { appliedSequence }
            guard sequence > (try CollectionSchema.checkpoint(database)) else { return nil }
            // Searches wait while the recent chunks move into the main index, not while it is saved.
            try state.withWriteLock { try index.merge() }
            try state.withReadLock { try index.main.save(to: Self.checkpointPath(directory, sequence)) }
            try database.run("UPDATE settings SET value = ? WHERE key = 'checkpoint'", .text(String(sequence)))
            try database.run("DELETE FROM vector_log WHERE seq <= ?", .integer(sequence))
            return sequence
        }
        if let sequence { removeCheckpoints(olderThan: sequence) }
    }

    /// Checkpoints when the log has grown past the interval since the last checkpoint. Called
    /// after a write has committed, so it never throws: the change is durable whatever happens
    /// here, and a checkpoint that fails (an IVF index with too few vectors to train its lists,
    /// a full disk) leaves the log as it was, to be tried again by the next write (`checkpoint()`
    /// and `rag compact` report the error).
    func checkpointIfDue() {
        let interval = Int64(checkpointInterval)
        let due = try? read { database in
            let last = try database.integer("SELECT max(seq) FROM vector_log") ?? 0
            return last - (try CollectionSchema.checkpoint(database)) > interval
        }
        if due == true { try? checkpoint() }
    }

    /// Removes the checkpoint files older than the current one. (A newer one is another writer's,
    /// not yet committed, or left by a crash and replaced later. A reader of another process that
    /// still wanted an old one finds it gone and starts over from the current one.)
    private func removeCheckpoints(olderThan current: Int64) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix("checkpoint-") && name.hasSuffix(".vsidx") {
            guard let sequence = Int64(name.dropFirst("checkpoint-".count).dropLast(".vsidx".count)), sequence < current else { continue }
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }
}

/// The checkpoint a read transaction named was replaced and removed by another process.
struct CheckpointReplaced: Error {}

// Maintenance: what the collection holds, its integrity, and rebuilding its index.
extension DocumentCollection {
    /// Counts and sizes, as `rag info` prints them.
    public struct Info: Sendable, Encodable {
        public var documents: Int
        public var chunks: Int
        /// Vector changes logged since the checkpoint (replayed by a process's first search).
        public var logEntries: Int
        /// The last log entry the checkpoint holds.
        public var checkpointSequence: Int64
        public var databaseBytes: Int
        public var checkpointBytes: Int
        /// The query adapter's method and regularisation, when there is one.
        public var queryAdapter: String?
    }

    public func info() throws -> Info {
        try read { database in
            let checkpoint = try CollectionSchema.checkpoint(database)
            func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }
            let databasePath = Self.databasePath(directory)
            return Info(
                documents: Int(try database.integer("SELECT count(*) FROM documents") ?? 0),
                chunks: Int(try database.integer("SELECT count(*) FROM chunks") ?? 0),
                logEntries: Int(try database.integer("SELECT count(*) FROM vector_log") ?? 0), checkpointSequence: checkpoint,
                databaseBytes: size(databasePath) + size(databasePath + "-wal"), checkpointBytes: size(Self.checkpointPath(directory, checkpoint)),
                queryAdapter: try adapter(database).map { "\($0.method) (λ \($0.regularization)), \($0.dimension)×\($0.dimension)" })
        }
    }

    /// Checks the database (SQLite's `integrity_check`, the FTS5 index against the chunks, the
    /// query adapter's checksum) and the index (the checkpoint's checksums, then the log applied:
    /// it must hold exactly the stored chunks). Throws ``CollectionError/damaged(directory:reason:)``
    /// naming the first problem.
    public func check() throws {
        try write { database in
            let problems = try database.rows("PRAGMA integrity_check") { $0.text(0) }
            guard problems == ["ok"] else {
                throw CollectionError.damaged(directory: directory, reason: "the database: " + problems.prefix(3).joined(separator: "; "))
            }
            do {
                try database.run("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
            } catch {
                throw CollectionError.damaged(directory: directory, reason: "the keyword index: \(error)")
            }
            adapterLock.withLock { cachedAdapter = nil }  // read and checked again
            _ = try adapter(database)
            state.withWriteLock { self.index = nil }  // loaded again from the checkpoint file
            let index: CollectionIndex
            do {
                index = try currentIndex(database)
            } catch {
                throw CollectionError.damaged(directory: directory, reason: "the vector index: \(error)")
            }
            let ids = try database.rows("SELECT id FROM chunks") { VectorID(bitPattern: $0.int64(0)) }
            let agree = state.withReadLock { ids.count == index.count && ids.allSatisfy { index.vector(for: $0) != nil } }
            guard agree else {
                throw CollectionError.damaged(
                    directory: directory, reason: "the vector index holds \(index.count) vectors, the database \(ids.count) chunks")
            }
        }
    }

    /// A new index of `kind` over every chunk the collection holds now, in memory only (to
    /// compare index kinds and settings on the same chunks, as `rag eval` does).
    func buildIndex(kind: IndexKind, hnsw: HNSWParameters, ivf: IVFParameters) throws -> CollectionIndex {
        let index = try AnyIndex(kind: kind, dimension: dimension, metric: metric, hnsw: hnsw, ivf: ivf)
        let (ids, vectors, attributes) = try read { try storedVectors($0) }
        if case let .ivf(ivf) = index, !ids.isEmpty { try ivf.train(vectors) }
        if !ids.isEmpty { try index.add(vectors, ids: ids, attributes: attributes) }
        let built = try CollectionIndex(main: index)
        built.declareFields(try read { try CollectionSchema.fields($0) })
        return built
    }

    /// Rebuilds the vector index from the vectors in the database and writes it as the new
    /// checkpoint (for an index file that is damaged or lost).
    public func reindex(progress: ((Int, Int) -> Void)? = nil) throws {
        let sequence = try write { database in
            let fresh = try AnyIndex(kind: indexKind, dimension: dimension, metric: metric, hnsw: settings.hnsw, ivf: settings.ivf)
            let total = Int(try database.integer("SELECT count(*) FROM chunks") ?? 0)
            let (ids, vectors, attributes) = try storedVectors(database)
            if case let .ivf(ivf) = fresh, !ids.isEmpty { try ivf.train(vectors) }
            progress?(0, total)
            try fresh.add(vectors, ids: ids, attributes: attributes)
            progress?(total, total)
            let last = try database.integer("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'") ?? 0
            try fresh.save(to: Self.checkpointPath(directory, last))
            try database.run("UPDATE settings SET value = ? WHERE key = 'checkpoint'", .text(String(last)))
            try database.run("DELETE FROM vector_log WHERE seq <= ?", .integer(last))
            let rebuilt = try CollectionIndex(main: fresh)
            state.withWriteLock {
                index = rebuilt
                appliedSequence = last
            }
            return last
        }
        removeCheckpoints(olderThan: sequence)
    }
}
