import Foundation
import VectorSearch

/// Documents in JSON Lines, as `rag ingest --documents` reads them (see ``Document``).
public enum DocumentFile {
    /// One line: the document and, when the line has `"embedding"`, the vector of its whole text.
    public struct Entry: Sendable {
        public var document: Document
        public var embedding: [Float]?

        public init(document: Document, embedding: [Float]? = nil) {
            self.document = document
            self.embedding = embedding
        }
    }

    /// Reads every non-blank line of `path`; errors name the line.
    public static func read(_ path: String) throws -> [Entry] {
        var entries: [Entry] = []
        var seen = Set<String>()
        try JSONLines.forEachObject(path) { line in
            let entry = try Self.entry(line)
            guard seen.insert(entry.document.id).inserted else { throw line.fail("document id \"\(entry.document.id)\" appears twice") }
            entries.append(entry)
        }
        return entries
    }

    /// `{"id": string or integer, "text": string, "metadata": {...} or other keys, "embedding": [numbers]}`
    /// (a line of a file, or an element of a request).
    package static func entry(_ line: JSONLines.Line) throws -> Entry {
        let id: String
        switch line["id"] {
        case .string(let s)?: id = s
        case .integer(let i)?: id = String(i)
        case nil: throw line.fail("\"id\" (a string or an integer) is missing")
        case let other?: throw line.fail("\"id\" must be a string or an integer, got \(other.description)")
        }
        guard case .string(let text)? = line["text"] else {
            throw line.fail(line["text"] == nil ? "\"text\" (a string) is missing" : "\"text\" must be a string")
        }
        let metadata: Attributes
        if let given = line["metadata"] {
            guard case .object(let members) = given else { throw line.fail("\"metadata\" must be an object") }
            metadata = try line.attributes(of: members)
        } else {
            metadata = try line.attributes { !["id", "text", "embedding"].contains($0) }
        }
        var embedding: [Float]?
        if let given = line["embedding"], given != .null {
            guard case .array(let items) = given else { throw line.fail("\"embedding\" must be an array of numbers") }
            embedding = try line.floats(items, name: "embedding")
        }
        return Entry(document: Document(id: id, text: text, metadata: metadata), embedding: embedding)
    }

    /// A decoding error in a sentence: what is wrong, and at which key.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).filter { !$0.isEmpty }
            return keys.isEmpty ? "" : " (at \(keys.joined(separator: ".")))"
        }
        switch error {
        case let .dataCorrupted(context):
            return (context.underlyingError.map { _ in "not valid JSON" } ?? context.debugDescription) + path(context)
        case let .keyNotFound(key, context): return "\"\(key.stringValue)\" is missing" + path(context)
        case let .typeMismatch(_, context), let .valueNotFound(_, context): return context.debugDescription + path(context)
        @unknown default: return "\(error)"
        }
    }
}
