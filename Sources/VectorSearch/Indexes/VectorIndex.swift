/// The operations every index kind shares: flat (exact) now, IVF and HNSW in later releases.
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

    /// Adds vectors with the given ids (one per row). Nothing is added if any row or id is
    /// refused (wrong dimension, NaN or infinity, zero vector under cosine, duplicate id).
    func add(_ vectors: VectorMatrix, ids: [VectorID]) throws

    /// Removes the vectors with these ids; ids not in the index are ignored.
    /// Returns how many were removed.
    @discardableResult
    func remove(ids: [VectorID]) -> Int

    /// Writes up to `k` nearest neighbours of `query` into `results`, best first, and returns
    /// their number. Allocates nothing; `results` must hold at least `k` elements.
    func search(
        _ query: UnsafeBufferPointer<Float>, k: Int, parameters: SearchParameters,
        into results: UnsafeMutableBufferPointer<Neighbor>
    ) throws -> Int

    /// Searches every row of `queries`, spreading the work over `threads` threads
    /// (nil: every core).
    func search(batch queries: VectorMatrix, k: Int, parameters: SearchParameters, threads: Int?) throws -> SearchResults

    /// Saves the index to `path` atomically (temporary file, fsync, rename).
    func save(to path: String) throws
}

extension VectorIndex {
    /// The `k` nearest neighbours of `query`, best first (fewer if the index holds fewer).
    public func search(_ query: [Float], k: Int, parameters: SearchParameters) throws -> [Neighbor] {
        guard k >= 0 else { throw VectorSearchError.invalidArgument("k must be non-negative, got \(k)") }
        let capacity = min(k, count)
        return try [Neighbor](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, initialized in
            initialized = try query.withUnsafeBufferPointer { q in
                try search(q, k: capacity, parameters: parameters, into: UnsafeMutableBufferPointer(rebasing: buffer[..<capacity]))
            }
        }
    }

    /// Adds one vector.
    public func add(_ vector: [Float], id: VectorID) throws {
        guard vector.count == dimension else {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: vector.count, row: 0)
        }
        try add(VectorMatrix(dimension: dimension, values: vector), ids: [id])
    }
}

/// Checks vectors before they enter an index, so a refused batch leaves the index untouched.
enum VectorValidation {
    static func check(
        _ vectors: VectorMatrix, ids: [VectorID], dimension: Int, metric: Metric, contains: (VectorID) -> Bool
    ) throws {
        guard vectors.dimension == dimension else {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: vectors.dimension, row: nil)
        }
        guard ids.count == vectors.count else {
            throw VectorSearchError.invalidArgument("\(vectors.count) vectors but \(ids.count) ids")
        }
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
