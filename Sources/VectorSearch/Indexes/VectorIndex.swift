/// The operations every index kind shares: ``FlatIndex`` (exact), ``IVFIndex`` and ``HNSWIndex``.
///
/// Indexes are reference types and safe to share across threads: any number of searches may
/// run at once; `add` and `remove` wait for running searches and block new ones meanwhile.
/// Results are sorted best first; see ``Metric`` for what a score means.
public protocol VectorIndex: AnyObject, Sendable {
    /// Query-time knobs of this index kind, passed with each call (never stored in the index).
    associatedtype SearchParameters: Sendable

    /// Components per vector.
    var dimension: Int { get }
    /// How vectors are compared.
    var metric: Metric { get }
    /// Number of vectors held.
    var count: Int { get }

    /// Adds vectors with the given ids (one per row) and, optionally, metadata for filtered
    /// search (one ``Attributes`` per row, or none at all). Nothing is added if any row, id or
    /// attribute is refused (wrong dimension, NaN or infinity, zero vector under cosine,
    /// duplicate id, a field given a value of another type than it holds).
    func add(_ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes]) throws

    /// Removes the vectors with these ids; ids not in the index are ignored.
    /// Returns how many were removed.
    @discardableResult
    func remove(ids: [VectorID]) -> Int

    /// The metadata stored with `id` (empty if it has none), or nil if the id is not in the index.
    func attributes(for id: VectorID) -> Attributes?

    /// The stored vector for `id` (normalised under cosine), or nil if the id is not in the index.
    func vector(for id: VectorID) -> [Float]?

    /// Writes up to `k` nearest neighbours of `query` into `results`, best first, and returns
    /// their number. With a `filter`, only vectors whose attributes satisfy it are returned, and
    /// exactly `k` whenever at least `k` match; the filter is compiled once and cached until the
    /// index changes. Allocates nothing else; `results` must hold at least `k` elements.
    func search(
        _ query: UnsafeBufferPointer<Float>, k: Int, parameters: SearchParameters, filter: Filter?,
        into results: UnsafeMutableBufferPointer<Neighbor>
    ) throws -> Int

    /// Searches every row of `queries`, spreading the work over `threads` threads
    /// (nil: every core).
    func search(
        batch queries: VectorMatrix, k: Int, parameters: SearchParameters, filter: Filter?, threads: Int?
    ) throws -> SearchResults

    /// How a search with `filter` would run: the exact number of vectors it admits and the
    /// strategy the index picks for that many.
    func plan(filter: Filter, parameters: SearchParameters) throws -> FilterPlan

    /// Saves the index to `path` atomically (temporary file, fsync, rename).
    func save(to path: String) throws
}

extension VectorIndex {
    /// The `k` nearest neighbours of `query`, best first (fewer if fewer match).
    public func search(_ query: [Float], k: Int, parameters: SearchParameters, filter: Filter? = nil) throws -> [Neighbor] {
        guard k >= 0 else { throw VectorSearchError.invalidArgument("k must be non-negative, got \(k)") }
        let capacity = min(k, count)
        return try [Neighbor](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, initialized in
            initialized = try query.withUnsafeBufferPointer { q in
                try search(
                    q, k: capacity, parameters: parameters, filter: filter,
                    into: UnsafeMutableBufferPointer(rebasing: buffer[..<capacity]))
            }
        }
    }

    /// Adds vectors with the given ids, without metadata.
    public func add(_ vectors: VectorMatrix, ids: [VectorID]) throws {
        try add(vectors, ids: ids, attributes: [])
    }

    /// Adds one vector, with optional metadata.
    public func add(_ vector: [Float], id: VectorID, attributes: Attributes = [:]) throws {
        guard vector.count == dimension else {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: vector.count, row: 0)
        }
        try add(VectorMatrix(dimension: dimension, values: vector), ids: [id], attributes: attributes.isEmpty ? [] : [attributes])
    }
}

/// How an index runs a filtered search; see ``VectorIndex/plan(filter:parameters:)``.
public struct FilterPlan: Sendable, Equatable, CustomStringConvertible {
    public enum Strategy: String, Sendable {
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

    /// matchCount / count (1 for an empty index).
    public var selectivity: Double { count == 0 ? 1 : Double(matchCount) / Double(count) }

    public var description: String {
        "\(strategy.rawValue) (\(matchCount) of \(count) match, \((selectivity * 1000).rounded() / 10) %)"
    }
}

/// Checks vectors before they enter an index, so a refused batch leaves the index untouched.
enum VectorValidation {
    static func check(
        _ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes] = [], store: AttributeStore? = nil,
        dimension: Int, metric: Metric, contains: (VectorID) -> Bool
    ) throws {
        guard vectors.dimension == dimension else {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: vectors.dimension, row: nil)
        }
        guard ids.count == vectors.count else {
            throw VectorSearchError.invalidArgument("\(vectors.count) vectors but \(ids.count) ids")
        }
        guard attributes.isEmpty || attributes.count == vectors.count else {
            throw VectorSearchError.invalidArgument("\(vectors.count) vectors but \(attributes.count) attribute sets")
        }
        try store?.check(attributes)
        if let (row, column) = vectors.firstNonFinite() {
            throw VectorSearchError.nonFiniteValue(row: row, column: column)
        }
        var seen = Set<VectorID>(minimumCapacity: ids.count)
        for id in ids {
            guard !contains(id), seen.insert(id).inserted else { throw VectorSearchError.duplicateID(id) }
        }
        if metric == .cosine {
            try vectors.withUnsafeBufferPointer { values in
                for row in 0..<vectors.count {
                    let start = values.baseAddress! + row * dimension
                    if DistanceKernels.best.dot(start, start, dimension) == 0 { throw VectorSearchError.zeroVector(row: row) }
                }
            }
        }
    }

    /// Checks a batch of queries and its arguments before any search work starts.
    static func checkBatch(_ queries: VectorMatrix, dimension: Int, metric: Metric, k: Int, threads: Int?) throws {
        guard queries.dimension == dimension else {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: queries.dimension, row: nil)
        }
        guard k >= 0 else { throw VectorSearchError.invalidArgument("k must be non-negative, got \(k)") }
        if let threads, threads < 1 { throw VectorSearchError.invalidArgument("threads must be at least 1, got \(threads)") }
        if let (row, column) = queries.firstNonFinite() { throw VectorSearchError.nonFiniteValue(row: row, column: column) }
        if metric == .cosine {
            try queries.withUnsafeBufferPointer { q in
                for row in 0..<queries.count {
                    let start = q.baseAddress! + row * dimension
                    if DistanceKernels.best.dot(start, start, dimension) == 0 { throw VectorSearchError.zeroVector(row: row) }
                }
            }
        }
    }

    /// Checks one query and the caller's results buffer.
    static func checkQuery(
        _ query: UnsafeBufferPointer<Float>, dimension: Int, metric: Metric, k: Int, results: UnsafeMutableBufferPointer<Neighbor>
    ) throws {
        try checkQuery(query, dimension: dimension, metric: metric, k: k)
        guard results.count >= k else {
            throw VectorSearchError.invalidArgument("results buffer holds \(results.count), k is \(k)")
        }
    }

    static func checkQuery(_ query: UnsafeBufferPointer<Float>, dimension: Int, metric: Metric, k: Int) throws {
        guard k >= 0 else { throw VectorSearchError.invalidArgument("k must be non-negative, got \(k)") }
        guard query.count == dimension else {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: query.count, row: nil)
        }
        for i in 0..<query.count where !query[i].isFinite {
            throw VectorSearchError.nonFiniteValue(row: 0, column: i)
        }
        if metric == .cosine, DistanceKernels.best.dot(query.baseAddress!, query.baseAddress!, dimension) == 0 {
            throw VectorSearchError.zeroVector(row: nil)
        }
    }
}
