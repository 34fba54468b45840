import Foundation
import VectorSearch

/// What a collection records about itself: how it was made, and the log entry its current
/// checkpoint holds.
struct CollectionSettings: Codable {
    var format = CollectionSchema.format
    var dimension: Int
    var metric: Metric
    var index: IndexKind
    var chunker: Chunker
    /// The index's build parameters, for `reindex`.
    var hnsw: HNSWParameters
    var ivf: IVFParameters
}

/// The tables of a collection's database (format 2; format 1 was the manifest layout).
///
/// - `settings`: `collection` (the settings as JSON) and `checkpoint` (the last log entry the
///   current checkpoint file holds).
/// - `fields`: each metadata field's kind, so every write is checked against the fields of all
///   documents without loading them.
/// - `documents`: id and metadata (JSON). Deleting one deletes its chunks.
/// - `chunks`: id (never reused), document, position, character range, text and vector (float32,
///   little-endian). Triggers keep the FTS5 table and the log in step with it, in the same
///   transaction as the change itself.
/// - `chunks_fts`: the chunks' text for keyword search (FTS5, ranked by `bm25()`).
/// - `vector_log`: sequence number, chunk, added (1) or removed (0).
enum CollectionSchema {
    static let fileName = "collection.sqlite"
    static let format = 2

    static func exists(_ database: SQLiteDatabase) throws -> Bool {
        try database.integer("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'settings'") != nil
    }

    static func create(_ database: SQLiteDatabase, settings: CollectionSettings) throws {
        try database.execute(
            """
            CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE fields(name TEXT PRIMARY KEY, kind INTEGER NOT NULL);
            CREATE TABLE documents(id TEXT PRIMARY KEY, metadata TEXT NOT NULL);
            CREATE TABLE chunks(
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                document TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                position INTEGER NOT NULL, range_start INTEGER NOT NULL, range_end INTEGER NOT NULL,
                text TEXT NOT NULL, vector BLOB NOT NULL);
            CREATE INDEX chunks_of_document ON chunks(document, position);
            CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content = 'chunks', content_rowid = 'id');
            CREATE TABLE vector_log(seq INTEGER PRIMARY KEY AUTOINCREMENT, chunk INTEGER NOT NULL, added INTEGER NOT NULL);
            CREATE TRIGGER chunk_added AFTER INSERT ON chunks BEGIN
                INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
                INSERT INTO vector_log(chunk, added) VALUES (new.id, 1);
            END;
            CREATE TRIGGER chunk_removed AFTER DELETE ON chunks BEGIN
                INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
                INSERT INTO vector_log(chunk, added) VALUES (old.id, 0);
            END;
            """)
        try database.run("INSERT INTO settings(key, value) VALUES ('collection', ?)", .text(try json(settings)))
        try database.run("INSERT INTO settings(key, value) VALUES ('checkpoint', '0')")
    }

    static func settings(_ database: SQLiteDatabase, path: String) throws -> CollectionSettings {
        guard try exists(database),
            let text = try database.rows("SELECT value FROM settings WHERE key = 'collection'", row: { $0.text(0) }).first
        else {
            throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "not a collection's database (no settings)")
        }
        let settings: CollectionSettings
        do {
            settings = try JSONDecoder().decode(CollectionSettings.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "settings: \(DocumentFile.describe(error))")
        }
        guard settings.format == format else {
            throw VectorSearchError.malformedFile(
                path: path, row: nil, byteOffset: nil, reason: "collection format \(settings.format), this build reads \(format)")
        }
        guard settings.dimension > 0, settings.dimension <= ParameterCheck.maximumDimension else {
            throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "dimension \(settings.dimension) is out of range")
        }
        return settings
    }

    /// The last log entry the current checkpoint holds.
    static func checkpoint(_ database: SQLiteDatabase) throws -> Int64 {
        try database.integer("SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'checkpoint'") ?? 0
    }

    /// The sequence number of the last log entry ever written (entries a checkpoint holds are
    /// dropped, their numbers are not reused).
    static func lastLogged(_ database: SQLiteDatabase) throws -> Int64 {
        try database.integer("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'") ?? 0
    }

    /// The metadata fields of all documents and their kinds.
    static func fields(_ database: SQLiteDatabase) throws -> [String: AttributeColumn.Kind] {
        var known: [String: AttributeColumn.Kind] = [:]
        for (name, raw) in try database.rows("SELECT name, kind FROM fields", row: { ($0.text(0), $0.int(1)) }) {
            if let kind = AttributeColumn.Kind(rawValue: UInt8(clamping: raw)) { known[name] = kind }
        }
        return known
    }

    /// Records the fields of `batch` (one metadata set per row), refusing a type change.
    static func addFields(_ database: SQLiteDatabase, _ batch: [Attributes]) throws {
        let known = try fields(database)
        let kinds = try AttributeStore.kinds(known, adding: batch)
        for (name, kind) in kinds where known[name] != kind {
            try database.run("INSERT OR REPLACE INTO fields(name, kind) VALUES (?, ?)", .text(name), .integer(Int64(kind.rawValue)))
        }
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func metadata(_ json: String, database: SQLiteDatabase) throws -> Attributes {
        do {
            return try Attributes(jsonText: json)
        } catch {
            throw VectorSearchError.malformedFile(path: database.path, row: nil, byteOffset: nil, reason: "a document's metadata: \(error)")
        }
    }
}
