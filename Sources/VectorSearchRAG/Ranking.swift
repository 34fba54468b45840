import VectorSearch

/// Re-ranking steps of the retriever, usable on their own.
public enum Ranking {
    /// Maximal marginal relevance (Carbonell and Goldstein, 1998): picks up to `k` of
    /// `candidates`, each step the one that maximises
    /// λ · cos(query, c) − (1 − λ) · max over those picked of cos(c, p).
    /// λ = 1 keeps the relevance order; smaller λ trades relevance for diversity. Returns
    /// indices into `candidates` in the order picked; ties go to the earlier candidate.
    public static func maximalMarginalRelevance(
        query: [Float], candidates: [[Float]], k: Int, lambda: Double
    ) -> [Int] {
        let relevance = candidates.map { cosine(query, $0) }
        var redundancy = [Double](repeating: -.infinity, count: candidates.count)  // max cos to those picked
        var picked: [Int] = []
        var left = Array(candidates.indices)
        while picked.count < min(k, candidates.count) {
            var best = left[0], bestValue = -Double.infinity
            for i in left {
                let value = lambda * relevance[i] - (1 - lambda) * (picked.isEmpty ? 0 : redundancy[i])
                if value > bestValue { (best, bestValue) = (i, value) }
            }
            picked.append(best)
            left.removeAll { $0 == best }
            for i in left { redundancy[i] = max(redundancy[i], cosine(candidates[i], candidates[best])) }
        }
        return picked
    }

    /// Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009): each id scores
    /// Σ over rankings of 1 / (constant + rank), rank from 1; best first, ties by id.
    public static func reciprocalRankFusion(_ rankings: [[VectorID]], constant: Double = 60) -> [(id: VectorID, score: Double)] {
        var scores: [VectorID: Double] = [:]
        for ranking in rankings {
            for (rank, id) in ranking.enumerated() { scores[id, default: 0] += 1 / (constant + Double(rank + 1)) }
        }
        return scores.map { (id: $0.key, score: $0.value) }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
    }

    /// Cosine similarity in Double (0 when either vector is zero).
    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, aa = 0.0, bb = 0.0
        for i in 0..<min(a.count, b.count) {
            dot += Double(a[i]) * Double(b[i])
            aa += Double(a[i]) * Double(a[i])
            bb += Double(b[i]) * Double(b[i])
        }
        return aa > 0 && bb > 0 ? dot / (aa * bb).squareRoot() : 0
    }
}
