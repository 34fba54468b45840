/// An internal search candidate: what it scores (an external id in a result heap, a list
/// number in IVF's coarse step) and its distance, smaller is closer. The public ``Neighbor``
/// always means an external id and a public score; ``Metric/publish(_:count:query:dimension:kernels:)``
/// turns one into the other in place, which is why the two have the same layout.
struct Scored: Equatable {
    var id: UInt64
    var distance: Float
}

/// Where a block of candidates' ids come from: candidate `j` is `ids[slots[j]]` (IVF list rows,
/// named by slot), `slots[j]` itself (no ids: candidates to re-rank by slot), `ids[j]`
/// (contiguous rows with ids) or `first + j` (row numbers).
struct CandidateIDs {
    var ids: UnsafePointer<VectorID>?
    var slots: UnsafePointer<UInt32>?
    var first: VectorID = 0

    @inline(__always)
    subscript(j: Int) -> VectorID {
        if let slots { return ids.map { $0[Int(slots[j])] } ?? VectorID(slots[j]) }
        if let ids { return ids[j] }
        return first &+ VectorID(j)
    }

    /// The ids of the candidates from `j` on.
    @inline(__always)
    func dropping(_ j: Int) -> CandidateIDs {
        if let slots { return CandidateIDs(ids: ids, slots: slots + j) }
        if let ids { return CandidateIDs(ids: ids + j) }
        return CandidateIDs(first: first &+ VectorID(j))
    }
}

/// The `capacity` best candidates of a long stream in which many enter, kept the way FAISS's
/// fast scan keeps them: appended to a buffer of ``bufferFactor`` × the capacity, which, when
/// full, is cut back to the best `capacity` by selection. An append is a store where a heap push
/// is a chain of hard-to-predict compares (measured on an IVF-PQ scan at nprobe 24 keeping 40:
/// the heap took a fifth of the query). Keeps the same candidates as ``TopKHeap`` (ties on
/// distance go to the smaller id), in no particular order.
struct TopKReservoir {
    let storage: UnsafeMutablePointer<Scored>
    let capacity: Int
    private(set) var count = 0
    /// Candidates with a distance above this cannot enter; equal ones can. It tightens only when
    /// the buffer is cut back, so it is looser than a heap's.
    private(set) var threshold = Float.infinity

    /// Buffer size over capacity: 4 gave 2 % more queries/s than 2 on that scan (fewer cuts, each
    /// over more candidates).
    static let bufferFactor = 4

    /// `storage` holds `bufferFactor × capacity` candidates.
    init(storage: UnsafeMutablePointer<Scored>, capacity: Int) {
        self.storage = storage
        self.capacity = capacity
    }

    @inline(__always)
    mutating func push(distance: Float, id: VectorID) {
        guard distance <= threshold, capacity > 0 else { return }
        storage[count] = Scored(id: id, distance: distance)
        count &+= 1
        if count == Self.bufferFactor &* capacity { cut() }
    }

    /// The best `capacity` in the buffer's first places, in no order; returns their number.
    mutating func finish() -> Int {
        if count > capacity { cut() }
        return count
    }

    /// Cuts the buffer back to the best `capacity`; the threshold becomes the worst of them.
    private mutating func cut() {
        Self.partition(storage, count: count, keeping: capacity)
        count = capacity
        var worst = storage[0].distance
        for i in 1..<capacity where storage[i].distance > worst { worst = storage[i].distance }
        threshold = worst
    }

    /// Moves the best `keep` of `count` candidates (by distance, then id) to the first places, in
    /// no order: quickselect, O(count).
    static func partition(_ storage: UnsafeMutablePointer<Scored>, count: Int, keeping keep: Int) {
        guard keep > 0, keep < count else { return }
        @inline(__always) func swapAt(_ a: Int, _ b: Int) {
            let t = storage[a]
            storage[a] = storage[b]
            storage[b] = t
        }
        var low = 0, high = count &- 1
        let target = keep &- 1  // the place of the worst kept
        while low < high {
            // Median of three as the pivot, then Hoare's partition.
            let middle = low &+ (high &- low) / 2
            if TopKHeap.isWorse(storage[low], than: storage[middle]) { swapAt(low, middle) }
            if TopKHeap.isWorse(storage[middle], than: storage[high]) { swapAt(middle, high) }
            if TopKHeap.isWorse(storage[low], than: storage[middle]) { swapAt(low, middle) }
            let pivot = storage[middle]
            var i = low, j = high
            while i <= j {
                while TopKHeap.isWorse(pivot, than: storage[i]) { i &+= 1 }
                while TopKHeap.isWorse(storage[j], than: pivot) { j &-= 1 }
                if i <= j {
                    swapAt(i, j)
                    i &+= 1
                    j &-= 1
                }
            }
            if target <= j {
                high = j
            } else if target >= i {
                low = i
            } else {
                break
            }
        }
    }
}

/// A bounded max-heap of the `capacity` best (smallest-distance) candidates, kept in memory
/// the caller owns, so a query allocates nothing. The worst kept candidate sits at the root.
/// Ties on distance are broken by the smaller id, so results are deterministic.
struct TopKHeap {
    let storage: UnsafeMutablePointer<Scored>
    let capacity: Int
    private(set) var count = 0

    init(storage: UnsafeMutablePointer<Scored>, capacity: Int) {
        self.storage = storage
        self.capacity = capacity
    }

    /// Candidates with a distance above this cannot enter; equal ones can (if their id is smaller).
    @inline(__always)
    var threshold: Float { count < capacity ? .infinity : storage[0].distance }

    @inline(__always)
    static func isWorse(_ a: Scored, than b: Scored) -> Bool {
        a.distance > b.distance || (a.distance == b.distance && a.id > b.id)
    }

    @inline(__always)
    mutating func push(distance: Float, id: VectorID) {
        let candidate = Scored(id: id, distance: distance)
        if count < capacity {
            var i = count
            count &+= 1
            while i > 0 {
                let parent = (i &- 1) >> 1
                guard Self.isWorse(candidate, than: storage[parent]) else { break }
                storage[i] = storage[parent]
                i = parent
            }
            storage[i] = candidate
        } else if capacity > 0, Self.isWorse(storage[0], than: candidate) {
            siftDown(candidate, from: 0, end: count)
        }
    }

    @inline(__always)
    private func siftDown(_ element: Scored, from start: Int, end: Int) {
        var i = start
        while true {
            let left = 2 &* i &+ 1
            if left >= end { break }
            var worst = left
            let right = left &+ 1
            if right < end, Self.isWorse(storage[right], than: storage[left]) { worst = right }
            guard Self.isWorse(storage[worst], than: element) else { break }
            storage[i] = storage[worst]
            i = worst
        }
        storage[i] = element
    }

    /// Sorts the kept candidates best first (heap sort, in place) and returns their number.
    mutating func sortBestFirst() -> Int {
        var end = count
        while end > 1 {
            end &-= 1
            let worst = storage[0]
            siftDown(storage[end], from: 0, end: end)
            storage[end] = worst
        }
        return count
    }

    /// Offers `n` distances; candidate `j` has id `ids[j]`. `offsets`, when given, is added to
    /// each distance first (‖x‖² for L2 through BLAS). A SIMD scan skips the candidates above the
    /// threshold, so most cost one lane of one vector compare.
    @inline(__always)
    mutating func offer(
        distances: UnsafePointer<Float>, offsets: UnsafePointer<Float>? = nil, count n: Int, ids: CandidateIDs,
        kernels: DistanceKernels
    ) {
        var j = 0
        while true {
            j = kernels.nextAtOrBelow(distances, offsets, j, n, threshold)
            if j >= n { break }
            push(distance: distances[j] + (offsets?[j] ?? 0), id: ids[j])
            j &+= 1
        }
    }

    /// Scores `m` queries (contiguous rows of `queries`) against `n` contiguous `rows` with one
    /// sgemm into `scores` (m × n) and offers query `i`'s scores to `heap(i)`. L2 ranks by
    /// ‖x‖² − 2x·q (`rowNorms` holds ‖x‖²; ``Metric/completeProductDistances(_:count:queryNormSquared:)``
    /// adds ‖q‖² back), inner product and cosine by −x·q. Exact search and IVF's batches both
    /// score through here.
    @inline(__always)
    static func offerProductTile(
        queries: UnsafePointer<Float>, m: Int, rows: UnsafePointer<Float>, n: Int, dimension: Int, metric: Metric,
        rowNorms: UnsafePointer<Float>?, ids: CandidateIDs, scores: UnsafeMutablePointer<Float>, kernels: DistanceKernels,
        heap: (Int) -> UnsafeMutablePointer<TopKHeap>
    ) {
        BLAS.productWithTranspose(m: m, n: n, k: dimension, alpha: metric == .l2 ? -2 : -1, a: queries, b: rows, c: scores, ldc: n)
        let offsets = metric == .l2 ? rowNorms : nil
        for i in 0..<m {
            heap(i).pointee.offer(distances: scores + i &* n, offsets: offsets, count: n, ids: ids, kernels: kernels)
        }
    }
}
