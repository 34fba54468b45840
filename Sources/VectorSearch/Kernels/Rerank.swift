/// The last step of a search on codes (``VectorStorage``): candidates found by their code
/// distances are re-scored with the exact float32 rows, or, without re-ranking, keep their code
/// distances; either way their slots become external ids and the best `k` are published.
struct Rerank {
    let metric: Metric
    let dimension: Int
    /// The float32 rows, by slot; nil when the index keeps codes only.
    let exactRows: UnsafePointer<Float>?
    /// External id per slot.
    let ids: UnsafePointer<VectorID>
    let kernels: DistanceKernels

    /// How many code candidates a search keeps for `k` results: `rerank × k` (at most `count`),
    /// or `k` when re-ranking is off or there are no float32 rows to re-rank from.
    func candidateCount(k: Int, rerank: Int, count: Int) -> Int {
        guard rerank > 0, exactRows != nil else { return min(k, count) }
        return min(ParameterCheck.saturatingProduct(k, rerank), count)
    }

    /// Takes `found` candidates (ids are slots, best first by code distance) and writes at most
    /// `k` published results to `out` (which must not overlap `candidates`); returns their number.
    func finish(
        _ candidates: UnsafeMutablePointer<Scored>, found: Int, k: Int, rerank: Int, query: UnsafePointer<Float>,
        into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        let kept: Int
        if rerank > 0, let exactRows, found > 0 {
            kept = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: found) { slots in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: found) { distances in
                    for i in 0..<found { slots[i] = UInt32(truncatingIfNeeded: candidates[i].id) }
                    kernels.distances(metric, query, exactRows, picking: slots.baseAddress!, found, dimension, into: distances.baseAddress!)
                    var heap = TopKHeap(storage: out, capacity: k)
                    for i in 0..<found { heap.push(distance: distances[i], id: ids[Int(slots[i])]) }
                    return heap.sortBestFirst()
                }
            }
        } else {
            kept = min(k, found)
            for i in 0..<kept { out[i] = Scored(id: ids[Int(candidates[i].id)], distance: candidates[i].distance) }
        }
        metric.publish(out, count: kept, query: query, dimension: dimension, kernels: kernels)
        return kept
    }
}
