import Foundation

/// A retrieval metric at a cutoff: `ndcg@10`, `mrr@10`, `recall@100`, ...
///
/// The definitions are trec_eval's (pytrec_eval computes the same), for one query whose ranked
/// documents are `d₁, d₂, …` and whose judgments give each document a score (none: 0); a document
/// is relevant when its score is at least 1, and R is the number of relevant documents judged:
///
/// - `hit_rate@k` (trec_eval `success_k`): 1 when a relevant document is among the first k, else 0.
/// - `recall@k` (`recall_k`): relevant documents among the first k, over R.
/// - `precision@k` (`P_k`): relevant documents among the first k, over k (even when fewer came back).
/// - `mrr@k` (`recip_rank` of the first k): 1 / the rank of the first relevant document, 0 if
///   none is among the first k.
/// - `ndcg@k` (`ndcg_cut_k`): Σᵢ≤ₖ gain(scoreᵢ) / log₂(i + 1) over the same sum for the judged
///   documents sorted by score; gain is the score (linear, trec_eval's) or 2^score − 1
///   (exponential); documents with scores ≤ 0 add nothing.
/// - `map@k` (`map_cut_k`): Σ over relevant dᵢ, i ≤ k, of (relevant documents among the first i) / i, over R.
///
/// A query with no relevant document (R = 0) scores 0 on every metric and counts in the mean,
/// as in trec_eval.
public struct RetrievalMetric: Hashable, Sendable, CustomStringConvertible {
    public enum Measure: String, CaseIterable, Sendable {
        case hitRate = "hit_rate", recall, precision, mrr, ndcg, map
    }

    public var measure: Measure
    public var cutoff: Int

    public init(_ measure: Measure, at cutoff: Int) {
        self.measure = measure
        self.cutoff = cutoff
    }

    public var description: String { "\(measure.rawValue)@\(cutoff)" }

    /// Parses `ndcg@10`.
    public init?(_ text: String) {
        let parts = text.split(separator: "@")
        guard parts.count == 2, let measure = Measure(rawValue: String(parts[0])), let cutoff = Int(parts[1]), cutoff >= 1 else {
            return nil
        }
        self.init(measure, at: cutoff)
    }

    /// Every measure at every cutoff, in the order reports print them.
    public static func all(cutoffs: [Int]) -> [RetrievalMetric] {
        Measure.allCases.flatMap { measure in cutoffs.map { RetrievalMetric(measure, at: $0) } }
    }

    /// The default cutoffs: 1, 3, 5, 10 and 100.
    public static let defaultCutoffs = [1, 3, 5, 10, 100]
}

/// How a graded judgment score counts in nDCG.
public enum RelevanceGain: String, Sendable, CaseIterable {
    /// The score itself (trec_eval's `ndcg_cut`).
    case linear
    /// 2^score − 1 (the gain Burges et al. use; weighs highly relevant documents more).
    case exponential

    func value(_ score: Int) -> Double {
        guard score > 0 else { return 0 }
        return switch self {
        case .linear: Double(score)
        case .exponential: pow(2, Double(score)) - 1
        }
    }
}

extension RetrievalMetric {
    /// The value of each of `metrics` for one query: `ranking` holds document ids best first (a
    /// document named again is ignored after its first rank), `judgments` the query's scores.
    public static func values(
        _ metrics: [RetrievalMetric], ranking: [String], judgments: [String: Int], gain: RelevanceGain = .linear
    ) -> [Double] {
        var seen = Set<String>()
        let scores = ranking.filter { seen.insert($0).inserted }.map { judgments[$0] ?? 0 }
        let relevantCount = judgments.values.count { $0 >= 1 }
        let ideal = judgments.values.filter { $0 > 0 }.sorted(by: >)
        return metrics.map { metric in
            guard relevantCount > 0 else { return 0 }
            let k = metric.cutoff
            let top = scores.prefix(k)
            switch metric.measure {
            case .hitRate:
                return top.contains { $0 >= 1 } ? 1 : 0
            case .recall:
                return Double(top.count { $0 >= 1 }) / Double(relevantCount)
            case .precision:
                return Double(top.count { $0 >= 1 }) / Double(k)
            case .mrr:
                return top.firstIndex { $0 >= 1 }.map { 1 / Double($0 + 1) } ?? 0
            case .ndcg:
                let best = discountedGain(ideal.prefix(k), gain)
                return best > 0 ? discountedGain(top, gain) / best : 0
            case .map:
                var found = 0
                var sum = 0.0
                for (i, score) in top.enumerated() where score >= 1 {
                    found += 1
                    sum += Double(found) / Double(i + 1)
                }
                return sum / Double(relevantCount)
            }
        }
    }

    private static func discountedGain(_ scores: some Collection<Int>, _ gain: RelevanceGain) -> Double {
        var sum = 0.0
        for (i, score) in scores.enumerated() where score > 0 { sum += gain.value(score) / log2(Double(i + 2)) }
        return sum
    }
}
