/// Product quantization (Jégou et al., 2011): a vector is cut into `subquantizers` equal slices,
/// each replaced by the nearest of 2^`bits` centroids learned for that slice by k-means, so a
/// code is one byte per slice (for 384-d MiniLM vectors and 48 slices, 48 bytes instead of
/// 1,536). Distances from a float32 query to coded vectors are sums of per-slice tables
/// (asymmetric distance computation): one table lookup per slice.
///
/// ```swift
/// let pq = try ProductQuantizer.train(sample, subquantizers: 48)
/// let codes = try pq.encode(vectors)            // 48 bytes per row
/// let error = try pq.meanSquaredError(vectors)  // what the codes lose
/// ```
public struct ProductQuantizer: Sendable, Equatable {
    public let dimension: Int
    /// Number of slices (m); it divides ``dimension``.
    public let subquantizers: Int
    /// Bits per slice code, 1 to 8 (each stored in one byte).
    public let bits: Int
    /// The centroids: slice j's 2^bits centroids of ``subdimension`` values each, slice after
    /// slice (m × 2^bits × dimension/m values).
    public let codebooks: [Float]

    /// Centroids per slice: 2^bits.
    public var centroidCount: Int { 1 << bits }
    /// Values per slice.
    public var subdimension: Int { dimension / subquantizers }
    /// Bytes per coded vector.
    public var codeSize: Int { subquantizers }

    public init(dimension: Int, subquantizers: Int, bits: Int, codebooks: [Float]) throws {
        try Self.checkShape(dimension: dimension, subquantizers: subquantizers, bits: bits)
        guard codebooks.count == (subquantizers << bits) * (dimension / subquantizers) else {
            throw VectorSearchError.invalidArgument(
                "a product quantizer of \(subquantizers) × 2^\(bits) centroids in \(dimension) dimensions holds \((subquantizers << bits) * (dimension / subquantizers)) values, got \(codebooks.count)"
            )
        }
        guard codebooks.allSatisfy(\.isFinite) else { throw VectorSearchError.invalidArgument("a product quantizer centroid has a non-finite value") }
        self.dimension = dimension
        self.subquantizers = subquantizers
        self.bits = bits
        self.codebooks = codebooks
    }

    static func checkShape(dimension: Int, subquantizers m: Int, bits: Int) throws {
        try ParameterCheck.atLeast(1, "dimension", dimension)
        try ParameterCheck.atLeast(1, "subquantizers", m)
        guard dimension % m == 0 else {
            throw VectorSearchError.invalidParameter(
                name: "subquantizers", value: "\(m)", requirement: "a divisor of the dimension \(dimension)")
        }
        guard (1...8).contains(bits) else { throw VectorSearchError.invalidParameter(name: "bits", value: "\(bits)", requirement: "1 to 8") }
    }

    /// Learns the centroids of every slice by k-means (`iterations` Lloyd steps, at most 256
    /// training points per centroid, as FAISS), the slices trained in parallel on `threads`
    /// threads (nil: every core). Needs at least 2^bits rows, all finite.
    public static func train(
        _ data: VectorMatrix, subquantizers m: Int, bits: Int = 8, iterations: Int = 25, seed: UInt64 = 1234, threads: Int? = nil
    ) throws -> ProductQuantizer {
        try checkShape(dimension: data.dimension, subquantizers: m, bits: bits)
        try ParameterCheck.atLeast(1, "iterations", iterations)
        try ParameterCheck.threads(threads)
        guard data.count >= 1 << bits else {
            throw VectorSearchError.invalidArgument("training \(1 << bits) centroids per slice needs at least \(1 << bits) vectors, got \(data.count)")
        }
        if let (row, column) = data.firstNonFinite() { throw VectorSearchError.nonFiniteValue(row: row, column: column) }
        let slices = try slices(of: data, m)
        let books = try perSlice(m, threads: threads) { j in
            let parameters = try KMeansParameters(k: 1 << bits, iterations: iterations, seed: seed &+ UInt64(j))
            return try KMeans.train(checked: slices[j], parameters: parameters, threads: 1, progress: nil).centroids
        }
        return try ProductQuantizer(dimension: data.dimension, subquantizers: m, bits: bits, codebooks: books.flatMap(\.values))
    }

    /// The quantizer after `iterations` more Lloyd steps of every slice on all of `data`, from
    /// its centroids (OPQ's warm start).
    func refined(on data: VectorMatrix, iterations: Int, threads: Int?) throws -> ProductQuantizer {
        guard iterations > 0 else { return self }
        let slices = try Self.slices(of: data, subquantizers)
        let books = try Self.perSlice(subquantizers, threads: threads) { j in
            try KMeans.refine(slices[j], from: codebook(j), iterations: iterations, threads: 1).centroids
        }
        return try ProductQuantizer(dimension: dimension, subquantizers: subquantizers, bits: bits, codebooks: books.flatMap(\.values))
    }

    /// One Lloyd step of every slice on `data`: the codes of its rows under the current
    /// centroids, and the quantizer whose centroids are the means of the rows each code took (a
    /// centroid no row took is kept). OPQ's alternations take one such step each.
    func lloydStep(on data: VectorMatrix, threads: Int?) throws -> (quantizer: ProductQuantizer, codes: [UInt8]) {
        let m = subquantizers, ds = subdimension, k = centroidCount, n = data.count
        let slices = try Self.slices(of: data, m)
        let steps = try Self.perSlice(m, threads: threads) { j -> (labels: [UInt8], centroids: [Float]) in
            let nearest = try KMeans.nearestCentroids(slices[j], codebook(j), threads: 1)
            var sums = [Double](repeating: 0, count: k * ds), counts = [Int](repeating: 0, count: k)
            slices[j].withUnsafeBufferPointer { x in
                for i in 0..<n {
                    let c = Int(nearest[i].id)
                    counts[c] += 1
                    for t in 0..<ds { sums[c * ds + t] += Double(x[i * ds + t]) }
                }
            }
            var centroids = Array(codebooks[(j * k * ds)..<((j + 1) * k * ds)])
            for c in 0..<k where counts[c] > 0 {
                for t in 0..<ds { centroids[c * ds + t] = Float(sums[c * ds + t] / Double(counts[c])) }
            }
            return (nearest.map { UInt8(truncatingIfNeeded: $0.id) }, centroids)
        }
        var codes = [UInt8](repeating: 0, count: n * m)
        for j in 0..<m {
            for i in 0..<n { codes[i * m + j] = steps[j].labels[i] }
        }
        let quantizer = try ProductQuantizer(
            dimension: dimension, subquantizers: m, bits: bits, codebooks: steps.flatMap(\.centroids))
        return (quantizer, codes)
    }

    /// Slice j's centroids as rows.
    func codebook(_ j: Int) throws -> VectorMatrix {
        let size = centroidCount * subdimension
        return try VectorMatrix(dimension: subdimension, values: Array(codebooks[(j * size)..<((j + 1) * size)]))
    }

    /// The code of every row: `codeSize` bytes per row, slice j's centroid number at byte j.
    public func encode(_ data: VectorMatrix, threads: Int? = nil) throws -> [UInt8] {
        guard data.dimension == dimension else { throw VectorSearchError.dimensionMismatch(expected: dimension, actual: data.dimension, row: nil) }
        if let (row, column) = data.firstNonFinite() { throw VectorSearchError.nonFiniteValue(row: row, column: column) }
        try ParameterCheck.threads(threads)
        let n = data.count, m = subquantizers
        guard n > 0 else { return [] }
        let slices = try Self.slices(of: data, m)
        let labels = try Self.perSlice(m, threads: threads) { j in
            try KMeans.nearestCentroids(slices[j], codebook(j), threads: 1).map { UInt8(truncatingIfNeeded: $0.id) }
        }
        var codes = [UInt8](repeating: 0, count: n * m)
        for j in 0..<m {
            for i in 0..<n { codes[i * m + j] = labels[j][i] }
        }
        return codes
    }

    /// The vectors `codes` stand for (each slice its centroid).
    public func decode(_ codes: [UInt8]) throws -> VectorMatrix {
        let m = subquantizers, ds = subdimension
        guard codes.count % m == 0 else {
            throw VectorSearchError.invalidArgument("\(codes.count) code bytes are not whole codes of \(m) bytes")
        }
        let n = codes.count / m
        var values = [Float](repeating: 0, count: n * dimension)
        for i in 0..<n {
            for j in 0..<m {
                let code = Int(codes[i * m + j])
                guard code < centroidCount else {
                    throw VectorSearchError.invalidArgument("code \(code) of row \(i), slice \(j) is beyond the \(centroidCount) centroids")
                }
                let source = (j * centroidCount + code) * ds
                for c in 0..<ds { values[i * dimension + j * ds + c] = codebooks[source + c] }
            }
        }
        return try VectorMatrix(dimension: dimension, values: values)
    }

    /// The mean over rows of the squared distance between a row and its decoded code.
    public func meanSquaredError(_ data: VectorMatrix, threads: Int? = nil) throws -> Double {
        Self.meanSquaredDistance(data, try decode(try encode(data, threads: threads)))
    }

    /// The mean over rows of the squared distance between row i of `a` and row i of `b`.
    static func meanSquaredDistance(_ a: VectorMatrix, _ b: VectorMatrix) -> Double {
        var total = 0.0
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                for i in 0..<x.count {
                    let difference = Double(x[i] - y[i])
                    total += difference * difference
                }
            }
        }
        return a.count > 0 ? total / Double(a.count) : 0
    }

    /// The table of a query's asymmetric distances: for slice j and centroid c, at j·2^bits + c,
    /// the squared L2 distance of the query's slice to the centroid (`.l2`) or their inner
    /// product (`.innerProduct`, `.cosine` on unit-length rows). A coded vector's distance or
    /// score is the sum of its slices' entries.
    public func distanceTable(_ query: [Float], metric: Metric) throws -> [Float] {
        guard query.count == dimension else { throw VectorSearchError.dimensionMismatch(expected: dimension, actual: query.count, row: nil) }
        let ds = subdimension, k = centroidCount
        var table = [Float](repeating: 0, count: subquantizers * k)
        for j in 0..<subquantizers {
            for c in 0..<k {
                let base = (j * k + c) * ds
                var sum: Float = 0
                for t in 0..<ds {
                    let q = query[j * ds + t], y = codebooks[base + t]
                    sum += metric == .l2 ? (q - y) * (q - y) : q * y
                }
                table[j * k + c] = sum
            }
        }
        return table
    }

    /// `data`'s columns cut into `m` slices, each a matrix of its own. Row by row, into one
    /// slice-major buffer: each row is read once and each slice written in order (slice by slice,
    /// every row was read m times, from memory once the rows outgrow the cache).
    static func slices(of data: VectorMatrix, _ m: Int) throws -> [VectorMatrix] {
        let d = data.dimension, ds = d / m, n = data.count, size = n * ds
        var sliced = [Float](repeating: 0, count: n * d)
        data.withUnsafeBufferPointer { x in
            sliced.withUnsafeMutableBufferPointer { out in
                for i in 0..<n {
                    let row = x.baseAddress! + i &* d
                    for j in 0..<m {
                        let from = row + j &* ds, to = out.baseAddress! + j &* size + i &* ds
                        for c in 0..<ds { to[c] = from[c] }
                    }
                }
            }
        }
        return try (0..<m).map { j in try VectorMatrix(dimension: ds, values: Array(sliced[(j * size)..<((j + 1) * size)])) }
    }

    /// `body(j)` for every slice, slices spread over the threads; the first error is thrown.
    static func perSlice<T>(_ m: Int, threads: Int?, _ body: (Int) throws -> T) throws -> [T] {
        var results = [T?](repeating: nil, count: m)
        var errors = [(any Error)?](repeating: nil, count: m)
        results.withUnsafeMutableBufferPointer { out in
            errors.withUnsafeMutableBufferPointer { failed in
                let (out, failed) = (UnsafeSendable(out), UnsafeSendable(failed))
                Parallel.forEachChunk(count: m, workers: threads ?? Parallel.coreCount) { _, range in
                    for j in range {
                        do { out.value[j] = try body(j) } catch { failed.value[j] = error }
                    }
                }
            }
        }
        if let error = errors.lazy.compactMap({ $0 }).first { throw error }
        return results.map { $0! }
    }
}
