// Checks the promise that a single-query search allocates nothing: for each index kind (flat,
// IVF, HNSW), metric and a filtered and an unfiltered search, counts the heap allocations of
// single-query searches into a caller's buffer after a warm-up, and exits 1 if any search
// allocated. Usage: alloccheck [BASE.fvecs]  (default: 20,000 × 384 synthetic clustered vectors)
import CAllocationCounter
import Foundation
import VectorSearch

let arguments = CommandLine.arguments.dropFirst()
let base: VectorMatrix
if let path = arguments.first {
    base = try EmbeddingFile.read(path).vectors
} else {
    base = try SyntheticData.clustered(count: 20_000, queries: 0, dimension: 384, clusters: 64, seed: 7).base
}
let queries = try VectorMatrix(dimension: base.dimension, values: base.values.prefix(200 * base.dimension).map { $0 + 0.01 })
let attributes: [Attributes] = (0..<base.count).map { ["n": .int(Int64($0 % 100))] }
let ids = (0..<base.count).map { VectorID($0) }
let k = 10

var failures = 0
// Every kind on float32 and on int8 codes (re-ranked twice k).
let configurations: [(IndexKind, VectorStorage)] =
    IndexKind.allCases.map { ($0, .float32) } + IndexKind.allCases.map { ($0, .int8) }
for metric in [Metric.cosine, .l2] {
    for (kind, storage) in configurations {
        let index = try AnyIndex(kind: kind, dimension: base.dimension, metric: metric, storage: storage)
        if case let .ivf(ivf) = index { try ivf.train(base) }
        try index.add(base, ids: ids, attributes: attributes)
        let filter: Filter = .field("n") < 30
        // The filter is compiled once and cached; the warm-up also fills HNSW's context pool.
        for (name, filter, options) in [
            ("unfiltered", nil as Filter?, SearchOptions(rerank: 2)),
            ("filtered, planner's choice", filter, SearchOptions(rerank: 2)),
            ("filtered, index walk", filter, SearchOptions(filterStrategy: .index, rerank: 2)),
            ("filtered, exact scan", filter, SearchOptions(filterStrategy: .exact, rerank: 2)),
        ] {
            var results = [Neighbor](repeating: Neighbor(id: 0, score: 0), count: k)
            var allocations: UInt64 = 0
            try queries.withUnsafeBufferPointer { all in
                try results.withUnsafeMutableBufferPointer { out in
                    for pass in 0..<2 {
                        for q in 0..<queries.count {
                            let query = UnsafeBufferPointer(rebasing: all[(q * base.dimension)..<((q + 1) * base.dimension)])
                            if pass == 1 { vs_alloc_count_begin() }
                            _ = try index.search(query, k: k, options: options, filter: filter, into: out)
                            if pass == 1 { allocations += vs_alloc_count_end() }
                        }
                    }
                }
            }
            let verdict = allocations == 0 ? "ok" : "ALLOCATES"
            if allocations > 0 { failures += 1 }
            print("\(kind.rawValue) \(storage.rawValue) \(metric.rawValue) \(name): \(allocations) allocations in \(queries.count) searches  \(verdict)")
        }
    }
}
// The counter itself must see allocations, or the zeros above prove nothing.
vs_alloc_count_begin()
let probe = [Int](repeating: 1, count: 1000 + failures)
let seen = vs_alloc_count_end()
print("control: an array allocation counted \(seen) time(s)\(probe.count > 0 ? "" : "")")
if seen == 0 { failures += 1 }
exit(failures == 0 ? 0 : 1)
