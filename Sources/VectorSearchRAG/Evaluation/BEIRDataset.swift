import Foundation
import VectorSearch

/// Labelled retrieval data in the BEIR layout: `corpus.jsonl` (`_id`, `title`, `text`,
/// `metadata`), `queries.jsonl` (`_id`, `text`) and `qrels/<split>.tsv` (`query-id`, `corpus-id`,
/// `score`, after a header line). Every reader names the file and line of what it refuses.
public enum BEIRDataset {
    /// One query: its id, its text and, when the line has an `"embedding"` key, its vector
    /// (used instead of embedding the text).
    public struct Query: Sendable, Hashable {
        public var id: String
        public var text: String
        public var embedding: [Float]?

        public init(id: String, text: String, embedding: [Float]? = nil) {
            self.id = id
            self.text = text
            self.embedding = embedding
        }
    }

    /// The corpus as documents: the title and the text joined by a line break (the title is part
    /// of what is embedded and searched, as BEIR's evaluations do), `metadata` kept for filters.
    public static func readCorpus(_ path: String) throws -> [Document] {
        var documents: [Document] = []
        var seen: [String: Int] = [:]
        try JSONLines.forEachObject(path) { line in
            let id = try identifier(line, "_id")
            if let first = seen.updateValue(line.number, forKey: id) { throw line.fail("document id \"\(id)\" is also on line \(first)") }
            let title = try optionalString(line, "title") ?? ""
            let text = try optionalString(line, "text") ?? ""
            guard !(title + text).isEmpty else { throw line.fail("document \"\(id)\" has neither title nor text") }
            var metadata: Attributes = [:]
            if let value = line["metadata"] {
                guard case .object(let members) = value else { throw line.fail("\"metadata\" is not a JSON object") }
                metadata = try line.attributes(of: members)
            }
            documents.append(Document(id: id, text: title.isEmpty ? text : text.isEmpty ? title : title + "\n" + text, metadata: metadata))
        }
        return documents
    }

    /// The queries of `path`, in file order.
    public static func readQueries(_ path: String) throws -> [Query] {
        var queries: [Query] = []
        var seen: [String: Int] = [:]
        try JSONLines.forEachObject(path) { line in
            let id = try identifier(line, "_id")
            if let first = seen.updateValue(line.number, forKey: id) { throw line.fail("query id \"\(id)\" is also on line \(first)") }
            guard let text = try optionalString(line, "text"), !text.isEmpty else { throw line.fail("query \"\(id)\" has no \"text\"") }
            var embedding: [Float]?
            if let value = line["embedding"] {
                guard let items = value.array, !items.isEmpty else { throw line.fail("\"embedding\" is not a non-empty array of numbers") }
                embedding = try line.floats(items, name: "embedding")
            }
            queries.append(Query(id: id, text: text, embedding: embedding))
        }
        return queries
    }

    /// Relevance judgments from a qrels file: a header line, then `query-id`, `corpus-id` and an
    /// integer `score` separated by tabs. Refused: a row naming a query or document not in
    /// `queries` / `documents` (when given), a pair judged twice, a score that is not an integer.
    public static func readQrels(_ path: String, queries: Set<String>? = nil, documents: Set<String>? = nil) throws -> RelevanceJudgments {
        guard let text = String(validating: try RegularFile.readAll(path), as: UTF8.self) else {
            throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "not UTF-8 text")
        }
        var judgments: [String: [String: Int]] = [:]
        var firstLine: [String: Int] = [:]
        // "\r\n" is one Character, a newline like "\n".
        for (offset, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = offset + 1
            func fail(_ reason: String) -> VectorSearchError {
                .malformedFile(path: path, row: nil, byteOffset: nil, reason: "line \(number): \(reason)")
            }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if number == 1, fields.first == "query-id" { continue }
            guard fields.count == 3 else { throw fail("expected 3 tab-separated fields (query-id, corpus-id, score), found \(fields.count)") }
            let (query, document) = (fields[0], fields[1])
            guard !query.isEmpty, !document.isEmpty else { throw fail("empty query-id or corpus-id") }
            guard let score = Int(fields[2]) else { throw fail("score \"\(fields[2])\" is not an integer") }
            if let queries, !queries.contains(query) { throw fail("query \"\(query)\" is not among the queries") }
            if let documents, !documents.contains(document) { throw fail("document \"\(document)\" is not in the corpus") }
            if let first = firstLine.updateValue(number, forKey: query + "\t" + document) {
                throw fail("query \"\(query)\" and document \"\(document)\" are also judged on line \(first)")
            }
            judgments[query, default: [:]][document] = score
        }
        return RelevanceJudgments(judgments)
    }

    private static func identifier(_ line: JSONLines.Line, _ key: String) throws -> String {
        switch line[key] {
        case .string(let s)? where !s.isEmpty: return s
        case .integer(let i)?: return String(i)
        case nil: throw line.fail("no \"\(key)\"")
        case let value?: throw line.fail("\"\(key)\" is not a non-empty string or an integer: \(value.description)")
        }
    }

    private static func optionalString(_ line: JSONLines.Line, _ key: String) throws -> String? {
        switch line[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let value?: throw line.fail("\"\(key)\" is not a string: \(value.description)")
        }
    }
}

/// Which documents are relevant to which queries, with graded scores (a score ≥ 1 is relevant,
/// as trec_eval's default relevance level; 0 or less is judged not relevant).
public struct RelevanceJudgments: Sendable, Hashable {
    /// query id → document id → score.
    public var judgments: [String: [String: Int]]

    public init(_ judgments: [String: [String: Int]]) { self.judgments = judgments }

    /// The judged queries, sorted.
    public var queryIDs: [String] { judgments.keys.sorted() }
}
