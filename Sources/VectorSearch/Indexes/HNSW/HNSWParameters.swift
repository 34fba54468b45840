/// Build-time parameters of ``HNSWIndex``, saved with the index. Checked by the initialiser and
/// again by ``HNSWIndex/init(dimension:metric:parameters:)``, so values set after `init` are too.
public struct HNSWParameters: Sendable, Equatable, Codable {
    /// Links per node on the upper levels (*M* in Malkov & Yashunin); level 0 keeps 2·M.
    /// hnswlib, FAISS and USearch default to 16 (USearch calls it connectivity). 2 to 256.
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
        self.m = m
        self.efConstruction = efConstruction
        self.seed = seed
        self.keepPrunedConnections = keepPrunedConnections
        try validate()
    }

    /// M = 16, efConstruction = 200, seed 42, pruned connections not kept.
    public static let `default` = try! HNSWParameters()

    /// Throws ``VectorSearchError/invalidParameter(name:value:requirement:)`` for a value out of range.
    public func validate() throws {
        try ParameterCheck.within(2...256, "HNSW m", m)
        try ParameterCheck.atLeast(1, "HNSW efConstruction", efConstruction)
    }
}

/// Query-time parameters of ``HNSWIndex``, passed with each search and checked by it.
public struct HNSWSearchParameters: IndexSearchParameters {
    /// Candidate list size of the search (*ef*); raised to k when smaller. Larger is slower and
    /// more accurate. hnswlib's default is 10, FAISS's 16, USearch's 64 (its expansion_search).
    public var ef: Int
    /// With a filter: `.exact` or `.index` overrides the planner's choice; nil lets the
    /// planner choose.
    public var filterStrategy: FilterPlan.Strategy?
    /// With quantized storage: the walk on codes keeps `rerank × k` candidates (ef is raised to
    /// that), re-scored with the float32 vectors; 0 keeps the code scores. See ``SearchOptions/rerank``.
    public var rerank: Int

    public init(ef: Int = 64, filterStrategy: FilterPlan.Strategy? = nil, rerank: Int = SearchOptions.defaultRerank) throws {
        self.ef = ef
        self.filterStrategy = filterStrategy
        self.rerank = rerank
        try validate()
    }

    public init(_ options: SearchOptions) {
        ef = options.ef
        filterStrategy = options.filterStrategy
        rerank = options.rerank
    }

    /// ef = 64.
    public static let `default` = try! HNSWSearchParameters()

    public func validate() throws {
        try ParameterCheck.atLeast(1, "HNSW ef", ef)
        try FilterPlan.validate(forced: filterStrategy)
        try ParameterCheck.rerank(rerank)
    }
}
