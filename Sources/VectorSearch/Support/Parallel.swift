import CVectorKernels
import Dispatch

/// Splits work over threads: one contiguous chunk per worker, so chunk `i` owns scratch `i`.
package enum Parallel {
    /// Number of cores this process may run on (respects CPU affinity: taskset, containers).
    package static let coreCount = max(1, Int(vs_available_cores()))

    /// Calls `body(worker, range)` for `workers` contiguous parts of `0..<count`, in parallel.
    package static func forEachChunk(count: Int, workers: Int, _ body: (Int, Range<Int>) -> Void) {
        let workers = max(1, min(workers, count))
        if workers == 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = count * worker / workers
                let end = count * (worker + 1) / workers
                shared.value(worker, start..<end)
            }
        }
    }
}
