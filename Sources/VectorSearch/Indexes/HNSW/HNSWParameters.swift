/// Build-time parameters of ``HNSWIndex``, saved with the index.
public struct HNSWParameters: Sendable, Equatable {
    /// Links per node on the upper levels (*M* in Malkov & Yashunin); level 0 keeps 2·M.
    /// hnswlib, FAISS and USearch default to 16 (USearch calls it connectivity).
    public var m: Int
    /// Candidate list size while inserting (*efConstruction*); hnswlib's default is 200, FAISS's 40.
    public var efConstruction: Int
    /// Seed of the random level assignment: the same seed and insertion order give the same levels.
    public var seed: UInt64
    /// Whether a node whose neighbour heuristic pruned candidates fills its free links with the
    /// closest pruned ones (*keepPrunedConnections* in the paper's algorithm 4). Off by default, as
    /// in hnswlib and FAISS: on 50k × 384 sentence embeddings it gave the same queries/s at recall
    /// 0.95 and a 16 % slower build (BENCHMARKS.md).
    public var keepPrunedConnections: Bool

    public init(m: Int = 16, efConstruction: Int = 200, seed: UInt64 = 42, keepPrunedConnections: Bool = false) throws {
        guard (2...256).contains(m) else { throw VectorSearchError.invalidArgument("HNSW m must be between 2 and 256, got \(m)") }
        guard efConstruction >= 1 else {
            throw VectorSearchError.invalidArgument("HNSW efConstruction must be at least 1, got \(efConstruction)")
        }
        self.m = m
        self.efConstruction = efConstruction
        self.seed = seed
        self.keepPrunedConnections = keepPrunedConnections
    }

    /// M = 16, efConstruction = 200, seed 42, pruned connections not kept.
    public static let `default` = try! HNSWParameters()
}

/// Query-time parameters of ``HNSWIndex``, passed with each search.
public struct HNSWSearchParameters: Sendable, Equatable {
    /// Candidate list size of the search (*ef*); raised to k when smaller. Larger is slower and
    /// more accurate. hnswlib's default is 10, FAISS's 16, USearch's 64 (its expansion_search).
    public var ef: Int
    /// With a filter: `.exact` or `.index` overrides the planner's choice (for measuring it);
    /// nil lets the planner choose.
    public var filterStrategy: FilterPlan.Strategy?

    public init(ef: Int = 64, filterStrategy: FilterPlan.Strategy? = nil) throws {
        guard ef >= 1 else { throw VectorSearchError.invalidArgument("HNSW ef must be at least 1, got \(ef)") }
        self.ef = ef
        self.filterStrategy = filterStrategy
    }

    /// ef = 64.
    public static let `default` = try! HNSWSearchParameters()
}
