import Foundation
import VectorSearch

/// Okapi BM25 keyword scoring over chunk texts, for hybrid search.
///
/// score(q, d) = Σ over distinct query terms t in d of
/// idf(t) · tf · (k1 + 1) / (tf + k1 · (1 − b + b · |d| / avgdl)), with Lucene's
/// idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5)). Terms are maximal runs of letters and digits,
/// lower-cased.
public struct BM25Index: Sendable {
    /// Term-frequency saturation (Lucene's default 1.2).
    public var k1: Double = 1.2
    /// Length normalisation (Lucene's default 0.75).
    public var b: Double = 0.75

    private var termCounts: [VectorID: [String: Int]] = [:]
    private var lengths: [VectorID: Int] = [:]
    private var postings: [String: Set<VectorID>] = [:]
    private var totalLength = 0

    public init() {}

    /// Texts indexed.
    public var count: Int { lengths.count }

    /// Indexes `text` under `id`, replacing what `id` had.
    public mutating func add(id: VectorID, text: String) {
        remove(id: id)
        let terms = Self.terms(text)
        var counts: [String: Int] = [:]
        for term in terms { counts[term, default: 0] += 1 }
        for term in counts.keys { postings[term, default: []].insert(id) }
        termCounts[id] = counts
        lengths[id] = terms.count
        totalLength += terms.count
    }

    public mutating func remove(id: VectorID) {
        guard let counts = termCounts.removeValue(forKey: id) else { return }
        for term in counts.keys {
            postings[term]?.remove(id)
            if postings[term]?.isEmpty == true { postings[term] = nil }
        }
        totalLength -= lengths.removeValue(forKey: id) ?? 0
    }

    /// The BM25 score of `query` for the text under `id` (0 when no term is shared).
    public func score(_ query: String, id: VectorID) -> Double {
        score(terms: Set(Self.terms(query)), id: id)
    }

    /// Up to `k` texts with a positive score, best first (ties by id), among those `isAllowed` admits.
    public func search(_ query: String, k: Int, isAllowed: (VectorID) -> Bool = { _ in true }) -> [(id: VectorID, score: Double)] {
        let terms = Set(Self.terms(query))
        var candidates = Set<VectorID>()
        for term in terms { candidates.formUnion(postings[term] ?? []) }
        var scored: [(id: VectorID, score: Double)] = []
        for id in candidates where isAllowed(id) { scored.append((id, score(terms: terms, id: id))) }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
        return Array(scored.prefix(k))
    }

    private func score(terms: Set<String>, id: VectorID) -> Double {
        guard let counts = termCounts[id], let length = lengths[id] else { return 0 }
        let n = Double(lengths.count)
        let averageLength = Double(totalLength) / n
        var total = 0.0
        for term in terms {
            guard let tf = counts[term].map(Double.init), let df = postings[term]?.count else { continue }
            let idf = log(1 + (n - Double(df) + 0.5) / (Double(df) + 0.5))
            let norm = averageLength > 0 ? Double(length) / averageLength : 0
            total += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * norm))
        }
        return total
    }

    /// Lower-cased runs of letters and digits.
    public static func terms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                terms.append(current)
                current = ""
            }
        }
        if !current.isEmpty { terms.append(current) }
        return terms
    }
}
