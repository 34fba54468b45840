import VectorSearch

/// A nearest-neighbour benchmark dataset in the layout of ann-benchmarks' HDF5 files:
/// datasets `train` (the base vectors), `test` (the queries), `neighbors` (row numbers of
/// `train`, nearest first, usually the top 100 per query) and `distances` (their distances),
/// and the file attribute `distance` naming the metric.
public struct ANNBenchmarksDataset: Sendable {
    public var train: VectorMatrix
    public var test: VectorMatrix
    /// Exact neighbours of each test vector: row numbers of `train`, nearest first (nil when the file has none).
    public var neighbors: IntegerMatrix?
    /// Their distances as ann-benchmarks defines them (see ``distance(_:_:metric:)``), row for row.
    public var distances: [Float]?
    public var metric: Metric

    public init(train: VectorMatrix, test: VectorMatrix, neighbors: IntegerMatrix? = nil, distances: [Float]? = nil, metric: Metric) throws {
        guard train.dimension == test.dimension else {
            throw VectorSearchError.dimensionMismatch(expected: train.dimension, actual: test.dimension, row: nil)
        }
        if let neighbors {
            guard neighbors.count == test.count else {
                throw VectorSearchError.invalidArgument("\(neighbors.count) rows of neighbours for \(test.count) test vectors")
            }
            if let bad = neighbors.values.firstIndex(where: { $0 < 0 || Int($0) >= train.count }) {
                throw VectorSearchError.invalidArgument(
                    "neighbour \(neighbors.values[bad]) (test row \(bad / neighbors.dimension)) is not a row of train (\(train.count) rows)")
            }
        }
        if let distances {
            guard let neighbors, distances.count == neighbors.values.count else {
                throw VectorSearchError.invalidArgument("distances need neighbours of the same shape")
            }
        }
        self.train = train
        self.test = test
        self.neighbors = neighbors
        self.distances = distances
        self.metric = metric
    }

    /// The `distance` attribute for a metric: ann-benchmarks' "euclidean" and "angular"; "dot"
    /// for inner product, which ann-benchmarks has no name for.
    public static func distanceName(_ metric: Metric) -> String {
        switch metric {
        case .l2: "euclidean"
        case .cosine: "angular"
        case .innerProduct: "dot"
        }
    }

    /// The metric a `distance` attribute names; set-similarity distances are refused.
    public static func metric(distanceName name: String, path: String) throws -> Metric {
        switch name.lowercased() {
        case "euclidean": return .l2
        case "angular": return .cosine
        case "dot", "ip", "inner_product": return .innerProduct
        case "jaccard", "hamming":
            throw VectorSearchError.malformedFile(
                path: path, row: nil, byteOffset: nil,
                reason: "distance '\(name)' is a set (binary-vector) distance; VectorSearch indexes float vectors with euclidean, angular or dot")
        default:
            throw VectorSearchError.malformedFile(
                path: path, row: nil, byteOffset: nil, reason: "unknown distance '\(name)'; expected euclidean, angular or dot")
        }
    }

    /// The distance ann-benchmarks stores for a pair: euclidean √Σ(a−b)², angular 1 − cos(a, b),
    /// dot −a·b (smaller is nearer in all three).
    public static func distance(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, metric: Metric) -> Float {
        var dot: Double = 0, aa: Double = 0, bb: Double = 0, squares: Double = 0
        for i in a.indices {
            let x = Double(a[i]), y = Double(b[i])
            dot += x * y; aa += x * x; bb += y * y; squares += (x - y) * (x - y)
        }
        switch metric {
        case .l2: return Float(squares.squareRoot())
        case .cosine: return Float(1 - dot / max((aa * bb).squareRoot(), .leastNormalMagnitude))
        case .innerProduct: return Float(-dot)
        }
    }

    /// Reads a file in the ann-benchmarks layout, checking it whole: every error names the file
    /// and the dataset or attribute at fault.
    public static func read(_ path: String) throws -> ANNBenchmarksDataset {
        let file = try HDF5File.open(path)
        guard let name = try file.stringAttribute("distance") else {
            throw VectorSearchError.malformedFile(
                path: path, row: nil, byteOffset: nil, reason: "no 'distance' attribute (euclidean, angular or dot): not an ann-benchmarks file?")
        }
        let metric = try metric(distanceName: name, path: path)
        let train = try file.readFloats("train"), test = try file.readFloats("test")
        func malformed(_ reason: String) -> VectorSearchError { .malformedFile(path: path, row: nil, byteOffset: nil, reason: reason) }
        guard train.rows > 0 else { throw malformed("dataset 'train' has no rows") }
        guard test.columns == train.columns else {
            throw malformed("dataset 'test' has \(test.columns) columns but 'train' has \(train.columns)")
        }
        var neighbors: IntegerMatrix?
        if file.contains("neighbors") {
            let n = try file.readInt32s("neighbors")
            guard n.rows == test.rows else { throw malformed("dataset 'neighbors' has \(n.rows) rows but 'test' has \(test.rows)") }
            if let bad = n.values.firstIndex(where: { $0 < 0 || Int($0) >= train.rows }) {
                throw malformed("dataset 'neighbors': row \(bad / n.columns) holds \(n.values[bad]), not a row of 'train' (\(train.rows) rows)")
            }
            neighbors = try IntegerMatrix(dimension: max(n.columns, 1), values: n.values)
        }
        var distances: [Float]?
        if file.contains("distances"), let neighbors {
            let d = try file.readFloats("distances")
            guard d.rows == neighbors.count, d.columns == neighbors.dimension else {
                throw malformed("dataset 'distances' is \(d.rows) × \(d.columns) but 'neighbors' is \(neighbors.count) × \(neighbors.dimension)")
            }
            distances = d.values
        }
        return try ANNBenchmarksDataset(
            train: VectorMatrix(dimension: train.columns, values: train.values),
            test: VectorMatrix(dimension: test.columns, values: test.values),
            neighbors: neighbors, distances: distances, metric: metric)
    }

    /// Writes the dataset in the ann-benchmarks layout (float32 vectors and distances, int32
    /// neighbours, the `distance` attribute as h5py writes it), replacing `path`.
    public func write(to path: String) throws {
        // Into a temporary file that replaces `path` atomically, as every writer here does.
        try AtomicFile.replace(path) { temporary in
            let file = try HDF5File.create(temporary)
            try file.setStringAttribute("distance", Self.distanceName(metric))
            try file.write(train.values, rows: train.count, columns: train.dimension, to: "train")
            try file.write(test.values, rows: test.count, columns: test.dimension, to: "test")
            if let neighbors {
                try file.write(neighbors.values, rows: neighbors.count, columns: neighbors.dimension, to: "neighbors")
                if let distances {
                    try file.write(distances, rows: neighbors.count, columns: neighbors.dimension, to: "distances")
                }
            }
        }
    }

    /// The distances of each test vector to its `neighbors`, computed from the vectors.
    public static func distances(train: VectorMatrix, test: VectorMatrix, neighbors: IntegerMatrix, metric: Metric) -> [Float] {
        let d = train.dimension
        return train.withUnsafeBufferPointer { base in
            test.withUnsafeBufferPointer { queries in
                neighbors.values.indices.map { i in
                    let q = i / neighbors.dimension, row = Int(neighbors.values[i])
                    return distance(
                        UnsafeBufferPointer(rebasing: queries[(q * d)..<((q + 1) * d)]),
                        UnsafeBufferPointer(rebasing: base[(row * d)..<((row + 1) * d)]), metric: metric)
                }
            }
        }
    }
}
