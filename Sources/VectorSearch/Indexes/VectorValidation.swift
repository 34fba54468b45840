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
        try ParameterCheck.atLeast(0, "k", k)
        try ParameterCheck.threads(threads)
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
        try ParameterCheck.atLeast(0, "k", k)
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
