/// One search result: the vector's id and its score (see ``Metric`` for what the score means).
public struct Neighbor: Hashable, Sendable, CustomStringConvertible {
    public var id: VectorID
    public var score: Float

    public init(id: VectorID, score: Float) {
        self.id = id
        self.score = score
    }

    public var description: String { "\(id):\(score)" }
}

/// Results of a batch search: for each query, its neighbours sorted best first.
///
/// Stored as one flat buffer of `k` slots per query, so a batch costs one allocation.
public struct SearchResults: RandomAccessCollection, Sendable {
    /// The `k` the search was asked for.
    public let k: Int
    @usableFromInline var slots: [Neighbor]
    @usableFromInline var counts: [Int]

    init(k: Int, queryCount: Int) {
        self.k = k
        slots = [Neighbor](repeating: Neighbor(id: 0, score: 0), count: k * queryCount)
        counts = [Int](repeating: 0, count: queryCount)
    }

    /// Results of `queryCount` queries filled by `fill(queries, slots, counts)`: query `i` writes
    /// its candidates at `slots + i*k`, published, and their number at `counts[i]`.
    init(
        k: Int, queries: VectorMatrix,
        fill: (UnsafePointer<Float>, UnsafeMutablePointer<Scored>, UnsafeMutablePointer<Int>) -> Void
    ) {
        self.init(k: k, queryCount: queries.count)
        queries.withUnsafeBufferPointer { q in
            slots.withUnsafeMutableBufferPointer { s in
                counts.withUnsafeMutableBufferPointer { c in
                    if let query = q.baseAddress, let slot = s.baseAddress, let count = c.baseAddress {
                        slot.asCandidates(capacity: s.count) { fill(query, $0, count) }
                    }
                }
            }
        }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { counts.count }

    /// Neighbours of query `query`, best first (fewer than `k` when the index holds fewer).
    public subscript(query: Int) -> ArraySlice<Neighbor> {
        let start = query * k
        return slots[start..<(start + counts[query])]
    }
}

extension Neighbor {
    /// The `k` best of several result lists (each from one shard of a split index), by score
    /// under `metric` (see ``Metric/higherIsCloser``), ties to the smaller id, each id once (its
    /// best score). When every list holds its shard's exact top `k`, the merge is the exact top
    /// `k` of the whole.
    public static func merge(_ lists: [[Neighbor]], k: Int, metric: Metric) -> [Neighbor] {
        guard k > 0 else { return [] }
        let higher = metric.higherIsCloser
        var all = lists.flatMap { $0 }
        all.sort { a, b in
            if a.score != b.score { return higher ? a.score > b.score : a.score < b.score }
            return a.id < b.id
        }
        var seen = Set<VectorID>()
        var merged: [Neighbor] = []
        merged.reserveCapacity(min(k, all.count))
        for neighbor in all where merged.count < k && seen.insert(neighbor.id).inserted {
            merged.append(neighbor)
        }
        return merged
    }
}
