/// Reproducible synthetic datasets for tests and benchmarks.
public enum SyntheticData {
    /// Base and query vectors drawn from the same mixture of Gaussian clusters: centres from
    /// N(0, 1) per component, points at a centre plus N(0, `spread`²) noise. The same seed
    /// always gives the same vectors, on every machine.
    public static func clustered(
        count: Int, queries: Int, dimension: Int, clusters: Int, seed: UInt64, spread: Float = 0.35
    ) throws -> (base: VectorMatrix, queries: VectorMatrix) {
        guard count >= 0, queries >= 0, dimension > 0, clusters > 0 else {
            throw VectorSearchError.invalidArgument("count, queries, dimension and clusters must be positive")
        }
        let (rows, rowsOverflow) = count.addingReportingOverflow(queries)
        let cells = rowsOverflow ? nil : ParameterCheck.saturatingProduct(rows, ParameterCheck.saturatingProduct(dimension, 4))
        try SystemResources.checkMemory(
            cells == .max ? nil : cells, for: "\(count) + \(queries) vectors of dimension \(dimension) (float32)")
        var random = SplitMix64(seed: seed)
        var centres = [Float](repeating: 0, count: clusters * dimension)
        for i in centres.indices { centres[i] = random.nextGaussian() }
        func draw(_ n: Int) throws -> VectorMatrix {
            var values = [Float](repeating: 0, count: n * dimension)
            for row in 0..<n {
                let centre = Int(random.next() % UInt64(clusters)) * dimension
                for j in 0..<dimension {
                    values[row * dimension + j] = centres[centre + j] + spread * random.nextGaussian()
                }
            }
            return try VectorMatrix(dimension: dimension, values: values)
        }
        let base = try draw(count)
        return (base, try draw(queries))
    }
}
