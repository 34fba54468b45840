import Foundation
import VectorSearch

/// A collection in the layout before SQLite (format 1): `manifest.json` naming the current
/// generation's index file and documents file (JSON Lines). ``convert(_:)`` moves one into a
/// database once; the old files are kept in `format-1/` until the user removes them.
enum LegacyCollection {
    static let manifestName = "manifest.json"
    static let keptDirectory = "format-1"

    /// Reads the old files, writes the database and a checkpoint of the old index (ids kept, so
    /// searches answer as before), then moves the old files aside. A crash before the database
    /// is renamed into place leaves the old layout as it was.
    static func convert(_ directory: String) throws {
        let manifestPath = directory + "/" + manifestName
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(try RegularFile.readAll(manifestPath)))
        } catch let error as DecodingError {
            throw VectorSearchError.malformedFile(path: manifestPath, row: nil, byteOffset: nil, reason: DocumentFile.describe(error))
        }
        guard manifest.format == 1 else {
            throw VectorSearchError.malformedFile(
                path: manifestPath, row: nil, byteOffset: nil, reason: "collection format \(manifest.format), this build converts format 1")
        }
        guard let kind = IndexKind(rawValue: manifest.index), manifest.dimension > 0, manifest.dimension <= ParameterCheck.maximumDimension
        else {
            throw VectorSearchError.malformedFile(
                path: manifestPath, row: nil, byteOffset: nil, reason: "index '\(manifest.index)', dimension \(manifest.dimension)")
        }
        let indexPath = directory + "/" + manifest.indexFile
        let documentsPath = directory + "/" + manifest.documentsFile
        let index = try AnyIndex.load(from: indexPath)
        guard index.dimension == manifest.dimension, index.metric == manifest.metric, index.kind == kind else {
            throw VectorSearchError.corruptIndex(path: indexPath, reason: "does not match the manifest")
        }
        let lines = try readDocuments(documentsPath, index: index)

        // Built under a temporary name and renamed into place: the database appears whole or not at all.
        let building = directory + "/" + CollectionSchema.fileName + ".converting"
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: building + suffix) }
        do {
            let database = try SQLiteDatabase(path: building, create: true, busyTimeout: DocumentCollection.busyTimeout)
            try database.transaction(immediate: true) {
                try CollectionSchema.create(
                    database,
                    settings: CollectionSettings(
                        dimension: manifest.dimension, metric: manifest.metric, index: kind, chunker: manifest.chunker,
                        hnsw: hnswParameters(of: index), ivf: ivfParameters(of: index)))
                try CollectionSchema.addFields(database, lines.map(\.metadata))
                for line in lines {
                    try database.run("INSERT INTO documents(id, metadata) VALUES (?, ?)", .text(line.id), .text(line.metadata.jsonText))
                    for entry in line.chunks {
                        let vector = index.vector(for: entry.id)!
                        try vector.withUnsafeBytes { bytes in
                            try database.run(
                                "INSERT INTO chunks(id, document, position, range_start, range_end, text, vector) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                .integer(Int64(bitPattern: entry.id)), .text(line.id), .integer(Int64(entry.chunk.index)),
                                .integer(Int64(entry.chunk.range.lowerBound)), .integer(Int64(entry.chunk.range.upperBound)),
                                .text(entry.chunk.text), .blob(bytes))
                        }
                    }
                }
                // The old index is the first checkpoint: it holds every chunk just logged.
                let last = try database.integer("SELECT max(seq) FROM vector_log") ?? 0
                try index.save(to: DocumentCollection.checkpointPath(directory, last))
                try database.run("UPDATE settings SET value = ? WHERE key = 'checkpoint'", .text(String(last)))
                try database.run("DELETE FROM vector_log")
            }
            try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try? FileManager.default.removeItem(atPath: building + "-wal")
        try? FileManager.default.removeItem(atPath: building + "-shm")
        guard rename(building, DocumentCollection.databasePath(directory)) == 0 else {
            throw VectorSearchError.io(path: building, reason: "cannot rename into place: \(String(cString: strerror(errno)))")
        }
        let kept = directory + "/" + keptDirectory
        try? FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
        for name in [manifestName, manifest.indexFile, manifest.documentsFile] {
            try? FileManager.default.moveItem(atPath: directory + "/" + name, toPath: kept + "/" + name)
        }
    }

    private static func hnswParameters(of index: AnyIndex) -> HNSWParameters {
        if case let .hnsw(hnsw) = index { hnsw.parameters } else { .default }
    }

    private static func ivfParameters(of index: AnyIndex) -> IVFParameters {
        if case let .ivf(ivf) = index { ivf.parameters } else { .default }
    }

    private static func readDocuments(_ path: String, index: AnyIndex) throws -> [DocumentLine] {
        let data = Data(try RegularFile.readAll(path))
        let decoder = JSONDecoder()
        var lines: [DocumentLine] = []
        var seen = Set<VectorID>()
        for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            let stored: DocumentLine
            do {
                stored = try decoder.decode(DocumentLine.self, from: Data(line))
            } catch let error as DecodingError {
                throw VectorSearchError.malformedFile(path: path, row: number, byteOffset: nil, reason: DocumentFile.describe(error))
            }
            for entry in stored.chunks {
                guard index.vector(for: entry.id) != nil, seen.insert(entry.id).inserted, entry.chunk.documentID == stored.id else {
                    throw VectorSearchError.malformedFile(
                        path: path, row: number, byteOffset: nil, reason: "chunk \(entry.id) is not in the index, or listed twice")
                }
            }
            lines.append(stored)
        }
        guard seen.count == index.count else {
            throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "\(seen.count) chunks listed, the index holds \(index.count)")
        }
        return lines
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
