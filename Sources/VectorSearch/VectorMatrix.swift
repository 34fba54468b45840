/// Rows of float vectors of one dimension, stored contiguously (row-major).
public struct VectorMatrix: Sendable, Equatable {
    /// Number of components per row.
    public let dimension: Int
    /// All rows, one after another: `count * dimension` floats.
    public private(set) var values: [Float]

    /// Number of rows.
    public var count: Int { dimension == 0 ? 0 : values.count / dimension }

    /// Rows from a flat array of `count * dimension` floats.
    public init(dimension: Int, values: [Float]) throws {
        try ParameterCheck.dimension(dimension)
        guard values.count % dimension == 0 else {
            throw VectorSearchError.invalidArgument(
                "\(values.count) floats do not divide into rows of dimension \(dimension)")
        }
        self.dimension = dimension
        self.values = values
    }

    /// Rows from an array of vectors, all of the same length.
    public init(_ rows: [[Float]]) throws {
        guard let first = rows.first else {
            throw VectorSearchError.invalidArgument("cannot infer a dimension from zero rows; use init(dimension:values:)")
        }
        var values = [Float]()
        values.reserveCapacity(rows.count * first.count)
        for (row, vector) in rows.enumerated() {
            guard vector.count == first.count else {
                throw VectorSearchError.dimensionMismatch(expected: first.count, actual: vector.count, row: row)
            }
            values.append(contentsOf: vector)
        }
        try self.init(dimension: first.count, values: values)
    }

    /// An empty matrix of the given dimension.
    public init(dimension: Int) {
        precondition(dimension > 0, "dimension must be positive")
        self.dimension = dimension
        self.values = []
    }

    /// A copy with every row scaled to unit length, as cosine indexes store them; callers
    /// refuse zero rows first.
    func normalizedRows(kernels: DistanceKernels = .best) -> VectorMatrix {
        var copy = self
        copy.values.withUnsafeMutableBufferPointer { v in
            for row in 0..<count { kernels.normalize(v.baseAddress! + row * dimension, dimension) }
        }
        return copy
    }

    /// Whether every row is unit length up to float rounding (|‖x‖² − 1| ≤ 1e-5), as most
    /// embedding models write them: such data needs no normalised copy where only clusters
    /// matter (k-means training).
    func rowsAreUnitLength(kernels: DistanceKernels = .best) -> Bool {
        values.withUnsafeBufferPointer { v in
            (0..<count).allSatisfy { row in
                let start = v.baseAddress! + row * dimension
                return abs(kernels.dot(start, start, dimension) - 1) <= 1e-5
            }
        }
    }

    /// Row `row` as a new array.
    public subscript(row: Int) -> [Float] {
        Array(values[(row * dimension)..<((row + 1) * dimension)])
    }

    /// Appends one row.
    public mutating func append(_ vector: [Float]) throws {
        guard vector.count == dimension else {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: vector.count, row: count)
        }
        values.append(contentsOf: vector)
    }

    /// Calls `body` with the rows' contiguous storage.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer(body)
    }

    /// The first row with a NaN or infinity, if any: (row, column).
    public func firstNonFinite() -> (row: Int, column: Int)? {
        values.withUnsafeBufferPointer { buffer in
            for i in 0..<buffer.count where !buffer[i].isFinite {
                return (i / dimension, i % dimension)
            }
            return nil
        }
    }
}
