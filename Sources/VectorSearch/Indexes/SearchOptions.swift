/// Query-time parameters of one index kind (``FlatSearchParameters``, ``IVFSearchParameters``,
/// ``HNSWSearchParameters``): passed with each search, never stored in the index, so
/// concurrent searches can use different values.
public protocol IndexSearchParameters: Sendable, Equatable {
    /// What a search uses when no parameters are given.
    static var `default`: Self { get }
    /// This kind's parameters taken from the kind-independent ``SearchOptions`` (settings that
    /// other kinds use are ignored). Not checked here: every search checks the values it uses.
    init(_ options: SearchOptions)
    /// Throws ``VectorSearchError/invalidParameter(name:value:requirement:)`` for a value out of
    /// range. Every search calls it, so a value set after `init` is checked too.
    func validate() throws
}

/// Search settings for an index of any kind: each kind takes the settings it uses and ignores
/// the others, so one value configures searches over flat, IVF and HNSW indexes alike (the
/// command line, ``AnyIndex`` and the RAG layer pass it through unchanged).
///
/// ```swift
/// let index = try AnyIndex.load(from: "vectors.vsidx")
/// let hits = try index.search(query, k: 10, options: SearchOptions(ef: 128, nprobe: 32))
/// ```
///
/// Values are checked when a search uses them: an `ef` or `nprobe` below 1 is refused by the
/// search with ``VectorSearchError/invalidParameter(name:value:requirement:)``.
public struct SearchOptions: Sendable, Equatable {
    /// HNSW: candidate list size (*ef*), raised to k when smaller. See ``HNSWSearchParameters/ef``.
    public var ef: Int
    /// IVF: lists scanned per query. See ``IVFSearchParameters/nprobe``.
    public var nprobe: Int
    /// With a filter: `.exact` forces the exact scan of the matching vectors, `.index` the
    /// index's own structure (HNSW's filtered graph walk, IVF's filtered list scan); nil lets
    /// the planner choose (``FilterPlan``). A flat index always scans exactly.
    public var filterStrategy: FilterPlan.Strategy?
    /// Indexes on codes (quantized ``VectorStorage``): the search on codes keeps `rerank × k`
    /// candidates and re-scores them with the float32 vectors, so results carry exact scores;
    /// 0 keeps the code scores. The default, 1, re-scores the k found; 2–4 recovers most of what
    /// the codes lose. Ignored for float32 storage. At most 1,000.
    public var rerank: Int

    public init(
        ef: Int = HNSWSearchParameters.default.ef, nprobe: Int = IVFSearchParameters.default.nprobe,
        filterStrategy: FilterPlan.Strategy? = nil, rerank: Int = SearchOptions.defaultRerank
    ) {
        self.ef = ef
        self.nprobe = nprobe
        self.filterStrategy = filterStrategy
        self.rerank = rerank
    }

    /// The default ``rerank``: re-score the k found (a constant of its own, so the kinds'
    /// parameter defaults can name it without initialising ``default``, which names theirs).
    public static let defaultRerank = 1

    /// Every kind's default settings.
    public static let `default` = SearchOptions()
}
