/// A bounded max-heap of the `capacity` best (smallest-distance) candidates, kept in memory
/// the caller owns, so a query allocates nothing. The worst kept candidate sits at the root.
/// Ties on distance are broken by the smaller id, so results are deterministic.
///
/// While the heap is in use, `Neighbor.score` holds the internal distance.
struct TopKHeap {
    let storage: UnsafeMutablePointer<Neighbor>
    let capacity: Int
    private(set) var count = 0

    init(storage: UnsafeMutablePointer<Neighbor>, capacity: Int) {
        self.storage = storage
        self.capacity = capacity
    }

    /// Candidates with a distance above this cannot enter; equal ones can (if their id is smaller).
    @inline(__always)
    var threshold: Float { count < capacity ? .infinity : storage[0].score }

    @inline(__always)
    static func isWorse(_ a: Neighbor, than b: Neighbor) -> Bool {
        a.score > b.score || (a.score == b.score && a.id > b.id)
    }

    @inline(__always)
    mutating func push(distance: Float, id: VectorID) {
        let candidate = Neighbor(id: id, score: distance)
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
    private func siftDown(_ element: Neighbor, from start: Int, end: Int) {
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

    /// Offers `n` distances; candidate `j` has id `ids?[j] ?? firstID + j`. `offsets`, when
    /// given, is added to each distance first (‖x‖² for L2 through BLAS). A SIMD scan skips the
    /// candidates above the threshold, so most cost one lane of one vector compare.
    @inline(__always)
    mutating func offer(
        distances: UnsafePointer<Float>, offsets: UnsafePointer<Float>?, count n: Int,
        ids: UnsafePointer<VectorID>?, firstID: VectorID, kernels: DistanceKernels
    ) {
        var j = 0
        while true {
            j = kernels.nextAtOrBelow(distances, offsets, j, n, threshold)
            if j >= n { break }
            push(distance: distances[j] + (offsets?[j] ?? 0), id: ids?[j] ?? (firstID &+ VectorID(j)))
            j &+= 1
        }
    }

    /// As above, for candidates named by slot (IVF lists): candidate `j` has id `ids[slots[j]]`.
    @inline(__always)
    mutating func offer(
        distances: UnsafePointer<Float>, offsets: UnsafePointer<Float>?, count n: Int,
        slots: UnsafePointer<UInt32>, ids: UnsafePointer<VectorID>, kernels: DistanceKernels
    ) {
        var j = 0
        while true {
            j = kernels.nextAtOrBelow(distances, offsets, j, n, threshold)
            if j >= n { break }
            push(distance: distances[j] + (offsets?[j] ?? 0), id: ids[Int(slots[j])])
            j &+= 1
        }
    }
}
