// Micro-benchmarks behind BENCHMARKS.md. Usage:
//   vsbench kernels                      ns per distance, every SIMD level, d = 128, 384, 768, 1536
//   vsbench scan  [BASE.fvecs]           single-query flat scan vs a plain streaming read of the same buffer
//   vsbench batch [BASE.fvecs QUERY.fvecs] batched exact search vs one bare sgemm of the same shape
//   vsbench hnsw INDEX QUERY.fvecs EF [REPEATS] single-thread query passes over a saved HNSW index
//   vsbench ivf INDEX QUERY.fvecs NPROBE [REPEATS] the same over a saved IVF index
// Without files, scan and batch use 50,000 × 384 synthetic vectors and 1,000 queries.
import CBandwidth
import Foundation
import VectorSearch

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Best of `repeats` timings of `body`, in seconds.
func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var fastest = Double.infinity
    for _ in 0..<repeats {
        let start = now()
        try body()
        fastest = min(fastest, now() - start)
    }
    return fastest
}

func data(_ arguments: ArraySlice<String>) throws -> (base: VectorMatrix, queries: VectorMatrix) {
    if arguments.count >= 2 {
        return (
            try EmbeddingFile.read(arguments[arguments.startIndex]).vectors,
            try EmbeddingFile.read(arguments[arguments.startIndex + 1]).vectors
        )
    }
    if let path = arguments.first {
        let base = try EmbeddingFile.read(path).vectors
        return (base, try VectorMatrix(dimension: base.dimension, values: Array(base.values.prefix(1000 * base.dimension))))
    }
    return try SyntheticData.clustered(count: 50_000, queries: 1000, dimension: 384, clusters: 100, seed: 1)
}

func kernels() {
    print("ns per distance (one query against rows resident in L2, 64-byte aligned as the index stores them, best of 5)")
    print("level      op          d=128    d=384    d=768   d=1536")
    for level in SIMDLevel.supported {
        let k = DistanceKernels(level: level)!
        for (name, many) in [("l2 many", k.l2SquaredMany), ("dot many", k.dotMany)] {
            var line = level.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0) + name.padding(toLength: 10, withPad: " ", startingAt: 0)
            for d in [128, 384, 768, 1536] {
                let rows = (256 * 1024) / (d * 4)  // 256 KiB of rows
                let base = SyntheticDataRows.make(rows * d), query = SyntheticDataRows.make(d)
                var out = [Float](repeating: 0, count: rows)
                let reps = max(1, 2_000_000 / (rows * d / 64))
                let t = best(5) { for _ in 0..<reps { many(query, base, rows, d, &out) } }
                line += String(format: "%9.1f", t / Double(reps * rows) * 1e9)
            }
            print(line)
        }
        var line = level.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0) + "l2 pair   "
        for d in [128, 384, 768, 1536] {
            let a = SyntheticDataRows.make(d), b = SyntheticDataRows.make(d)
            var sink: Float = 0
            let reps = 200_000
            let t = best(5) { for _ in 0..<reps { sink += k.l2Squared(a, b, d) } }
            if sink == .infinity { print(sink) }
            line += String(format: "%9.1f", t / Double(reps) * 1e9)
        }
        print(line)
    }
}

enum SyntheticDataRows {
    /// `n` floats in a 64-byte-aligned buffer (never freed: a benchmark process is short-lived).
    /// Alignment matters: rows that straddle cache lines make in-cache kernels up to 1.5x slower.
    static func make(_ n: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64).bindMemory(to: Float.self, capacity: n)
        for i in 0..<n { p[i] = Float((i * 7919) % 1000) / 1000 - 0.5 }
        return p
    }
}

func scan(_ arguments: ArraySlice<String>) throws {
    let (base, queries) = try data(arguments)
    let index = try FlatIndex(dimension: base.dimension, metric: .innerProduct)
    try index.add(base)
    let bytes = Double(base.values.count * 4)
    let read = try base.withUnsafeBufferPointer { buffer in
        var sink: Float = 0
        let t = best(20) { sink += bench_stream_sum(buffer.baseAddress!, buffer.count) }
        if sink.isNaN { throw CancellationError() }
        return t
    }
    let n = min(200, queries.count)
    var perQuery = [Double]()
    for round in 0..<3 {
        let t = try best(1) { for q in 0..<n { _ = try index.search(queries[q], k: 10) } }
        if round > 0 { perQuery.append(t / Double(n)) }
    }
    let scanTime = perQuery.min()!
    print(String(format: "buffer %d × %d floats = %.1f MB", base.count, base.dimension, bytes / 1e6))
    print(String(format: "plain streaming read:  %.3f ms  %.1f GB/s", read * 1e3, bytes / read / 1e9))
    print(
        String(
            format: "single-query scan:     %.3f ms  %.1f GB/s  (%.0f%% of the streaming read, k=10, best pass of %d queries)",
            scanTime * 1e3, bytes / scanTime / 1e9, 100 * read / scanTime, n))
}

func batch(_ arguments: ArraySlice<String>) throws {
    let (base, queries) = try data(arguments)
    let d = base.dimension, n = base.count, m = queries.count
    let index = try FlatIndex(dimension: d, metric: .innerProduct)
    try index.add(base)
    var c = [Float](repeating: 0, count: m * n)
    let sgemm = best(5) {
        base.withUnsafeBufferPointer { b in
            queries.withUnsafeBufferPointer { q in
                BLAS.productWithTranspose(m: m, n: n, k: d, alpha: 1, a: q.baseAddress!, b: b.baseAddress!, c: &c, ldc: n)
            }
        }
    }
    c = []
    let flops = 2.0 * Double(m) * Double(n) * Double(d)
    print(
        String(
            format: "bare sgemm %d×%d×%d (OpenBLAS, %d threads): %.1f ms, %.0f GFLOP/s",
            m, n, d, BLAS.threads ?? 1, sgemm * 1e3, flops / sgemm / 1e9))
    for threads in [1, VectorSearchLibrary.coreCount] {
        let t = try best(5) { _ = try index.search(batch: queries, k: 10, threads: threads) }
        print(
            String(
                format: "batch search, k=10, %d thread(s): %.1f ms = %.0f queries/s (%.2fx the bare sgemm time)",
                threads, t * 1e3, Double(m) / t, t / sgemm))
    }
}

/// Single-thread query passes over a saved HNSW index: best and median queries/s of `repeats`.
func hnsw(_ arguments: ArraySlice<String>) throws {
    let args = Array(arguments)
    guard args.count >= 3, let ef = Int(args[2]) else { print("usage: vsbench hnsw INDEX QUERIES EF [REPEATS]"); return }
    try singleQueryPasses(HNSWIndex.load(from: args[0]), args, parameters: HNSWSearchParameters(ef: ef), label: "ef \(ef)")
}

func ivf(_ arguments: ArraySlice<String>) throws {
    let args = Array(arguments)
    guard args.count >= 3, let nprobe = Int(args[2]) else { print("usage: vsbench ivf INDEX QUERIES NPROBE [REPEATS] [RERANK]"); return }
    let rerank = args.count > 4 ? Int(args[4]) ?? 1 : 1
    try singleQueryPasses(
        IVFIndex.load(from: args[0]), args, parameters: IVFSearchParameters(nprobe: nprobe, rerank: rerank),
        label: "nprobe \(nprobe) rerank \(rerank)")
}

/// Passes of one query at a time over `args[1]`'s queries on one thread (best and median q/s),
/// then the best batch call on one and on two threads.
func singleQueryPasses<Index: VectorIndex>(_ index: Index, _ args: [String], parameters: Index.SearchParameters, label: String) throws {
    let queries = try EmbeddingFile.read(args[1]).vectors
    let repeats = args.count > 3 ? Int(args[3]) ?? 5 : 5
    var out = [Neighbor](repeating: Neighbor(id: 0, score: 0), count: 10)
    var rates: [Double] = []
    try queries.withUnsafeBufferPointer { all in
        try out.withUnsafeMutableBufferPointer { buffer in
            for _ in 0..<repeats {
                let t = now()
                for q in 0..<queries.count {
                    let query = UnsafeBufferPointer(rebasing: all[(q * queries.dimension)..<((q + 1) * queries.dimension)])
                    _ = try index.search(query, k: 10, parameters: parameters, filter: nil, into: buffer)
                }
                rates.append(Double(queries.count) / (now() - t))
            }
        }
    }
    rates.sort()
    for threads in [1, 2] {
        let t = try best(repeats) { _ = try index.search(batch: queries, k: 10, parameters: parameters, filter: nil, threads: threads) }
        print(String(format: "batch %d threads: %.0f q/s", threads, Double(queries.count) / t))
    }
    print(
        String(
            format: "%@: best %.0f q/s, median %.0f q/s (%d passes of %d queries, 1 thread)",
            label, rates.last!, rates[rates.count / 2], repeats, queries.count))
}

/// OPQ and plain PQ on BASE: training seconds and every row's mean squared reconstruction error,
/// one JSON line each. OPQ alternates ITERATIONS times (default 50) on a random sample of SAMPLE rows (default
/// all, at most 65,536) with STEPS k-means steps per alternation (default 1; FAISS takes 4), then
/// trains its quantizer on that sample (ENDS steps for the first and the final quantizer, default
/// 20); the peer is peers/opq_faiss.py.
func opq(_ arguments: ArraySlice<String>) throws {
    let args = Array(arguments)
    guard args.count >= 2, let m = Int(args[1]) else { throw VectorSearchError.invalidArgument("opq BASE M [ITERATIONS] [SAMPLE] [STEPS] [ENDS]") }
    let all = try EmbeddingFile.read(args[0]).vectors
    let iterations = args.count > 2 ? Int(args[2]) ?? 50 : 50
    let sample = args.count > 3 ? Int(args[3]) ?? 65_536 : 65_536
    let steps = args.count > 4 ? Int(args[4]) ?? 1 : 1
    var settings = OptimizedProductQuantizer.Settings(iterations: iterations, quantizerIterations: steps, maxTrainingPoints: sample)
    if args.count > 5, let ends = Int(args[5]) {
        settings.firstQuantizerIterations = ends
        settings.finalQuantizerIterations = ends
    }
    var start = now()
    let pq = try ProductQuantizer.train(all, subquantizers: m)
    let pqSeconds = now() - start
    print(#"{"engine": "ours", "method": "pq", "m": \#(m), "rows": \#(all.count), "seconds": \#(pqSeconds), "mse": \#(try pq.meanSquaredError(all))}"#)
    start = now()
    let trained = try OptimizedProductQuantizer.train(all, subquantizers: m, settings: settings)
    let seconds = now() - start
    print(
        #"{"engine": "ours", "method": "opq", "m": \#(m), "rows": \#(all.count), "sample": \#(min(sample, all.count)), "iterations": \#(iterations), "quantizer_iterations": \#(steps), "first_and_final_iterations": \#(settings.firstQuantizerIterations), "seconds": \#(seconds), "mse": \#(try trained.meanSquaredError(all)), "sample_errors": \#(trained.errors)}"#
    )
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "kernels": kernels()
case "scan": try scan(arguments.dropFirst())
case "batch": try batch(arguments.dropFirst())
case "hnsw": try hnsw(arguments.dropFirst())
case "ivf": try ivf(arguments.dropFirst())
case "opq": try opq(arguments.dropFirst())
default:
    print(
        "usage: vsbench kernels | scan [BASE] | batch [BASE QUERIES] | hnsw INDEX QUERIES EF [REPEATS] | ivf INDEX QUERIES NPROBE [REPEATS] [RERANK] | opq BASE M [ITERATIONS] [SAMPLE] [STEPS] [ENDS]"
    )
}
