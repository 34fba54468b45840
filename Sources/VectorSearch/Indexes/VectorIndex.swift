/// The operations every index kind shares: ``FlatIndex`` (exact), ``IVFIndex`` and ``HNSWIndex``.
///
/// Indexes are reference types and safe to share across threads: any number of searches may
/// run at once; `add` and `remove` wait for running searches and block new ones meanwhile.
/// Results are sorted best first; see ``Metric`` for what a score means.
public protocol VectorIndex: AnyObject, Sendable {
    /// Query-time knobs of this index kind, passed with each call (never stored in the index).
    associatedtype SearchParameters: IndexSearchParameters

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
    /// The `k` nearest neighbours of `query` (among those `filter` admits), best first (fewer
    /// if fewer match), with this kind's default parameters unless others are given.
    public func search(_ query: [Float], k: Int, parameters: SearchParameters = .default, filter: Filter? = nil) throws -> [Neighbor] {
        try ParameterCheck.atLeast(0, "k", k)
        let capacity = min(k, count)
        return try [Neighbor](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, initialized in
            initialized = try query.withUnsafeBufferPointer { q in
                try search(
                    q, k: capacity, parameters: parameters, filter: filter,
                    into: UnsafeMutableBufferPointer(rebasing: buffer[..<capacity]))
            }
        }
    }

    /// As ``search(_:k:parameters:filter:)``, with kind-independent settings.
    public func search(_ query: [Float], k: Int, options: SearchOptions, filter: Filter? = nil) throws -> [Neighbor] {
        try search(query, k: k, parameters: SearchParameters(options), filter: filter)
    }

    /// As ``search(batch:k:parameters:filter:threads:)``, with kind-independent settings.
    public func search(
        batch queries: VectorMatrix, k: Int, options: SearchOptions, filter: Filter? = nil, threads: Int? = nil
    ) throws -> SearchResults {
        try search(batch: queries, k: k, parameters: SearchParameters(options), filter: filter, threads: threads)
    }

    /// How a search with `filter` would run with these settings.
    public func plan(filter: Filter, options: SearchOptions) throws -> FilterPlan {
        try plan(filter: filter, parameters: SearchParameters(options))
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
