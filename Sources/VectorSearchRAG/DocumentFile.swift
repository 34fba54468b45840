import Foundation
import VectorSearch

/// Documents in JSON Lines, as `rag ingest --documents` reads them (see ``Document``).
public enum DocumentFile {
    /// One line: the document and, when the line has `"embedding"`, the vector of its whole text.
    public struct Entry: Sendable {
        public var document: Document
        public var embedding: [Float]?
    }

    /// Reads every non-blank line of `path`; errors name the line.
    public static func read(_ path: String) throws -> [Entry] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw VectorSearchError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        var entries: [Entry] = []
        let decoder = JSONDecoder()
        var seen = Set<String>()
        for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D) }) else { continue }
            func fail(_ reason: String) -> VectorSearchError {
                .malformedFile(path: path, row: entries.count, byteOffset: nil, reason: "line \(number + 1): \(reason)")
            }
            let entry: Entry
            do {
                entry = try decoder.decode(Line.self, from: Data(line)).entry
            } catch let error as DecodingError {
                throw fail(Self.describe(error))
            } catch {
                throw fail("\(error)")
            }
            guard seen.insert(entry.document.id).inserted else { throw fail("document id \"\(entry.document.id)\" appears twice") }
            entries.append(entry)
        }
        return entries
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct Line: Decodable {
        var entry: Entry

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            let idKey = Key(stringValue: "id"), textKey = Key(stringValue: "text")
            let id: String
            if let number = try? c.decode(Int64.self, forKey: idKey) {
                id = String(number)
            } else if let string = try? c.decode(String.self, forKey: idKey) {
                id = string
            } else {
                throw DecodingError.dataCorruptedError(forKey: idKey, in: c, debugDescription: "\"id\" (a string or an integer) is missing")
            }
            guard let text = try c.decodeIfPresent(String.self, forKey: textKey) else {
                throw DecodingError.dataCorruptedError(forKey: textKey, in: c, debugDescription: "\"text\" (a string) is missing")
            }
            var metadata: Attributes = [:]
            let metadataKey = Key(stringValue: "metadata")
            if c.contains(metadataKey) {
                metadata = try c.decode([String: AttributeValue?].self, forKey: metadataKey).compactMapValues { $0 }
            } else {
                for key in c.allKeys where !["id", "text", "embedding"].contains(key.stringValue) {
                    if let value = try c.decode(AttributeValue?.self, forKey: key) { metadata[key.stringValue] = value }
                }
            }
            let embedding = try c.decodeIfPresent([Float].self, forKey: Key(stringValue: "embedding"))
            entry = Entry(document: Document(id: id, text: text, metadata: metadata), embedding: embedding)
        }
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
