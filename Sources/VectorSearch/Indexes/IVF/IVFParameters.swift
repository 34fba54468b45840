/// Build-time parameters of ``IVFIndex``: the number of lists and how the k-means that defines
/// them is trained. Defaults follow FAISS's `IndexIVFFlat` (10 iterations, at most 256 training
/// points per list), so the two build comparable indexes. Checked by the initialiser and again
/// by ``IVFIndex/init(dimension:metric:parameters:)``, so values set after `init` are too.
public struct IVFParameters: Sendable, Equatable, Codable {
    /// Number of inverted lists (k-means centroids); nil chooses about 4·√N for the N vectors
    /// given to ``IVFIndex/train(_:threads:progress:)``.
    public var nlist: Int?
    /// Train on a random sample of at most this many vectors (nil: all of them); never more
    /// than 256 per list.
    public var trainingSize: Int?
    /// Lloyd iterations of the k-means training.
    public var iterations: Int
    /// Seed of the training sample and the k-means start: same seed, same lists.
    public var seed: UInt64
    /// Compressed lists: product-quantization codes scanned instead of the vectors (nil: the
    /// lists scan float32 vectors, or the codes of the index's ``VectorStorage``). See ``IVFCodec``.
    public var codec: IVFCodec?

    public init(nlist: Int? = nil, trainingSize: Int? = nil, iterations: Int = 10, seed: UInt64 = 1234, codec: IVFCodec? = nil) throws {
        self.nlist = nlist
        self.trainingSize = trainingSize
        self.iterations = iterations
        self.seed = seed
        self.codec = codec
        try validate()
    }

    /// Throws ``VectorSearchError/invalidParameter(name:value:requirement:)`` for a value out of range.
    public func validate() throws {
        if let nlist { try ParameterCheck.atLeast(1, "IVF nlist", nlist) }
        if let trainingSize { try ParameterCheck.atLeast(1, "IVF training size", trainingSize) }
        try ParameterCheck.atLeast(1, "IVF iterations", iterations)
        try codec?.validate()
    }

    /// nlist chosen automatically, 10 iterations, seed 1234.
    public static let `default` = try! IVFParameters()

    /// The automatic nlist for `count` vectors: about 4·√count, at least 1, at most `count`.
    public static func defaultListCount(for count: Int) -> Int {
        min(max(1, Int((4 * Double(count).squareRoot()).rounded())), max(count, 1))
    }

    /// Points per list the k-means sample holds at most (FAISS's `max_points_per_centroid`).
    static let maxTrainingPointsPerList = 256
}

/// Query-time parameters of ``IVFIndex``, passed with each search and checked by it.
public struct IVFSearchParameters: IndexSearchParameters {
    /// Number of lists scanned per query, nearest centroids first; capped at nlist. Larger is
    /// slower and more accurate; nprobe = nlist is exact search. FAISS's default is 1.
    public var nprobe: Int
    /// With a filter: `.exact` scores every matching vector, `.index` scans the nearest lists
    /// (more until `k` matches are seen); nil lets the planner choose.
    public var filterStrategy: FilterPlan.Strategy?
    /// With quantized storage: the scan of the codes keeps `rerank × k` candidates, re-scored
    /// with the float32 vectors; 0 keeps the code scores. See ``SearchOptions/rerank``.
    public var rerank: Int

    public init(nprobe: Int = 8, filterStrategy: FilterPlan.Strategy? = nil, rerank: Int = SearchOptions.defaultRerank) throws {
        self.nprobe = nprobe
        self.filterStrategy = filterStrategy
        self.rerank = rerank
        try validate()
    }

    public init(_ options: SearchOptions) {
        nprobe = options.nprobe
        filterStrategy = options.filterStrategy
        rerank = options.rerank
    }

    public func validate() throws {
        try ParameterCheck.atLeast(1, "IVF nprobe", nprobe)
        try FilterPlan.validate(forced: filterStrategy)
        try ParameterCheck.rerank(rerank)
    }

    /// nprobe = 8.
    public static let `default` = try! IVFSearchParameters()
}
