/// Scores one query against stored rows picked by slot, on the float32 rows or on their codes
/// (``VectorStorage``): graph walks read through here, so one walk serves both storages.
struct SlotScorer {
    let metric: Metric
    let dimension: Int
    let kernels: DistanceKernels
    let rows: UnsafePointer<Float>
    /// The codes to score instead of `rows`, when the index is quantized and the walk is a query.
    let codes: CodedRows?
    /// ‖q‖², for L2 on codes.
    let queryNormSquared: Float
    /// The query quantized to int8, when the walk's candidates are re-scored exactly and the
    /// CPU has the integer kernel (``CodeKernels/quantizedGather``).
    let quantized: QuantizedQuery?

    /// A scorer over float32 rows (inserts, and every walk of a float32 index).
    init(metric: Metric, dimension: Int, kernels: DistanceKernels, rows: UnsafePointer<Float>) {
        self.metric = metric
        self.dimension = dimension
        self.kernels = kernels
        self.rows = rows
        codes = nil
        queryNormSquared = 0
        quantized = nil
    }

    /// A scorer over codes for `query`; with `quantized`, through the integer kernel.
    init(
        metric: Metric, dimension: Int, kernels: DistanceKernels, rows: UnsafePointer<Float>, codes: CodedRows,
        query: UnsafePointer<Float>, quantized: QuantizedQuery? = nil
    ) {
        self.metric = metric
        self.dimension = dimension
        self.kernels = kernels
        self.rows = rows
        self.codes = codes
        queryNormSquared = metric == .l2 ? kernels.dot(query, query, dimension) : 0
        self.quantized = quantized
    }

    /// Internal distances (smaller is closer) of `query` to the `n` rows numbered `slots`.
    @inline(__always)
    func distances(_ query: UnsafePointer<Float>, picking slots: UnsafePointer<UInt32>, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        if let codes, let quantized {
            codes.distances(metric, quantized, queryNormSquared: queryNormSquared, picking: slots, n, into: out)
        } else if let codes {
            codes.distances(metric, query, queryNormSquared: queryNormSquared, picking: slots, n, into: out)
        } else {
            kernels.distances(metric, query, rows, picking: slots, n, dimension, into: out)
        }
    }

    /// The internal distance of `query` to row `slot`.
    @inline(__always)
    func distance(_ query: UnsafePointer<Float>, to slot: Int) -> Float {
        var index = UInt32(truncatingIfNeeded: slot), result: Float = 0
        distances(query, picking: &index, 1, into: &result)
        return result
    }

    /// Where row `slot`'s data starts, for prefetching.
    @inline(__always)
    func address(of slot: Int) -> UnsafeRawPointer {
        if let codes { return codes.codes + slot &* codes.dimension &* codes.kernels.storage.bytesPerComponent }
        return UnsafeRawPointer(rows + slot &* dimension)
    }
}
