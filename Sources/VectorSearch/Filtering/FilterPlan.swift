/// How an index runs a filtered search; see ``VectorIndex/plan(filter:parameters:)``.
public struct FilterPlan: Sendable, Equatable, CustomStringConvertible {
    public enum Strategy: String, Sendable, CaseIterable {
        /// Every vector matches: the plain search.
        case unfiltered
        /// Few match: an exact scan of the matching vectors only (exact results).
        case exact
        /// The index's own structure, admitting only matching vectors: HNSW walks the whole
        /// graph (and turns to the exact scan once it has compared more vectors than match);
        /// IVF scans its nearest lists, and further ones until `k` matches are seen.
        case index
    }

    /// Vectors the filter admits.
    public var matchCount: Int
    /// Vectors in the index.
    public var count: Int
    public var strategy: Strategy

    public init(matchCount: Int, count: Int, strategy: Strategy) {
        self.matchCount = matchCount
        self.count = count
        self.strategy = strategy
    }

    /// matchCount / count (1 for an empty index).
    public var selectivity: Double { count == 0 ? 1 : Double(matchCount) / Double(count) }

    public var description: String {
        "\(strategy.rawValue) (\(matchCount) of \(count) match, \((selectivity * 1000).rounded() / 10) %)"
    }

    /// The plan every index kind follows: unfiltered when every vector matches; else the
    /// strategy the caller forced, if any; else the exact scan when the kind's cost model says
    /// it is cheaper, else the index's structure.
    static func choose(matches: Int, count: Int, forced: Strategy?, exactIsCheaper: Bool) -> FilterPlan {
        let strategy: Strategy = matches == count ? .unfiltered : forced ?? (exactIsCheaper ? .exact : .index)
        return FilterPlan(matchCount: matches, count: count, strategy: strategy)
    }

    /// Checks a forced strategy: only `.exact` and `.index` can be forced (nil: the planner picks).
    static func validate(forced: Strategy?) throws {
        if forced == .unfiltered {
            throw VectorSearchError.invalidParameter(
                name: "filter strategy", value: "unfiltered", requirement: "exact or index (or none, to let the planner choose)")
        }
    }
}
