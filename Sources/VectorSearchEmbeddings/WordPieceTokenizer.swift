import Foundation
import VectorSearch

/// BERT's WordPiece tokenizer, giving the ids Hugging Face `tokenizers` gives for the same
/// vocabulary (BertNormalizer, BertPreTokenizer, WordPiece, then `[CLS]` … `[SEP]`).
///
/// The steps, as `tokenizers` runs them: special tokens (`[MASK]`, …) written in the text are
/// kept whole; the rest is cleaned (control characters and U+FFFD dropped, whitespace made a
/// space), CJK ideographs get spaces around them, accents are stripped (NFD, then non-spacing
/// marks dropped) and letters lower-cased, one scalar at a time; words split at whitespace and
/// at every punctuation character; each word becomes its greedy longest-match-first pieces,
/// continuations prefixed `##`, or `[UNK]` when a piece has no match or the word is longer
/// than `maxCharactersPerWord`.
public struct WordPieceTokenizer: Sendable {
    public let lowercase: Bool
    public let stripAccents: Bool
    public let maxCharactersPerWord: Int
    public let clsID: Int32
    public let sepID: Int32
    public let padID: Int32
    public let unknownID: Int32
    /// Number of entries in the vocabulary (ids are 0..<vocabularySize).
    public var vocabularySize: Int { vocabulary.count }

    private let vocabulary: [[UInt8]: Int32]  // keyed by UTF-8 bytes: String keys would merge canonically equal entries
    private let specialTokens: [(text: [Unicode.Scalar], id: Int32)]

    /// Reads `vocab.txt` (one token per line; the line number is the id).
    public init(
        vocabularyFile path: String, lowercase: Bool = true, stripAccents: Bool? = nil,
        maxCharactersPerWord: Int = 100, specialTokens: [String] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        unknownToken: String = "[UNK]", clsToken: String = "[CLS]", sepToken: String = "[SEP]", padToken: String = "[PAD]"
    ) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw EmbeddingModelError.missingFile(path: path) }
        let data: [UInt8]
        do { data = try RegularFile.readAll(path) } catch let VectorSearchError.io(_, reason) {
            throw EmbeddingModelError.unreadable(path: path, reason: reason)
        }
        var vocabulary: [[UInt8]: Int32] = [:]
        var id: Int32 = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var token = Array(line)
            if token.last == UInt8(ascii: "\r") { token.removeLast() }
            if vocabulary[token] == nil { vocabulary[token] = id }  // the first occurrence wins, as in tokenizers
            id += 1
        }
        if data.last == UInt8(ascii: "\n") { vocabulary.removeValue(forKey: []) }
        func lookup(_ token: String) throws -> Int32 {
            guard let id = vocabulary[Array(token.utf8)] else {
                throw EmbeddingModelError.malformed(path: path, reason: "the vocabulary has no \(token) token")
            }
            return id
        }
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.stripAccents = stripAccents ?? lowercase
        self.maxCharactersPerWord = maxCharactersPerWord
        self.clsID = try lookup(clsToken)
        self.sepID = try lookup(sepToken)
        self.padID = try lookup(padToken)
        self.unknownID = try lookup(unknownToken)
        self.specialTokens = try specialTokens.map { (Array($0.unicodeScalars), try lookup($0)) }
            .sorted { $0.text.count > $1.text.count }  // longest first where two start at one place
    }

    /// The ids of `text`: `[CLS]`, its pieces, `[SEP]`, at most `maxLength` in all (pieces past
    /// `maxLength − 2` are dropped).
    public func encode(_ text: String, maxLength: Int = .max) -> [Int32] {
        var ids: [Int32] = [clsID]
        let limit = max(maxLength, 2) - 1
        let scalars = Array(text.unicodeScalars)
        var segmentStart = 0, i = 0
        while i < scalars.count && ids.count < limit {
            if scalars[i] == "[", let special = specialTokens.first(where: { scalars.hasPrefix($0.text, at: i) }) {
                appendPieces(of: scalars[segmentStart..<i], to: &ids, limit: limit)
                if ids.count < limit { ids.append(special.id) }
                i += special.text.count
                segmentStart = i
            } else {
                i += 1
            }
        }
        if ids.count < limit { appendPieces(of: scalars[segmentStart..<scalars.count], to: &ids, limit: limit) }
        ids.append(sepID)
        return ids
    }

    /// The tokens of `text` as strings (no `[CLS]`/`[SEP]`), for inspection.
    public func tokens(_ text: String) -> [String] {
        let inverse = Dictionary(vocabulary.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        return encode(text).dropFirst().dropLast().map { String(decoding: inverse[$0] ?? [], as: UTF8.self) }
    }

    private func appendPieces(of segment: ArraySlice<Unicode.Scalar>, to ids: inout [Int32], limit: Int) {
        guard !segment.isEmpty else { return }
        var word: [Unicode.Scalar] = []
        func flush() {
            if !word.isEmpty && ids.count < limit { appendWordPieces(word, to: &ids, limit: limit) }
            word.removeAll(keepingCapacity: true)
        }
        for scalar in normalize(segment) {
            if Self.isWhitespace(scalar) {
                flush()
            } else if Self.isPunctuation(scalar) {
                flush()
                word.append(scalar)
                flush()
            } else {
                word.append(scalar)
            }
        }
        flush()
    }

    /// BertNormalizer: clean, space out CJK, strip accents, lower-case.
    private func normalize(_ segment: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var cleaned = String.UnicodeScalarView()
        for scalar in segment {
            if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
            if Self.isWhitespace(scalar) {
                cleaned.append(" ")
            } else if Self.isCJK(scalar) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        var scalars: [Unicode.Scalar]
        if stripAccents {
            scalars = String(cleaned).decomposedStringWithCanonicalMapping.unicodeScalars
                .filter { $0.properties.generalCategory != .nonspacingMark }
        } else {
            scalars = Array(cleaned)
        }
        if lowercase {
            scalars = scalars.flatMap { scalar -> [Unicode.Scalar] in
                scalar.properties.changesWhenLowercased ? Array(scalar.properties.lowercaseMapping.unicodeScalars) : [scalar]
            }
        }
        return scalars
    }

    private func appendWordPieces(_ word: [Unicode.Scalar], to ids: inout [Int32], limit: Int) {
        guard word.count <= maxCharactersPerWord else {
            ids.append(unknownID)
            return
        }
        // The word's UTF-8 once, with where each scalar starts: each candidate piece is then one
        // slice copy, not a re-encoding (longest match first tries O(n²) pieces per word).
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        offsets.reserveCapacity(word.count + 1)
        for scalar in word {
            offsets.append(bytes.count)
            UTF8.encode(scalar) { bytes.append($0) }
        }
        offsets.append(bytes.count)
        var pieces: [Int32] = []
        var key: [UInt8] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32?
            while end > start {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key += [UInt8(ascii: "#"), UInt8(ascii: "#")] }
                key += bytes[offsets[start]..<offsets[end]]
                if let id = vocabulary[key] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                ids.append(unknownID)  // one unmatchable piece makes the whole word unknown
                return
            }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces.prefix(limit - ids.count))
    }

    // Character classes as `tokenizers` defines them (Rust's char methods).

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII, let byte = UInt8(exactly: s.value) {
            if (33...47).contains(byte) || (58...64).contains(byte) || (91...96).contains(byte) || (123...126).contains(byte) {
                return true
            }
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
            0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }
}

extension Array where Element == Unicode.Scalar {
    fileprivate func hasPrefix(_ prefix: [Unicode.Scalar], at start: Int) -> Bool {
        guard start + prefix.count <= count else { return false }
        return prefix.indices.allSatisfy { self[start + $0] == prefix[$0] }
    }
}
