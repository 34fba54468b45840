import CVectorKernels

/// The trained product quantizer of an IVF index with an ``IVFCodec``: the codebooks, the OPQ
/// rotation if any, and what a query's tables need from each list. Encodes rows into codes and
/// builds a query's tables. Immutable once trained, so searches share it without locks.
///
/// A code stands for r ≈ y₁ ‖ … ‖ y_m (one codeword per slice) where r is the residual x − c of
/// the row against its list's centroid c (or x itself without residuals), rotated by R under OPQ.
/// R is orthogonal, so q·(x − c) = (qR)·((x − c)R) and the tables use the rotated query:
/// - inner product and cosine: q·x = q·c + Σ_s (qR)_s·y_s, so a query has one table for all lists,
///   −(qR)_s·y, and each list adds −q·c;
/// - L2: ‖q − c − r‖² = ‖q − c‖² + Σ_s (‖y_s‖² + 2 (cR)_s·y_s − 2 (qR)_s·y_s): the first two terms
///   of the sum depend on the list, not the query, and are kept per list (``listTerms``; FAISS's
///   "precomputed tables"), so a list's table is one addition per entry.
final class IVFProductCodes: @unchecked Sendable {
    let codec: IVFCodec
    let quantizer: ProductQuantizer
    /// d × d, rows rotate as x·R (OPQ), or nil.
    let rotation: [Float]?
    /// [R | Cᵀ] as int8 with a scale per column (d × (d + nlist); Cᵀ alone without OPQ, C the
    /// index's centroids), laid out as `multiply` reads it: one pass of our own kernel over it, with
    /// the query rounded to int16, rotates the query and estimates its products with every centroid,
    /// on one thread (OpenBLAS's sgemv handed a 384 × 384 product to its thread pool, which spun on
    /// the other core). The pass is bound by the bytes it streams from L3: int8 takes 4.4–4.8 µs
    /// at 384 × 640 where bfloat16 took 8.0–8.4. The rotated query only feeds the tables: its
    /// rounding error (about 3·10⁻⁴ of ‖q‖ per value) is below the byte table's and far below the
    /// codes'. The estimates only choose which centroids the coarse step scores exactly
    /// (``centroidSlack``), so the lists probed are the float32 ones.
    let queryMatrix: [Int8]
    let columnScales: [Float]
    let multiply: QueryMatrixKernel
    /// Columns of ``queryMatrix`` before the centroids': d with a rotation, else 0.
    let rotatedColumns: Int
    /// Centroids (nlist).
    let listCount: Int
    /// Per centroid c, with ĉ its int8 copy: ‖c − ĉ‖ plus a float-rounding margin of 10⁻⁴·‖c‖
    /// (``centroidSlack``), and ‖ĉ‖ (``centroidCodeNorms``). For a query q rounded to q̂,
    /// |q·c − q̂·ĉ| ≤ ‖q‖·‖c − ĉ‖ + ‖q − q̂‖·‖ĉ‖, so an estimate bounds the exact coarse distance.
    let centroidSlack: [Float]
    let centroidCodeNorms: [Float]
    let metric: Metric
    let dimension: Int
    /// Slices, centroids per slice, values per slice, and slices as the fast-scan kernel reads them.
    let m: Int, centroidCount: Int, subdimension: Int, paddedM: Int
    /// L2 only (else empty): for list l (one list's worth without residuals), slice s and
    /// codeword j, ‖y‖² + 2 (cR)_s·y at (l·m + s)·K + j.
    let listTerms: [Float]
    /// The codebooks transposed per slice (slice s: subdimension rows of K values), so a query's
    /// products for one slice are K-wide SIMD multiply-adds.
    let transposedBooks: [Float]
    /// The fast-scan kernels of this CPU (pq4fs): block sums, and the rows at or under a limit.
    let fastScan: @convention(c) (UnsafePointer<UInt8>?, Int, UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt16>?) -> Void
    let select: @convention(c) (UnsafePointer<UInt16>?, Int, UInt16, UnsafeMutablePointer<UInt32>?) -> Int
    let quantizeTable: QuantizeTableKernel

    init(codec: IVFCodec, quantizer: ProductQuantizer, rotation: [Float]?, centroids: VectorMatrix, metric: Metric, level: SIMDLevel = .detected) {
        self.codec = codec
        self.quantizer = quantizer
        self.rotation = rotation
        let d = quantizer.dimension, nlist = centroids.count
        let rotated = rotation == nil ? 0 : d, columns = rotated + nlist
        // Column j of [R | Cᵀ]: R's column j, then centroid j − d.
        let column: (Int) -> [Float] = { j in
            j < rotated ? (0..<d).map { rotation![$0 * d + j] } : centroids.withUnsafeBufferPointer { Array($0[((j - rotated) * d)..<((j - rotated + 1) * d)]) }
        }
        var codes = [[Int8]](), scales = [Float](), slack = [Float](), codeNorms = [Float]()
        for j in 0..<columns {
            let values = column(j), (code, scale) = Self.int8Column(values)
            codes.append(code)
            scales.append(scale)
            guard j >= rotated else { continue }
            var error = 0.0, norm = 0.0, codeNorm = 0.0
            for (value, byte) in zip(values, code) {
                let decoded = Double(byte) * Double(scale), lost = Double(value) - decoded
                error += lost * lost
                norm += Double(value) * Double(value)
                codeNorm += decoded * decoded
            }
            slack.append(Float(error.squareRoot() + 1e-4 * norm.squareRoot()))
            codeNorms.append(Float(codeNorm.squareRoot()))
        }
        queryMatrix = Self.pairedPanels(codes, rows: d)
        columnScales = scales
        centroidSlack = slack
        centroidCodeNorms = codeNorms
        rotatedColumns = rotated
        listCount = nlist
        multiply = Self.queryMatrixKernel(level)
        self.metric = metric
        dimension = quantizer.dimension
        m = quantizer.subquantizers
        centroidCount = quantizer.centroidCount
        subdimension = quantizer.subdimension
        paddedM = codec.paddedSubquantizers
        (fastScan, select) = Self.fastScanKernels(level)
        quantizeTable = Self.quantizeTableKernel(level)
        var transposed = [Float](repeating: 0, count: quantizer.codebooks.count)
        let (k, ds) = (centroidCount, subdimension)
        for s in 0..<m {
            for j in 0..<k {
                for t in 0..<ds { transposed[(s * ds + t) * k + j] = quantizer.codebooks[(s * k + j) * ds + t] }
            }
        }
        transposedBooks = transposed
        listTerms = metric == .l2 ? Self.listTerms(quantizer: quantizer, rotation: rotation, centroids: centroids, residual: codec.residual) : []
    }

    static func fastScanKernels(
        _ level: SIMDLevel
    ) -> (
        @convention(c) (UnsafePointer<UInt8>?, Int, UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt16>?) -> Void,
        @convention(c) (UnsafePointer<UInt16>?, Int, UInt16, UnsafeMutablePointer<UInt32>?) -> Int
    ) {
        #if arch(x86_64)
        if level == .avx512, vs_has_avx512bw() != 0 { return (vs_fastscan_sums_avx512, vs_fastscan_select_avx512) }
        if level.rank >= SIMDLevel.avx2.rank { return (vs_fastscan_sums_avx2, vs_fastscan_select_avx2) }
        #endif
        return (vs_fastscan_sums_portable, vs_fastscan_select_portable)
    }

    typealias QuantizeTableKernel =
        @convention(c) (UnsafePointer<Float>?, Int, Int, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void

    /// The fast-scan table quantizer of this CPU (the same bytes on every kernel).
    static func quantizeTableKernel(_ level: SIMDLevel) -> QuantizeTableKernel {
        #if arch(x86_64)
        if level.rank >= SIMDLevel.avx2.rank { return vs_fastscan_quantize_table_avx2 }
        #endif
        return vs_fastscan_quantize_table
    }

    typealias QueryMatrixKernel =
        @convention(c) (UnsafePointer<Int16>?, UnsafePointer<Int8>?, Int, Int, UnsafePointer<Float>?, Float, UnsafeMutablePointer<Float>?) -> Void

    /// The query-matrix kernel of this CPU (the same floats on every kernel: its sums are exact).
    static func queryMatrixKernel(_ level: SIMDLevel) -> QueryMatrixKernel {
        #if arch(x86_64)
        if level.rank >= SIMDLevel.avx2.rank { return vs_vector_times_i8_panels_avx2 }
        #endif
        return vs_vector_times_i8_panels_portable
    }

    /// A column as int8 at the scale that maps its largest magnitude to 127 (1 for a zero column;
    /// non-finite values become 0).
    static func int8Column(_ values: [Float]) -> (codes: [Int8], scale: Float) {
        let largest = values.reduce(Float(0)) { $1.isFinite ? max($0, abs($1)) : $0 }
        let scale = largest > 0 ? largest / 127 : 1
        return (values.map { $0.isFinite ? Int8(max(-127, min(127, ($0 / scale).rounded()))) : 0 }, scale)
    }

    /// Columns of `rows` int8 values in the layout of ``vs_vector_times_i8_panels_avx2``: panels of
    /// VS_I8_PANEL columns; in a panel, row pair p holds each column's two values (a zero row
    /// pads an odd `rows`).
    static func pairedPanels(_ columns: [[Int8]], rows: Int) -> [Int8] {
        let pairs = (rows + 1) / 2, panel = Int(VS_I8_PANEL)
        var out = [Int8](repeating: 0, count: pairs * 2 * columns.count)
        for p0 in stride(from: 0, to: columns.count, by: panel) {
            let width = min(panel, columns.count - p0), base = p0 * pairs * 2
            for j in 0..<width {
                for i in 0..<rows { out[base + ((i / 2) * width + j) * 2 + i % 2] = columns[p0 + j][i] }
            }
        }
        return out
    }

    /// Trains the codebooks (and the OPQ rotation) on the residuals of `sample` against the
    /// nearest of `centroids` (or on `sample` itself without residuals). `sample` is as the lists
    /// will hold it (unit rows under cosine).
    static func train(
        _ codec: IVFCodec, sample: VectorMatrix, centroids: VectorMatrix, metric: Metric, seed: UInt64, threads: Int?
    ) throws -> IVFProductCodes {
        try codec.validate(dimension: sample.dimension, storage: .float32)
        var data = sample
        if !codec.rotation {
            // Each slice's k-means would sample 256 rows per centroid anyway: sampling them once, for
            // every slice (as FAISS does), spares residuals and slices of rows no slice reads (on
            // 50,000 MiniLM rows, 4-bit: 155 MB copied).
            var random = SplitMix64(seed: seed)
            data = try KMeans.sample(sample, count: ParameterCheck.saturatingProduct(256, 1 << codec.bits), random: &random)
        }
        if codec.residual {
            let labels = try KMeans.assign(data, to: centroids, threads: threads).labels
            let d = data.dimension
            var values = data.values
            centroids.withUnsafeBufferPointer { c in
                for (i, label) in labels.enumerated() {
                    for t in 0..<d { values[i * d + t] -= c[label * d + t] }
                }
            }
            data = try VectorMatrix(dimension: d, values: values)
        }
        guard data.count >= 1 << codec.bits else {
            throw VectorSearchError.invalidArgument(
                "training a \(codec.kind.rawValue) codec needs at least \(1 << codec.bits) training vectors, got \(data.count)")
        }
        if codec.rotation {
            let opq = try OptimizedProductQuantizer.train(
                data, subquantizers: codec.subquantizers, bits: codec.bits, settings: .init(seed: seed), threads: threads)
            return IVFProductCodes(codec: codec, quantizer: opq.quantizer, rotation: opq.rotation, centroids: centroids, metric: metric)
        }
        let quantizer = try ProductQuantizer.train(data, subquantizers: codec.subquantizers, bits: codec.bits, seed: seed, threads: threads)
        return IVFProductCodes(codec: codec, quantizer: quantizer, rotation: nil, centroids: centroids, metric: metric)
    }

    private static func listTerms(quantizer: ProductQuantizer, rotation: [Float]?, centroids: VectorMatrix, residual: Bool) -> [Float] {
        let m = quantizer.subquantizers, k = quantizer.centroidCount, ds = quantizer.subdimension, d = quantizer.dimension
        let books = quantizer.codebooks
        var norms = [Float](repeating: 0, count: m * k)
        for e in 0..<(m * k) {
            for t in 0..<ds { norms[e] += books[e * ds + t] * books[e * ds + t] }
        }
        guard residual else { return norms }
        let lists = centroids.count
        var rotated = centroids.values
        if let rotation { LinearAlgebra.multiply(lists, d, d, centroids.values, rotation, into: &rotated) }
        var terms = [Float](repeating: 0, count: lists * m * k)
        for l in 0..<lists {
            for s in 0..<m {
                for j in 0..<k {
                    var dot: Float = 0
                    for t in 0..<ds { dot += rotated[l * d + s * ds + t] * books[(s * k + j) * ds + t] }
                    terms[(l * m + s) * k + j] = norms[s * k + j] + 2 * dot
                }
            }
        }
        return terms
    }

    /// Bytes held beyond the codes: codebooks, rotation, the int8 query matrix and its scales,
    /// the centroid bounds and list terms.
    var byteCount: Int {
        queryMatrix.count + (2 * quantizer.codebooks.count + (rotation?.count ?? 0) + columnScales.count + 2 * listCount + listTerms.count) * 4
    }

    /// Floats of a query's scratch: the rotated query (d), its centroid estimates (nlist), the
    /// slice products (m·K) and one list's table (m·K).
    var scratchFloats: Int { dimension + listCount + 2 * m * centroidCount }

    // MARK: Encoding

    /// The codes (m bytes per row) of `count` rows, row i in list `lists[i]`; rows as the lists
    /// hold them (unit length under cosine). `centroids` are the index's (nlist × d): residuals are
    /// taken against them.
    func encode(_ rows: VectorMatrix, lists: [Int], centroids: UnsafePointer<Float>, threads: Int?) throws -> [UInt8] {
        let d = dimension
        var values = rows.values
        if codec.residual {
            for (i, list) in lists.enumerated() {
                for t in 0..<d { values[i * d + t] -= centroids[list * d + t] }
            }
        }
        if let rotation {
            var rotated = [Float](repeating: 0, count: values.count)
            LinearAlgebra.multiply(rows.count, d, d, values, rotation, into: &rotated)
            values = rotated
        }
        return try quantizer.encode(VectorMatrix(dimension: d, values: values), threads: threads)
    }

    // MARK: Query tables

    /// Writes the query as the codes see it (rotated) to `rotated` (d floats), followed by its
    /// estimated products with the centroids q̂·ĉ (nlist floats, ``centroidSlack``), and its slice
    /// products (qR)_s·y_sj to `products` (m·K floats). Returns ‖q − q̂‖, the query's rounding.
    @discardableResult
    func prepare(_ query: UnsafePointer<Float>, rotated: UnsafeMutablePointer<Float>, products: UnsafeMutablePointer<Float>) -> Float {
        let d = dimension, k = centroidCount, ds = subdimension
        if rotatedColumns == 0 { rotated.update(from: query, count: d) }
        var queryError: Float = 0
        withUnsafeTemporaryAllocation(of: Int16.self, capacity: d + 1) { q in
            let queryScale = vs_quantize_query_i16(query, d, q.baseAddress!, &queryError)
            queryMatrix.withUnsafeBufferPointer { a in
                columnScales.withUnsafeBufferPointer { scales in
                    multiply(q.baseAddress!, a.baseAddress, d, rotatedColumns &+ listCount, scales.baseAddress, queryScale, rotated + (d &- rotatedColumns))
                }
            }
        }
        // K is 16 or 256: whole SIMD16 runs.
        transposedBooks.withUnsafeBufferPointer { books in
            let books = UnsafeRawPointer(books.baseAddress!), out = UnsafeMutableRawPointer(products)
            for s in 0..<m {
                for j in stride(from: 0, to: k, by: 16) {
                    var sum = SIMD16<Float>()
                    for t in 0..<ds {
                        let row = (s &* ds &+ t) &* k &+ j
                        sum += SIMD16(repeating: rotated[s &* ds &+ t]) * books.loadUnaligned(fromByteOffset: row &* 4, as: SIMD16<Float>.self)
                    }
                    out.storeBytes(of: sum, toByteOffset: (s &* k &+ j) &* 4, as: SIMD16<Float>.self)
                }
            }
        }
        return queryError
    }

    /// Whether each list needs a table of its own (L2 on residuals) or one serves every list.
    var tablePerList: Bool { metric == .l2 && codec.residual }

    /// The float table (m·K distance terms) of list `list` for prepared `products`.
    @inline(__always)
    func table(list: Int, products: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        let size = m * centroidCount
        guard metric == .l2 else {
            for e in 0..<size { table[e] = -products[e] }
            return
        }
        listTerms.withUnsafeBufferPointer { terms in
            let terms = terms.baseAddress! + (codec.residual ? list * size : 0)
            for e in 0..<size { table[e] = terms[e] - 2 * products[e] }
        }
    }

    /// The distance every code of a list adds to its table sum: ‖q − c‖² (L2; ‖q‖² without
    /// residuals) or −q·c (inner product; 0 without residuals). `coarseDistance` is the list's
    /// ‖c‖² − 2q·c (L2), `centroidDot` q·c, `queryNormSquared` ‖q‖².
    @inline(__always)
    func bias(coarseDistance: Float, centroidDot: Float, queryNormSquared: Float) -> Float {
        guard codec.residual else { return metric == .l2 ? queryNormSquared : 0 }
        return metric == .l2 ? queryNormSquared + coarseDistance : -centroidDot
    }

    /// A float table of 16 entries per slice as bytes (the fast-scan table, `paddedM` × 16, the
    /// padding zero): entry = round((t − min_s) / delta) with one delta for every slice, so that a
    /// row's byte sum × delta + Σ min_s approximates its distance. Returns (Σ min_s, delta).
    func quantize(_ table: UnsafePointer<Float>, into lut: UnsafeMutablePointer<UInt8>) -> (offset: Float, delta: Float) {
        var offset: Float = 0, delta: Float = 1
        quantizeTable(table, m, paddedM, lut, &offset, &delta)
        return (offset, delta)
    }
}
