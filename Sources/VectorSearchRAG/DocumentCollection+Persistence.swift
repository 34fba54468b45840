import Foundation
import VectorSearch

// A collection on disk: the manifest names the current generation's index and documents file;
// saving writes a new generation and switches to it by renaming the manifest.
extension DocumentCollection {
    /// Opens the collection saved in `directory`.
    public static func open(at directory: String) throws -> DocumentCollection {
        let manifestPath = directory + "/" + Manifest.fileName
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(try RegularFile.readAll(manifestPath)))
        } catch let error as DecodingError {
            throw VectorSearchError.malformedFile(path: manifestPath, row: nil, byteOffset: nil, reason: DocumentFile.describe(error))
        } catch let VectorSearchError.io(_, reason) {
            throw VectorSearchError.io(path: manifestPath, reason: "cannot read (is \(directory) a collection?): \(reason)")
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
        let data = Data(try RegularFile.readAll(path))
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
