/// Exact pruning for IVF list scans.
///
/// Each row x of a list also keeps a *sketch*: its coordinates Px along `width` orthonormal
/// directions in which the data varies most (its leading principal components), rounded to
/// bfloat16 (x̃), and three numbers (``Terms``). For a query q, Cauchy–Schwarz on the parts of q
/// and x outside those directions bounds their inner product from above:
///
///     q·x = Pq·Px + q⊥·x⊥ ≤ Pq·x̃ + ‖q‖·‖Px − x̃‖ + ‖q⊥‖·‖x⊥‖
///
/// and so every internal distance from below. A scan whose top-k heap is full skips the rows
/// whose bound already loses to its worst kept distance, without reading their vectors. No row
/// that could enter the top k is skipped, so the results equal an unpruned scan's; what it saves
/// is memory traffic, the bound of a single-query scan. It pays only where the variance is
/// concentrated in few directions, as in text embeddings (all-MiniLM-L6-v2 on PyPI summaries:
/// 176 of 384 directions hold 88 % of it, and a simulated scan read 0.36 of the bytes), so it is
/// used only when the leading `width` directions hold at least ``minimumCapturedVariance`` of it.
struct ListSketch: Sendable {
    let dimension: Int
    /// Number of directions, p.
    let width: Int
    /// `width` orthonormal rows of `dimension` floats.
    let basis: [Float]

    /// Per-row numbers of a sketch, for the bound.
    struct Terms {
        /// ‖Px − x̃‖ plus a margin for float rounding in the bound (1e-3·‖x‖).
        var error: Float
        /// ‖x⊥‖ = √(‖x‖² − ‖Px‖²), rounded up.
        var perpendicular: Float
        /// ‖x‖², for the L2 bound.
        var normSquared: Float
    }

    /// Sketches are used on data of at least this dimension: below it a sketch saves too few bytes.
    static let minimumDimension = 128
    /// ...and only when the leading `width` directions hold this share of the variance.
    static let minimumCapturedVariance = 0.75
    /// Rows the principal directions are estimated from.
    static let sampleRows = 8192
    /// p as a share of the dimension (176 of 384): past this, each further direction prunes less
    /// than its bytes cost (simulated on pypi-minilm at nprobe 32: p = 128, 160, 192 read 0.47, 0.36,
    /// 0.34 of the bytes).
    static func width(for dimension: Int) -> Int { (dimension * 45 / 100 + 15) / 16 * 16 }

    /// The leading principal directions of `count` rows (the centred covariance, by subspace
    /// iteration on sgemm), or nil when sketches would not pay on this data.
    static func fit(_ rows: UnsafePointer<Float>, count: Int, dimension d: Int, seed: UInt64) -> ListSketch? {
        let p = width(for: d)
        guard d >= minimumDimension, count >= 2 * p else { return nil }
        let m = min(count, sampleRows), kernels = DistanceKernels.best
        // Centred sample, rows spread evenly over the input.
        var x = [Float](repeating: 0, count: m * d)
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<m {
            let row = rows + (i * count / m) * d
            for j in 0..<d {
                x[i * d + j] = row[j]
                mean[j] += Double(row[j])
            }
        }
        for j in 0..<d { mean[j] /= Double(m) }
        for i in 0..<m { for j in 0..<d { x[i * d + j] -= Float(mean[j]) } }
        var covariance = [Float](repeating: 0, count: d * d)
        x.withUnsafeBufferPointer { x in
            covariance.withUnsafeMutableBufferPointer { c in
                BLAS.multiply(
                    m: d, n: d, k: m, alpha: 1 / Float(m), a: x.baseAddress!, lda: d, transposeA: true,
                    b: x.baseAddress!, ldb: d, c: c.baseAddress!, ldc: d)
            }
        }
        let total = (0..<d).reduce(0.0) { $0 + Double(covariance[$1 * d + $1]) }
        guard total > 0 else { return nil }

        var random = SplitMix64(seed: seed)
        var q = (0..<p * d).map { _ in Float(random.next() >> 40) / Float(1 << 24) - 0.5 }
        var product = [Float](repeating: 0, count: p * d)
        func multiplyByCovariance() {
            q.withUnsafeBufferPointer { q in
                covariance.withUnsafeBufferPointer { c in
                    product.withUnsafeMutableBufferPointer { z in
                        BLAS.multiply(m: p, n: d, k: d, a: q.baseAddress!, lda: d, b: c.baseAddress!, ldb: d, c: z.baseAddress!, ldc: d)
                    }
                }
            }
        }
        // Subspace iteration: a few steps find the dominant subspace well enough, and any
        // orthonormal basis keeps the bound exact.
        for _ in 0..<4 {
            guard orthonormalize(&q, rows: p, dimension: d, random: &random) else { return nil }
            multiplyByCovariance()
            swap(&q, &product)
        }
        guard orthonormalize(&q, rows: p, dimension: d, random: &random),
            orthonormalize(&q, rows: p, dimension: d, random: &random),
            isOrthonormal(q, rows: p, dimension: d)
        else { return nil }
        multiplyByCovariance()
        let captured = (0..<p).reduce(0.0) { sum, i in
            sum
                + Double(
                    q.withUnsafeBufferPointer { q in
                        product.withUnsafeBufferPointer { z in
                            kernels.dot(q.baseAddress! + i * d, z.baseAddress! + i * d, d)
                        }
                    })
        }
        guard captured / total >= minimumCapturedVariance else { return nil }
        return ListSketch(dimension: d, width: p, basis: q)
    }

    /// Modified Gram–Schmidt on the rows; a row that vanishes is replaced by a random one.
    private static func orthonormalize(_ q: inout [Float], rows p: Int, dimension d: Int, random: inout SplitMix64) -> Bool {
        let kernels = DistanceKernels.best
        return q.withUnsafeMutableBufferPointer { buffer in
            let q = buffer.baseAddress!
            for i in 0..<p {
                let row = q + i * d
                var attempts = 0
                while true {
                    let before = kernels.dot(row, row, d)
                    for j in 0..<i {
                        let other = q + j * d
                        let r = kernels.dot(row, other, d)
                        for t in 0..<d { row[t] -= r * other[t] }
                    }
                    let norm = kernels.dot(row, row, d).squareRoot()
                    if norm > 1e-3 * before.squareRoot(), norm > 0, norm.isFinite {
                        let scale = 1 / norm
                        for t in 0..<d { row[t] *= scale }
                        break
                    }
                    attempts += 1
                    guard attempts < 8 else { return false }
                    for t in 0..<d { row[t] = Float(random.next() >> 40) / Float(1 << 24) - 0.5 }
                }
            }
            return true
        }
    }

    /// Whether the rows are orthonormal to within 1e-4 (Frobenius norm of QQᵀ − I), which the
    /// bound's margins allow for.
    private static func isOrthonormal(_ q: [Float], rows p: Int, dimension d: Int) -> Bool {
        let kernels = DistanceKernels.best
        var sum = 0.0
        q.withUnsafeBufferPointer { q in
            let q = q.baseAddress!
            for i in 0..<p {
                for j in 0...i {
                    let e = Double(kernels.dot(q + i * d, q + j * d, d)) - (i == j ? 1 : 0)
                    sum += (i == j ? 1 : 2) * e * e
                }
            }
        }
        return sum.squareRoot() <= 1e-4
    }

    /// Writes the sketches and terms of `count` contiguous rows; their projections come from one
    /// sgemm per 1,024 rows.
    func sketch(
        _ rows: UnsafePointer<Float>, count: Int, into sketches: UnsafeMutablePointer<UInt16>,
        terms: UnsafeMutablePointer<Terms>, kernels: DistanceKernels
    ) {
        let block = 1024
        let projected = UnsafeMutablePointer<Float>.allocate(capacity: min(block, count) * width)
        defer { projected.deallocate() }
        basis.withUnsafeBufferPointer { basis in
            var first = 0
            while first < count {
                let n = min(block, count - first)
                let rows = rows + first * dimension
                BLAS.productWithTranspose(m: n, n: width, k: dimension, alpha: 1, a: rows, b: basis.baseAddress!, c: projected, ldc: width)
                for i in 0..<n {
                    store(
                        projected + i * width, of: rows + i * dimension, into: sketches + (first + i) * width,
                        terms: terms + first + i, kernels: kernels)
                }
                first += n
            }
        }
    }

    /// Writes the sketch of `row` from its projection Px (`width` floats): bfloat16 values and terms.
    func store(
        _ projection: UnsafePointer<Float>, of row: UnsafePointer<Float>, into sketch: UnsafeMutablePointer<UInt16>,
        terms: UnsafeMutablePointer<Terms>, kernels: DistanceKernels
    ) {
        var projected = 0.0, rounding = 0.0
        for i in 0..<width {
            let value = projection[i]
            sketch[i] = value.bfloat16
            let e = Double(value) - Double(Float(bfloat16: sketch[i]))
            rounding += e * e
            projected += Double(value) * Double(value)
        }
        let normSquared = kernels.dot(row, row, dimension)
        terms.pointee = Terms(
            error: Float(rounding.squareRoot()) + 1e-3 * normSquared.squareRoot(),
            perpendicular: Self.perpendicular(normSquared: normSquared, projected: projected),
            normSquared: normSquared)
    }

    /// √(‖v‖² − ‖Pv‖²) rounded up for the basis' small departure from orthonormality.
    static func perpendicular(normSquared: Float, projected: Double) -> Float {
        Float((max(0, Double(normSquared) - projected) + 2e-4 * Double(normSquared)).squareRoot())
    }

    /// Pq into `projected` (`width` floats) and the query's norm and perpendicular norm.
    func prepare(_ query: UnsafePointer<Float>, into projected: UnsafeMutablePointer<Float>, kernels: DistanceKernels) -> Query {
        basis.withUnsafeBufferPointer { kernels.dotMany(query, $0.baseAddress!, width, dimension, projected) }
        var sum = 0.0
        for i in 0..<width { sum += Double(projected[i]) * Double(projected[i]) }
        let normSquared = kernels.dot(query, query, dimension)
        return Query(
            projected: projected, width: width, norm: normSquared.squareRoot(), normSquared: normSquared,
            perpendicular: Self.perpendicular(normSquared: normSquared, projected: sum))
    }

    /// A query made ready for the bound.
    struct Query {
        /// Pq, `width` floats.
        let projected: UnsafeMutablePointer<Float>
        let width: Int
        let norm: Float
        let normSquared: Float
        /// ‖q⊥‖, rounded up.
        let perpendicular: Float

        /// The least internal distance (squared L2, or −q·x) a row can have, from `sketchDot`
        /// = Pq·x̃ and its terms. The L2 form loses a little to rounding in ‖q‖² + ‖x‖² − 2q·x,
        /// and gives that back as a margin.
        /// The largest q·x a row can have, from `sketchDot` = Pq·x̃ and its terms.
        @inline(__always)
        func similarityBound(sketchDot: Float, _ terms: Terms) -> Float {
            sketchDot + norm * terms.error + perpendicular * terms.perpendicular
        }

        @inline(__always)
        func distanceBound(sketchDot: Float, _ terms: Terms, l2: Bool) -> Float {
            let similarity = similarityBound(sketchDot: sketchDot, terms)
            guard l2 else { return -similarity }
            let norms = normSquared + terms.normSquared
            return norms - 2 * similarity - 1e-5 * norms
        }

        /// The least coarse-step distance ‖c‖² − 2·scale·q·c (how lists are ranked, with scale
        /// 1/‖q‖ under cosine, else 1) a centroid c can have, from `sketchDot` = Pq·c̃ and its terms.
        @inline(__always)
        func rankingBound(sketchDot: Float, _ terms: Terms, scale: Float) -> Float {
            let similarity = similarityBound(sketchDot: sketchDot, terms)
            return terms.normSquared - 2 * scale * similarity - 1e-5 * (terms.normSquared + scale * scale * normSquared)
        }
    }
}
