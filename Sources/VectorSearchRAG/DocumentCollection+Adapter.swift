import Foundation
import VectorSearch

// The query adapter: stored in the database (table `query_adapter`, made by the first
// adapter set), applied to every query vector a retrieval takes unless it asks otherwise.
extension DocumentCollection {
    /// The collection's query adapter, or nil.
    public var queryAdapter: QueryAdapter? {
        get throws { try read { try adapter($0) } }
    }

    /// Stores `adapter` (replacing any), or removes it when nil; durable on return, applied by
    /// every retrieval that starts after.
    public func setQueryAdapter(_ adapter: QueryAdapter?) throws {
        if let adapter, adapter.dimension != dimension {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: adapter.dimension, row: nil)
        }
        try write { database in
            try database.execute(
                """
                CREATE TABLE IF NOT EXISTS query_adapter(
                    id INTEGER PRIMARY KEY CHECK (id = 1), format INTEGER NOT NULL, version INTEGER NOT NULL,
                    dimension INTEGER NOT NULL, method TEXT NOT NULL, regularization TEXT NOT NULL,
                    matrix BLOB NOT NULL, checksum INTEGER NOT NULL)
                """)
            let version = (try database.integer("SELECT version FROM query_adapter") ?? 0) + 1
            try database.run("DELETE FROM query_adapter")
            guard let adapter else { return }
            try adapter.matrix.withUnsafeBytes { bytes in
                try database.run(
                    "INSERT INTO query_adapter VALUES (1, ?, ?, ?, ?, ?, ?, ?)", .integer(Self.adapterFormat), .integer(version),
                    .integer(Int64(adapter.dimension)), .text(adapter.method), .text(String(adapter.regularization)), .blob(bytes),
                    .integer(Int64(Checksum.crc32(bytes))))
            }
        }
    }

    static let adapterFormat: Int64 = 1

    /// The stored adapter, read in the transaction on `database` (from the cache when its
    /// version has not changed); checked against its checksum and the collection's dimension.
    func adapter(_ database: SQLiteDatabase) throws -> QueryAdapter? {
        guard try database.integer("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'query_adapter'") != nil,
            let version = try database.integer("SELECT version FROM query_adapter")
        else { return nil }
        if let cached = adapterLock.withLock({ cachedAdapter }), cached.version == version { return cached.adapter }
        let damaged = { (reason: String) in
            CollectionError.damaged(
                directory: self.directory, reason: "the query adapter: \(reason) (rag tune --remove, or setQueryAdapter(nil), removes it)")
        }
        let statement = try database.statement("SELECT format, dimension, method, regularization, matrix, checksum FROM query_adapter")
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        guard statement.int64(0) == Self.adapterFormat else { throw damaged("format \(statement.int64(0)) is not one this version reads") }
        let d = statement.int(1), matrix = statement.blob(4)
        guard d == dimension, matrix.count == d * d * MemoryLayout<Float>.size else {
            throw damaged("it is \(d)-d with \(matrix.count) bytes; the collection is \(dimension)-d")
        }
        guard Int64(Checksum.crc32(matrix)) == statement.int64(5) else { throw damaged("its checksum does not match") }
        let adapter = try QueryAdapter(
            dimension: d, matrix: Array(matrix.bindMemory(to: Float.self)), method: statement.text(2),
            regularization: Double(statement.text(3)) ?? 0)
        adapterLock.withLock { cachedAdapter = (version, adapter) }
        return adapter
    }
}

extension DocumentCollection {
    /// The stored vectors of a document's chunks, in order (none for an unknown document).
    func chunkVectors(ofDocument id: String) throws -> [[Float]] {
        try read { database in
            try database.rows("SELECT vector FROM chunks WHERE document = ? ORDER BY position", .text(id)) { row in
                Array(row.blob(0).bindMemory(to: Float.self))
            }
        }
    }
}
