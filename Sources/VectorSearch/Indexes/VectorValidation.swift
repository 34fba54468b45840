/// Checks vectors before they enter an index, so a refused batch leaves the index untouched.
package enum VectorValidation {
    static func check(
        _ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes] = [], store: AttributeStore? = nil,
        dimension: Int, metric: Metric, storage: VectorStorage = .float32, contains: (VectorID) -> Bool
    ) throws {
        guard ids.count == vectors.count else {
            throw VectorSearchError.invalidArgument("\(vectors.count) vectors but \(ids.count) ids")
        }
        guard attributes.isEmpty || attributes.count == vectors.count else {
            throw VectorSearchError.invalidArgument("\(vectors.count) vectors but \(attributes.count) attribute sets")
        }
        try store?.check(attributes)
        try checkRows(vectors, dimension: dimension, metric: metric)
        try checkRange(vectors, storage: storage, metric: metric)
        var seen = Set<VectorID>(minimumCapacity: ids.count)
        for id in ids {
            guard !contains(id), seen.insert(id).inserted else { throw VectorSearchError.duplicateID(id) }
        }
    }

    /// The rule for every row of vectors and queries alike: the index's dimension, finite
    /// values, and not all zeros under cosine. (Collections check rows with it before they
    /// commit them, so what their log holds an index always takes.)
    package static func checkRows(_ rows: VectorMatrix, dimension: Int, metric: Metric) throws {
        guard rows.dimension == dimension else {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: rows.dimension, row: nil)
        }
        if let (row, column) = rows.firstNonFinite() { throw VectorSearchError.nonFiniteValue(row: row, column: column) }
        try rows.withUnsafeBufferPointer { values in
            for row in 0..<rows.count {
                try checkNorm(values.baseAddress! + row * dimension, dimension: dimension, metric: metric, row: row)
            }
        }
    }

    /// Components beyond what `storage` holds (float16: ±65,504) are refused rather than stored
    /// as infinities. Cosine rows are normalised first, so they always fit.
    static func checkRange(_ rows: VectorMatrix, storage: VectorStorage, metric: Metric) throws {
        let limit = storage.largestMagnitude
        guard metric != .cosine, limit < .greatestFiniteMagnitude else { return }
        try rows.withUnsafeBufferPointer { values in
            if let i = values.firstIndex(where: { abs($0) > limit }) {
                throw VectorSearchError.invalidArgument(
                    "row \(i / rows.dimension), component \(i % rows.dimension): \(values[i]) is beyond \(storage.rawValue) storage's range (±\(limit)); use bfloat16 or int8 storage, or scale the vectors"
                )
            }
        }
    }

    /// What a loader checks of the float32 rows it read (checksums catch damage, not a file
    /// written wrongly): finite values, within the range of the header's storage.
    static func checkStoredRows(_ rows: UnsafeBufferPointer<Float>, header: IndexFile.Header, path: String) throws {
        let limit = header.metric == .cosine ? Float.greatestFiniteMagnitude : header.storage.largestMagnitude
        if let bad = rows.firstIndex(where: { !(abs($0) <= limit) }) {
            throw VectorSearchError.corruptIndex(
                path: path,
                reason: rows[bad].isFinite
                    ? "row \(bad / header.dimension) has a value beyond \(header.storage.rawValue) storage's range"
                    : "row \(bad / header.dimension) has a non-finite value")
        }
    }

    /// Finite values can still overflow float32 arithmetic (384 components of 1e19 do): such a
    /// row is refused, as is a zero row under cosine (its direction is undefined).
    @inline(__always)
    private static func checkNorm(_ row: UnsafePointer<Float>, dimension: Int, metric: Metric, row number: Int?) throws {
        let squaredNorm = DistanceKernels.best.dot(row, row, dimension)
        guard squaredNorm <= VectorSearchError.largestSquaredNorm else { throw VectorSearchError.normOverflow(row: number) }
        if metric == .cosine, squaredNorm == 0 { throw VectorSearchError.zeroVector(row: number) }
    }

    /// Checks a batch of queries and its arguments (the search parameters too) before any
    /// search work starts.
    static func checkBatch(
        _ queries: VectorMatrix, dimension: Int, metric: Metric, k: Int, threads: Int?, parameters: some IndexSearchParameters
    ) throws {
        try parameters.validate()
        try ParameterCheck.atLeast(0, "k", k)
        try ParameterCheck.threads(threads)
        try checkRows(queries, dimension: dimension, metric: metric)
    }

    /// Checks one query, its search parameters and the caller's results buffer.
    static func checkQuery(
        _ query: UnsafeBufferPointer<Float>, dimension: Int, metric: Metric, k: Int, results: UnsafeMutableBufferPointer<Neighbor>,
        parameters: some IndexSearchParameters
    ) throws {
        try parameters.validate()
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
        try checkNorm(query.baseAddress!, dimension: dimension, metric: metric, row: nil)
    }
}
