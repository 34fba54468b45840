import CLAPACK

/// Dense linear algebra on row-major float32 matrices through LAPACK (LAPACKE): the solves and
/// decompositions that fitting a query adapter needs, checked and with clear errors.
public enum LinearAlgebra {
    /// X with A·X = B, for A (n×n) symmetric positive definite and B n×columns (LAPACK `sposv`,
    /// a Cholesky factorisation). Refused when A is not positive definite.
    public static func solveSymmetricPositiveDefinite(_ a: [Float], n: Int, _ b: [Float], columns: Int) throws -> [Float] {
        try ParameterCheck.atLeast(1, "n", n)
        try ParameterCheck.atLeast(1, "columns", columns)
        guard a.count == n * n, b.count == n * columns else {
            throw VectorSearchError.invalidArgument("sposv: A must be \(n)×\(n) and B \(n)×\(columns), got \(a.count) and \(b.count) values")
        }
        var a = a, x = b
        let info = LAPACKE_sposv(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), Int32(columns), &a, Int32(n), &x, Int32(columns))
        guard info == 0 else {
            throw VectorSearchError.invalidArgument(
                info > 0 ? "sposv: the matrix is not positive definite (leading minor \(info))" : "sposv: argument \(-info) is invalid")
        }
        return x
    }

    /// The thin singular value decomposition A = U·diag(s)·Vᵀ of A (m×n), with U m×r, s of r
    /// values (largest first) and Vᵀ r×n, r = min(m, n) (LAPACK `sgesdd`, divide and conquer).
    public static func singularValueDecomposition(_ a: [Float], rows m: Int, columns n: Int) throws -> (u: [Float], s: [Float], vt: [Float]) {
        try ParameterCheck.atLeast(1, "rows", m)
        try ParameterCheck.atLeast(1, "columns", n)
        guard a.count == m * n else { throw VectorSearchError.invalidArgument("sgesdd: A must be \(m)×\(n), got \(a.count) values") }
        guard a.allSatisfy(\.isFinite) else { throw VectorSearchError.invalidArgument("sgesdd: the matrix has a non-finite value") }
        let r = min(m, n)
        var a = a
        var s = [Float](repeating: 0, count: r), u = [Float](repeating: 0, count: m * r), vt = [Float](repeating: 0, count: r * n)
        let info = LAPACKE_sgesdd(
            LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "S")), Int32(m), Int32(n), &a, Int32(n), &s, &u, Int32(r), &vt, Int32(n))
        guard info == 0 else {
            throw VectorSearchError.invalidArgument(info > 0 ? "sgesdd: the decomposition did not converge" : "sgesdd: argument \(-info) is invalid")
        }
        return (u, s, vt)
    }

    /// The orthogonal matrix W (n×n) that maximises trace(Wᵀ·M), for M = Xᵀ·Y: the rotation
    /// that best maps the rows of X onto those of Y (orthogonal Procrustes, W = U·Vᵀ from the SVD of M).
    public static func orthogonalProcrustes(_ m: [Float], n: Int) throws -> [Float] {
        let (u, _, vt) = try singularValueDecomposition(m, rows: n, columns: n)
        var w = [Float](repeating: 0, count: n * n)
        multiply(n, n, n, u, vt, into: &w)
        return w
    }

    /// C = alpha·op(A)·op(B) + beta·C (one sgemm) on packed row-major arrays: op(A) m×k, op(B)
    /// k×n, C m×n; A is stored k×m when transposed, B n×k. Sizes are the caller's to get right.
    package static func multiply(
        _ m: Int, _ n: Int, _ k: Int, _ a: [Float], transposeA: Bool = false, _ b: [Float], transposeB: Bool = false,
        into c: inout [Float], alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    BLAS.multiply(
                        m: m, n: n, k: k, alpha: alpha, a: a.baseAddress!, lda: transposeA ? m : k, transposeA: transposeA,
                        b: b.baseAddress!, ldb: transposeB ? k : n, transposeB: transposeB, beta: beta, c: c.baseAddress!, ldc: n)
                }
            }
        }
    }
}
