import CVectorKernels

/// How ``KMeans`` picks its first centroids.
public enum KMeansInitialization: String, Sendable, CaseIterable {
    /// Distinct training points drawn at random (FAISS's default): fast.
    case random
    /// k-means++ (Arthur & Vassilvitskii): each next centroid drawn with probability proportional
    /// to the squared distance to the nearest one so far. Better starts, k passes over the sample.
    case kMeansPlusPlus = "kmeans++"
}

/// Parameters of ``KMeans/train(_:parameters:threads:progress:)``. Defaults follow FAISS's
/// `ClusteringParameters`: 25 iterations, at most 256 training points per centroid, random start.
public struct KMeansParameters: Sendable, Equatable {
    /// Number of centroids.
    public var k: Int
    /// Lloyd iterations.
    public var iterations: Int
    /// Training uses a random sample of at most `k × maxPointsPerCentroid` points.
    public var maxPointsPerCentroid: Int
    public var initialization: KMeansInitialization
    /// Seed of the sample, the start and empty-cluster repair: same seed, same centroids.
    public var seed: UInt64
    /// Spherical k-means: centroids are scaled to unit length after every update (for unit
    /// vectors compared by cosine, where it finds tighter clusters).
    public var spherical: Bool

    public init(
        k: Int, iterations: Int = 25, maxPointsPerCentroid: Int = 256,
        initialization: KMeansInitialization = .random, seed: UInt64 = 1234, spherical: Bool = false
    ) throws {
        try ParameterCheck.atLeast(1, "k-means k", k)
        try ParameterCheck.atLeast(1, "k-means iterations", iterations)
        try ParameterCheck.atLeast(1, "k-means maxPointsPerCentroid", maxPointsPerCentroid)
        self.k = k
        self.iterations = iterations
        self.maxPointsPerCentroid = maxPointsPerCentroid
        self.initialization = initialization
        self.seed = seed
        self.spherical = spherical
    }
}

/// The outcome of training: centroids and the objective after each iteration.
public struct KMeansResult: Sendable {
    /// `k` rows.
    public var centroids: VectorMatrix
    /// Sum of squared distances of the training points to their nearest centroid, after each
    /// iteration's assignment step (so entry i is the objective of the centroids of step i).
    public var inertia: [Double]
    /// Number of training points used (after sampling).
    public var trainingCount: Int
    /// Whether the iterations stopped early because an assignment step changed no point's
    /// centroid and left none empty: the centroids were then a fixed point, and more
    /// iterations could not move them. `inertia.count` is the number of iterations run.
    public var converged: Bool = false
}

/// Lloyd's k-means with L2, for clustering embeddings and for training IVF indexes.
///
/// The assignment step is a blocked matrix product (‖x‖² − 2x·c + ‖c‖², sgemm) spread over the
/// cores; the update step sums points per cluster on every core. Clusters that end up empty are
/// repaired by splitting a large one, as FAISS does.
///
/// ```swift
/// let result = try KMeans.train(embeddings, parameters: KMeansParameters(k: 100))
/// let labels = try KMeans.assign(embeddings, to: result.centroids)
/// ```
public enum KMeans {
    /// Trains `parameters.k` centroids on `data` (rows), using at most `threads` threads (nil:
    /// every core). `progress(iteration, inertia)` is called after each iteration.
    public static func train(
        _ data: VectorMatrix, parameters: KMeansParameters, threads: Int? = nil,
        progress: ((Int, Double) -> Void)? = nil
    ) throws -> KMeansResult {
        try ParameterCheck.threads(threads)
        guard data.count >= parameters.k else {
            throw VectorSearchError.invalidArgument("k-means needs at least k = \(parameters.k) points, got \(data.count)")
        }
        if let (row, column) = data.firstNonFinite() { throw VectorSearchError.nonFiniteValue(row: row, column: column) }
        return try train(checked: data, parameters: parameters, threads: threads, progress: progress)
    }

    /// ``train(_:parameters:threads:progress:)`` on data its caller has already checked (at least
    /// k rows, all finite).
    static func train(
        checked data: VectorMatrix, parameters: KMeansParameters, threads: Int?, progress: ((Int, Double) -> Void)?
    ) throws -> KMeansResult {
        var random = SplitMix64(seed: parameters.seed)
        let sample = try Self.sample(
            data, count: min(data.count, ParameterCheck.saturatingProduct(parameters.k, parameters.maxPointsPerCentroid)), random: &random)
        let start: VectorMatrix
        switch parameters.initialization {
        case .random: start = try randomStart(sample, k: parameters.k, random: &random)
        case .kMeansPlusPlus: start = try plusPlusStart(sample, k: parameters.k, random: &random)
        }
        var result = try lloyd(
            sample, from: start, iterations: parameters.iterations, spherical: parameters.spherical, threads: threads,
            random: &random, progress: progress)
        result.trainingCount = sample.count
        return result
    }

    /// Runs `iterations` Lloyd iterations on all of `data` from the given centroids (no sampling).
    public static func refine(
        _ data: VectorMatrix, from centroids: VectorMatrix, iterations: Int, threads: Int? = nil, seed: UInt64 = 1234
    ) throws -> KMeansResult {
        guard centroids.dimension == data.dimension else {
            throw VectorSearchError.dimensionMismatch(expected: data.dimension, actual: centroids.dimension, row: nil)
        }
        try ParameterCheck.atLeast(1, "k-means iterations", iterations)
        try ParameterCheck.atLeast(1, "centroids", centroids.count)
        try ParameterCheck.threads(threads)
        var random = SplitMix64(seed: seed)
        return try lloyd(data, from: centroids, iterations: iterations, spherical: false, threads: threads, random: &random, progress: nil)
    }

    /// The nearest centroid (row number) of every row of `data`, and its squared distance.
    public static func assign(_ data: VectorMatrix, to centroids: VectorMatrix, threads: Int? = nil) throws -> (labels: [Int], distances: [Float]) {
        guard centroids.dimension == data.dimension else {
            throw VectorSearchError.dimensionMismatch(expected: data.dimension, actual: centroids.dimension, row: nil)
        }
        try ParameterCheck.threads(threads)
        let nearest = try nearestCentroids(data, centroids, threads: threads ?? Parallel.coreCount)
        return (nearest.map { Int($0.id) }, nearest.map(\.distance))
    }

    // MARK: Steps

    static func nearestCentroids(_ data: VectorMatrix, _ centroids: VectorMatrix, threads: Int) throws -> [Scored] {
        if let nearest = nearestForShortRows(data, centroids, threads: threads) { return nearest }
        let d = data.dimension, kernels = DistanceKernels.best
        var norms = [Float](repeating: 0, count: centroids.count)
        centroids.withUnsafeBufferPointer { c in
            for i in 0..<centroids.count { norms[i] = kernels.dot(c.baseAddress! + i * d, c.baseAddress! + i * d, d) }
        }
        var out = [Scored](repeating: Scored(id: 0, distance: 0), count: data.count)
        var counts = [Int](repeating: 0, count: data.count)
        data.withUnsafeBufferPointer { x in
            centroids.withUnsafeBufferPointer { c in
                norms.withUnsafeBufferPointer { n in
                    out.withUnsafeMutableBufferPointer { o in
                        counts.withUnsafeMutableBufferPointer { cnt in
                            ExactSearch(
                                base: c.baseAddress!, count: centroids.count, dimension: d, metric: .l2,
                                normsSquared: n.baseAddress, ids: nil, kernels: kernels
                            )
                            .search(
                                queries: x.baseAddress!, queryCount: data.count, k: 1, threads: threads,
                                results: o.baseAddress!, counts: cnt.baseAddress!)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Rows of at most 64 values (product-quantizer slices) against centroids in whole blocks of
    /// 16 (AVX-512) or 8 (AVX2): the register-blocked kernel, which beats a matrix product with so
    /// little work per row (measured: OPQ training on 384-d MiniLM vectors, 48 slices). Nil when the
    /// CPU or the shapes do not suit it; `level` forces a kernel for tests.
    static func nearestForShortRows(
        _ data: VectorMatrix, _ centroids: VectorMatrix, threads: Int, level: SIMDLevel = .detected
    ) -> [Scored]? {
        #if arch(x86_64)
        let d = data.dimension, k = centroids.count, n = data.count
        guard d <= 64, n > 0, k > 0, k <= Int(UInt32.max) else { return nil }
        typealias Kernel = (
            UnsafePointer<Float>?, Int, Int, UnsafePointer<Float>?, UnsafePointer<Float>?, Int, UnsafeMutablePointer<UInt32>?,
            UnsafeMutablePointer<Float>?
        ) -> Void
        let kernel: Kernel
        switch level {
        case .avx512 where k % 16 == 0: kernel = vs_nearest_centroid_avx512
        case .avx512 where k % 8 == 0, .avx2 where k % 8 == 0: kernel = vs_nearest_centroid_avx2
        default: return nil
        }
        // Centroids transposed (d × k), so each step loads a run of centroids for one dimension.
        var transposed = [Float](repeating: 0, count: d * k), norms = [Float](repeating: 0, count: k)
        centroids.withUnsafeBufferPointer { c in
            for j in 0..<k {
                for t in 0..<d {
                    transposed[t * k + j] = c[j * d + t]
                    norms[j] += c[j * d + t] * c[j * d + t]
                }
            }
        }
        var labels = [UInt32](repeating: 0, count: n), distances = [Float](repeating: 0, count: n)
        data.withUnsafeBufferPointer { x in
            transposed.withUnsafeBufferPointer { ct in
                norms.withUnsafeBufferPointer { norms in
                    labels.withUnsafeMutableBufferPointer { labels in
                        distances.withUnsafeMutableBufferPointer { distances in
                            let (labels, distances) = (UnsafeSendable(labels), UnsafeSendable(distances))
                            Parallel.forEachChunk(count: n, workers: threads) { _, range in
                                kernel(
                                    x.baseAddress! + range.lowerBound * d, range.count, d, ct.baseAddress, norms.baseAddress, k,
                                    labels.value.baseAddress! + range.lowerBound, distances.value.baseAddress! + range.lowerBound)
                            }
                        }
                    }
                }
            }
        }
        return (0..<n).map { Scored(id: UInt64(labels[$0]), distance: distances[$0]) }
        #else
        return nil
        #endif
    }

    private static func lloyd(
        _ data: VectorMatrix, from start: VectorMatrix, iterations: Int, spherical: Bool, threads: Int?,
        random: inout SplitMix64, progress: ((Int, Double) -> Void)?
    ) throws -> KMeansResult {
        let k = start.count, d = data.dimension, n = data.count
        let workers = max(1, min(threads ?? Parallel.coreCount, n))
        var centroids = start.values
        var inertia: [Double] = []
        var previous: [Scored] = [], previousHadEmpty = true
        for iteration in 0..<iterations {
            let nearest = try nearestCentroids(data, try VectorMatrix(dimension: d, values: centroids), threads: workers)
            inertia.append(nearest.reduce(0.0) { $0 + Double($1.distance) })
            progress?(iteration + 1, inertia.last!)
            // The same assignment as the last step, which kept every cluster: the update would
            // give the same centroids again.
            if !previousHadEmpty, nearest.elementsEqual(previous, by: { $0.id == $1.id }) {
                var result = KMeansResult(centroids: try VectorMatrix(dimension: d, values: centroids), inertia: inertia, trainingCount: n)
                result.converged = true
                return result
            }
            previous = nearest
            // Update: per-worker sums, then one reduction (no locks, no atomics).
            var sums = [Double](repeating: 0, count: workers * k * d)
            var sizes = [Int](repeating: 0, count: workers * k)
            data.withUnsafeBufferPointer { x in
                sums.withUnsafeMutableBufferPointer { s in
                    sizes.withUnsafeMutableBufferPointer { z in
                        let x = UnsafeSendable(x.baseAddress!), s = UnsafeSendable(s.baseAddress!), z = UnsafeSendable(z.baseAddress!)
                        nearest.withUnsafeBufferPointer { nb in
                            let nb = UnsafeSendable(nb.baseAddress!)
                            Parallel.forEachChunk(count: n, workers: workers) { worker, range in
                                let mySums = s.value + worker * k * d, mySizes = z.value + worker * k
                                for i in range {
                                    let c = Int(nb.value[i].id)
                                    mySizes[c] += 1
                                    let row = x.value + i * d, sum = mySums + c * d
                                    for j in 0..<d { sum[j] += Double(row[j]) }
                                }
                            }
                        }
                    }
                }
            }
            var totals = [Int](repeating: 0, count: k)
            for c in 0..<k {
                for w in 0..<workers { totals[c] += sizes[w * k + c] }
            }
            previousHadEmpty = totals.contains(0)
            for c in 0..<k {
                guard totals[c] > 0 else { continue }
                for j in 0..<d {
                    var sum = 0.0
                    for w in 0..<workers { sum += sums[(w * k + c) * d + j] }
                    centroids[c * d + j] = Float(sum / Double(totals[c]))
                }
            }
            repairEmpty(&centroids, sizes: &totals, dimension: d, random: &random)
            if spherical {
                centroids.withUnsafeMutableBufferPointer { c in
                    for i in 0..<k where totals[i] > 0 { DistanceKernels.best.normalize(c.baseAddress! + i * d, d) }
                }
            }
        }
        return KMeansResult(centroids: try VectorMatrix(dimension: d, values: centroids), inertia: inertia, trainingCount: n)
    }

    /// An empty cluster takes half of a large one, chosen with probability proportional to its
    /// size: both get its centroid, nudged in opposite directions (FAISS's `split_clusters`).
    private static func repairEmpty(_ centroids: inout [Float], sizes: inout [Int], dimension d: Int, random: inout SplitMix64) {
        let total = sizes.reduce(0, +)
        let epsilon: Float = 1 / 1024
        for empty in sizes.indices where sizes[empty] == 0 {
            var pick = Int(random.next() % UInt64(max(total, 1)))
            var donor = 0
            while donor < sizes.count - 1, pick >= sizes[donor] {
                pick -= sizes[donor]
                donor += 1
            }
            guard sizes[donor] > 1 else { continue }
            for j in 0..<d {
                let value = centroids[donor * d + j]
                let nudge = (j % 2 == 0 ? 1 : -1) * epsilon
                centroids[empty * d + j] = value * (1 + nudge)
                centroids[donor * d + j] = value * (1 - nudge)
            }
            sizes[empty] = sizes[donor] / 2
            sizes[donor] -= sizes[empty]
        }
    }

    static func sample(_ data: VectorMatrix, count: Int, random: inout SplitMix64) throws -> VectorMatrix {
        guard count < data.count else { return data }
        let rows = distinctRows(count, from: data.count, random: &random).sorted()
        var values = [Float]()
        values.reserveCapacity(count * data.dimension)
        data.withUnsafeBufferPointer { x in
            for row in rows { values.append(contentsOf: UnsafeBufferPointer(start: x.baseAddress! + row * data.dimension, count: data.dimension)) }
        }
        return try VectorMatrix(dimension: data.dimension, values: values)
    }

    /// `count` distinct numbers from 0..<n (partial Fisher–Yates over a sparse permutation).
    static func distinctRows(_ count: Int, from n: Int, random: inout SplitMix64) -> [Int] {
        var swapped: [Int: Int] = [:]
        var rows = [Int]()
        rows.reserveCapacity(count)
        for i in 0..<count {
            let j = i + Int(random.next() % UInt64(n - i))
            let atJ = swapped[j] ?? j
            swapped[j] = swapped[i] ?? i
            rows.append(atJ)
        }
        return rows
    }

    private static func randomStart(_ data: VectorMatrix, k: Int, random: inout SplitMix64) throws -> VectorMatrix {
        let rows = distinctRows(k, from: data.count, random: &random)
        return try VectorMatrix(dimension: data.dimension, values: rows.flatMap { data[$0] })
    }

    private static func plusPlusStart(_ data: VectorMatrix, k: Int, random: inout SplitMix64) throws -> VectorMatrix {
        let n = data.count, d = data.dimension, kernels = DistanceKernels.best
        var chosen = [Int(random.next() % UInt64(n))]
        var nearest = [Float](repeating: .infinity, count: n)
        var scratch = [Float](repeating: 0, count: n)
        data.withUnsafeBufferPointer { x in
            while chosen.count < k {
                let centre = x.baseAddress! + chosen.last! * d
                kernels.l2SquaredMany(centre, x.baseAddress!, n, d, &scratch)
                var total = 0.0
                for i in 0..<n {
                    nearest[i] = min(nearest[i], scratch[i])
                    total += Double(nearest[i])
                }
                guard total > 0 else {  // every point sits on a centroid: take any unused row
                    chosen.append((0..<n).first { !chosen.contains($0) }!)
                    continue
                }
                var target = Double(random.next() >> 11) / Double(1 << 53) * total
                var pick = n - 1
                for i in 0..<n {
                    target -= Double(nearest[i])
                    if target < 0 {
                        pick = i
                        break
                    }
                }
                chosen.append(pick)
            }
        }
        return try VectorMatrix(dimension: d, values: chosen.flatMap { data[$0] })
    }
}
