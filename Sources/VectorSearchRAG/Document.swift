import VectorSearch

/// A source document: an id you choose, its text, and metadata that filters test.
///
/// In JSON Lines (`rag ingest --documents`), one object per line: `"id"` (a string or an
/// integer), `"text"`, and either `"metadata": {...}` or, without that key, every other
/// top-level key as metadata. An optional `"embedding"` gives the vector of the whole text.
public struct Document: Sendable, Hashable {
    public var id: String
    public var text: String
    public var metadata: Attributes

    public init(id: String, text: String, metadata: Attributes = [:]) {
        self.id = id
        self.text = text
        self.metadata = metadata
    }
}

/// A piece of one document's text: what is embedded, retrieved and cited.
public struct Chunk: Sendable, Hashable {
    public var documentID: String
    /// Position among the document's chunks, from 0.
    public var index: Int
    /// Where the chunk lies in the document's text, in characters (Swift `Character`s).
    public var range: Range<Int>
    public var text: String

    public init(documentID: String, index: Int, range: Range<Int>, text: String) {
        self.documentID = documentID
        self.index = index
        self.range = range
        self.text = text
    }
}

extension Chunk {
    /// The one chunk of a document stored whole (its text may be empty: a vector with metadata).
    public static func whole(_ document: Document) -> Chunk {
        Chunk(documentID: document.id, index: 0, range: 0..<document.text.count, text: document.text)
    }
}

extension Chunk: Codable {
    enum CodingKeys: String, CodingKey {
        case documentID = "document", index, start, end, text
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let start = try c.decode(Int.self, forKey: .start), end = try c.decode(Int.self, forKey: .end)
        guard 0 <= start, start <= end else {
            throw DecodingError.dataCorruptedError(forKey: .end, in: c, debugDescription: "chunk range \(start)..<\(end) is not a range")
        }
        self.init(
            documentID: try c.decode(String.self, forKey: .documentID), index: try c.decode(Int.self, forKey: .index),
            range: start..<end, text: try c.decode(String.self, forKey: .text))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(documentID, forKey: .documentID)
        try c.encode(index, forKey: .index)
        try c.encode(range, start: .start, end: .end)
        try c.encode(text, forKey: .text)
    }
}

extension KeyedEncodingContainer {
    /// A character range as the JSON forms write it: its start and end under two keys.
    mutating func encode(_ range: Range<Int>, start: Key, end: Key) throws {
        try encode(range.lowerBound, forKey: start)
        try encode(range.upperBound, forKey: end)
    }
}
