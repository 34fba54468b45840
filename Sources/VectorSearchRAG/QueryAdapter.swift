import Foundation
import VectorSearch

/// A linear map applied to query embeddings before they are searched: `query · W` (W d×d).
/// Fitted on pairs of a question and a chunk that answers it, it adapts retrieval to a domain
/// without touching the documents' vectors, so nothing is re-indexed. A collection stores one
/// (``DocumentCollection/setQueryAdapter(_:)``) and applies it to every query vector by default.
public struct QueryAdapter: Sendable, Hashable {
    public let dimension: Int
    /// W, row-major d×d: the adapted query is the row vector `query · W`.
    public let matrix: [Float]
    /// How it was fitted (`ridge`, `procrustes`, `contrastive`, `identity`), for `rag info`.
    public var method: String
    /// The regularisation it was fitted with (0 when none applies).
    public var regularization: Double

    public init(dimension: Int, matrix: [Float], method: String, regularization: Double = 0) throws {
        try ParameterCheck.atLeast(1, "dimension", dimension)
        guard matrix.count == dimension * dimension else {
            throw VectorSearchError.invalidArgument("an adapter for \(dimension)-d queries needs \(dimension * dimension) values, got \(matrix.count)")
        }
        guard matrix.allSatisfy(\.isFinite) else { throw VectorSearchError.invalidArgument("the adapter matrix has a non-finite value") }
        self.dimension = dimension
        self.matrix = matrix
        self.method = method
        self.regularization = regularization
    }

    /// W = I: queries unchanged.
    public static func identity(dimension: Int) throws -> QueryAdapter {
        var matrix = [Float](repeating: 0, count: dimension * dimension)
        for i in 0..<dimension { matrix[i * dimension + i] = 1 }
        return try QueryAdapter(dimension: dimension, matrix: matrix, method: "identity")
    }

    /// `query · W` (one `sgemv`); refused for a query of another dimension.
    public func apply(_ query: [Float]) throws -> [Float] {
        guard query.count == dimension else { throw VectorSearchError.dimensionMismatch(expected: dimension, actual: query.count, row: nil) }
        var out = [Float](repeating: 0, count: dimension)
        query.withUnsafeBufferPointer { q in
            matrix.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    BLAS.vectorTimesMatrix(m: dimension, n: dimension, x: q.baseAddress!, a: w.baseAddress!, lda: dimension, y: o.baseAddress!)
                }
            }
        }
        return out
    }

    /// Every row of `queries` mapped (one matrix product).
    func apply(rows queries: [Float], count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count * dimension)
        LinearAlgebra.multiply(count, dimension, dimension, queries, matrix, into: &out)
        return out
    }
}

/// Fits a ``QueryAdapter`` on pairs (question vector xᵢ, vector yᵢ of a chunk that answers it),
/// given as the rows of X and Y (n×d).
public enum QueryAdapterFitting {
    /// Ridge least squares towards the identity, in closed form: W = (XᵀX + λI)⁻¹ (XᵀY + λI),
    /// the W minimising ‖XW − Y‖² + λ‖W − I‖² (LAPACK `sposv`). λ large keeps W near I.
    public static func ridge(queries x: [Float], targets y: [Float], dimension d: Int, lambda: Double) throws -> QueryAdapter {
        let n = try pairCount(x, y, d)
        guard lambda > 0, lambda.isFinite else { throw VectorSearchError.invalidArgument("ridge λ must be positive, got \(lambda)") }
        var a = gram(x, x, n: n, d: d), b = gram(x, y, n: n, d: d)
        for i in 0..<d {
            a[i * d + i] += Float(lambda)
            b[i * d + i] += Float(lambda)
        }
        let w = try LinearAlgebra.solveSymmetricPositiveDefinite(a, n: d, b, columns: d)
        return try QueryAdapter(dimension: d, matrix: w, method: "ridge", regularization: lambda)
    }

    /// The rotation W (orthogonal) that best maps X onto Y: W = UVᵀ for XᵀY = UΣVᵀ (LAPACK
    /// `sgesdd`). Keeps the queries' lengths and angles; only turns them.
    public static func procrustes(queries x: [Float], targets y: [Float], dimension d: Int) throws -> QueryAdapter {
        let n = try pairCount(x, y, d)
        let w = try LinearAlgebra.orthogonalProcrustes(gram(x, y, n: n, d: d), n: d)
        return try QueryAdapter(dimension: d, matrix: w, method: "procrustes")
    }

    /// Settings of ``contrastive(queries:targets:dimension:settings:start:)``.
    public struct ContrastiveSettings: Sendable, Hashable {
        /// Weight of ‖W − I‖² (keeps W near the identity).
        public var lambda: Double = 0.01
        /// Softmax temperature of the scores.
        public var temperature: Double = 0.05
        public var epochs: Int = 5
        public var batchSize: Int = 64
        public var learningRate: Double = 1
        public var seed: UInt64 = 42

        public init(lambda: Double = 0.01, temperature: Double = 0.05, epochs: Int = 5, batchSize: Int = 64) {
            self.lambda = lambda
            self.temperature = temperature
            self.epochs = epochs
            self.batchSize = batchSize
        }
    }

    /// Mini-batch gradient descent on the contrastive loss with in-batch negatives (each
    /// question's answer against the other answers of its batch, softmax of (xW)·yᵀ/τ, as the
    /// multiple-negatives ranking loss), plus λ‖W − I‖², from `start` (the identity by default).
    /// The gradients are matrix products (sgemm).
    public static func contrastive(
        queries x: [Float], targets y: [Float], dimension d: Int, settings: ContrastiveSettings = ContrastiveSettings(), start: QueryAdapter? = nil
    ) throws -> QueryAdapter {
        let n = try pairCount(x, y, d)
        try ParameterCheck.atLeast(1, "epochs", settings.epochs)
        try ParameterCheck.atLeast(2, "batch size", settings.batchSize)
        guard settings.temperature > 0, settings.learningRate > 0, settings.lambda >= 0 else {
            throw VectorSearchError.invalidArgument("temperature and learning rate must be positive, λ not negative")
        }
        var w = try (start ?? QueryAdapter.identity(dimension: d)).matrix
        var generator = SplitMix64(seed: settings.seed)
        let b = settings.batchSize
        var xb = [Float](repeating: 0, count: b * d), yb = [Float](repeating: 0, count: b * d)
        var q = [Float](repeating: 0, count: b * d), s = [Float](repeating: 0, count: b * b), g = [Float](repeating: 0, count: b * d)
        for _ in 0..<settings.epochs {
            let order = (0..<n).shuffled(using: &generator)
            for first in stride(from: 0, to: n, by: b) {
                let rows = min(b, n - first)
                for r in 0..<rows {
                    let i = order[first + r]
                    for c in 0..<d {
                        xb[r * d + c] = x[i * d + c]
                        yb[r * d + c] = y[i * d + c]
                    }
                }
                // q = xb·W; s = q·ybᵀ/τ; softmax by row; s − I; g = s·yb/(τ·rows).
                LinearAlgebra.multiply(rows, d, d, xb, w, into: &q)
                LinearAlgebra.multiply(rows, rows, d, q, yb, transposeB: true, into: &s, alpha: Float(1 / settings.temperature))
                for r in 0..<rows {
                    var maximum = -Float.infinity
                    for c in 0..<rows { maximum = max(maximum, s[r * rows + c]) }
                    var sum: Float = 0
                    for c in 0..<rows {
                        s[r * rows + c] = exp(s[r * rows + c] - maximum)
                        sum += s[r * rows + c]
                    }
                    for c in 0..<rows { s[r * rows + c] /= sum }
                    s[r * rows + r] -= 1
                }
                LinearAlgebra.multiply(rows, d, rows, s, yb, into: &g, alpha: Float(1 / (settings.temperature * Double(rows))))
                // W −= lr·xbᵀ·g, then the proximal step of λ‖W − I‖²: W = I + (W − I)/(1 + lr·λ),
                // stable for any λ (an explicit step overshoots once lr·λ > 2).
                let rate = Float(settings.learningRate)
                LinearAlgebra.multiply(d, d, rows, xb, transposeA: true, g, into: &w, alpha: -rate, beta: 1)
                let shrink = 1 / (1 + rate * Float(settings.lambda))
                for i in 0..<d {
                    for j in 0..<d {
                        let target: Float = i == j ? 1 : 0
                        w[i * d + j] = target + (w[i * d + j] - target) * shrink
                    }
                }
            }
        }
        return try QueryAdapter(dimension: d, matrix: w, method: "contrastive", regularization: settings.lambda)
    }

    private static func pairCount(_ x: [Float], _ y: [Float], _ d: Int) throws -> Int {
        try ParameterCheck.atLeast(1, "dimension", d)
        guard x.count == y.count, x.count % d == 0, !x.isEmpty else {
            throw VectorSearchError.invalidArgument("an adapter needs as many questions as answers, at least one, of dimension \(d)")
        }
        guard x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite) else {
            throw VectorSearchError.invalidArgument("a training vector has a non-finite value")
        }
        return x.count / d
    }

    /// Aᵀ·B for A, B n×d.
    private static func gram(_ a: [Float], _ b: [Float], n: Int, d: Int) -> [Float] {
        var out = [Float](repeating: 0, count: d * d)
        LinearAlgebra.multiply(d, d, n, a, transposeA: true, b, into: &out)
        return out
    }
}
