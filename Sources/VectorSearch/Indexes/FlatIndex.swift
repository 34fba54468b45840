/// Query-time parameters of ``FlatIndex``. Exact search has no knobs, except for an index on
/// codes (``VectorStorage``): how many candidates the code scan keeps for exact re-ranking.
public struct FlatSearchParameters: IndexSearchParameters {
    /// With quantized storage: the scan of the codes keeps `rerank × k` candidates, re-scored
    /// with the float32 vectors; 0 keeps the code scores. See ``SearchOptions/rerank``.
    public var rerank: Int

    public init(rerank: Int = SearchOptions.defaultRerank) { self.rerank = rerank }
    public init(_ options: SearchOptions) { self.init(rerank: options.rerank) }
    public static let `default` = FlatSearchParameters()
    public func validate() throws { try ParameterCheck.rerank(rerank) }
}

/// Exact nearest-neighbour search: every query is compared with every vector.
///
/// One query is a SIMD scan on one thread (AVX-512 / AVX2 chosen at run time, NEON on arm64);
/// a batch is a blocked matrix product (sgemm) with the work split over the cores. Use it as
/// the ground truth for approximate indexes, or on its own up to a few million vectors.
///
/// ```swift
/// let index = try FlatIndex(dimension: 3, metric: .cosine)
/// try index.add(VectorMatrix([[1, 0, 0], [0, 1, 0]]), ids: [10, 20])
/// let hits = try index.search([0.9, 0.1, 0], k: 1)   // [Neighbor(id: 10, score: 0.99…)]
/// ```
public final class FlatIndex: VectorIndex, @unchecked Sendable {
    public typealias SearchParameters = FlatSearchParameters

    public let dimension: Int
    public let metric: Metric
    /// How the vectors are stored and scanned (the float32 vectors are kept beside codes, for
    /// re-ranking and saving).
    public let storage: VectorStorage
    // Guarded by `lock`: searches read, add/remove write.
    let lock = ReadWriteLock()
    let store: VectorStore
    /// The codes scanned when ``storage`` is quantized, slot for slot with `store`.
    let codes: CodeStore?
    var idMap = IDMap()
    var attributeStore = AttributeStore()
    private var normsSquared: [Float] = []  // ‖x‖² per slot, for L2 batches through sgemm
    var normsCapacity: Int { normsSquared.capacity }
    private let kernels = DistanceKernels.best

    /// An empty index for vectors of `dimension` components compared by `metric`, stored as
    /// `storage` (float32 by default).
    public init(dimension: Int, metric: Metric, storage: VectorStorage = .float32) throws {
        try ParameterCheck.dimension(dimension)
        self.dimension = dimension
        self.metric = metric
        self.storage = storage
        store = VectorStore(dimension: dimension)
        codes = CodeKernels(storage: storage).map { CodeStore(storage: storage, dimension: dimension, kernels: $0) }
    }

    public var count: Int { lock.withReadLock { store.count } }

    /// Approximate bytes of memory the index holds (vectors, codes, ids, id map, norms).
    public var memoryBytes: Int {
        lock.withReadLock {
            store.capacity * dimension * 4 + (codes?.byteCount ?? 0) + idMap.byteCount + normsSquared.capacity * 4
        }
    }

    /// Whether a vector with this id is in the index.
    public func contains(id: VectorID) -> Bool { lock.withReadLock { idMap.contains(id) } }

    /// The stored vector for `id` (normalised under cosine), or nil.
    public func vector(for id: VectorID) -> [Float]? {
        lock.withReadLock {
            idMap.slot(of: id).map { Array(UnsafeBufferPointer(start: store.row($0), count: dimension)) }
        }
    }

    /// The ids in the index, in storage order.
    public var ids: [VectorID] { lock.withReadLock { idMap.ids } }

    /// Everything the index holds, in storage order: ids, vectors (normalised under cosine) and
    /// attributes, as ``add(_:ids:attributes:)`` takes them (to move the rows into another index
    /// in one batch).
    public func contents() -> (ids: [VectorID], vectors: VectorMatrix, attributes: [Attributes]) {
        lock.withReadLock {
            let values = Array(UnsafeBufferPointer(start: store.row(0), count: store.count * dimension))
            // `dimension` was checked at init, and the count is whole rows: this cannot throw.
            let vectors = (try? VectorMatrix(dimension: dimension, values: values)) ?? VectorMatrix(dimension: dimension)
            return (idMap.ids, vectors, (0..<store.count).map(attributeStore.attributes(at:)))
        }
    }

    public func add(_ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes]) throws {
        try lock.withWriteLock {
            try VectorValidation.check(
                vectors, ids: ids, attributes: attributes, store: attributeStore, dimension: dimension, metric: metric,
                storage: storage, contains: idMap.contains)
            try appendValidated(vectors, ids: ids, attributes: attributes)
        }
    }

    public func attributes(for id: VectorID) -> Attributes? {
        lock.withReadLock { idMap.slot(of: id).map(attributeStore.attributes(at:)) }
    }

    /// Adds vectors with ids continuing after the largest id added so far (0, 1, 2, … for a new
    /// index), so a file's rows get their row numbers. Returns the ids given.
    @discardableResult
    public func add(_ vectors: VectorMatrix, attributes: [Attributes] = []) throws -> Range<VectorID> {
        try lock.withWriteLock {
            let ids = try idMap.automaticIDs(vectors.count)
            try VectorValidation.check(
                vectors, ids: Array(ids), attributes: attributes, store: attributeStore, dimension: dimension, metric: metric,
                storage: storage, contains: idMap.contains)
            try appendValidated(vectors, ids: Array(ids), attributes: attributes)
            return ids
        }
    }

    private func appendValidated(_ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes]) throws {
        guard vectors.count > 0 else { return }
        let first = vectors.withUnsafeBufferPointer { store.append($0.baseAddress!, rows: vectors.count) }
        idMap.reserve(idMap.count + ids.count)
        for id in ids { idMap.append(id) }
        addNorms(of: first..<store.count, normalize: metric == .cosine)
        codes?.append(store.row(first), rows: vectors.count)
        attributeStore.assign(attributes, to: first..<store.count)
    }

    /// Records the norms of rows already in the store; cosine rows are normalised unless they
    /// come from a saved index (already unit length: normalising again could move the last bit).
    func addNorms(of slots: Range<Int>, normalize: Bool) {
        normsSquared.reserveCapacity(store.count)
        for slot in slots {
            let row = store.row(slot)
            if normalize { kernels.normalize(row, dimension) }
            normsSquared.append(metric == .cosine ? 1 : kernels.dot(row, row, dimension))
        }
    }

    @discardableResult
    public func remove(ids: [VectorID]) -> Int {
        lock.withWriteLock {
            IDMap.removeEach(ids, slot: { idMap.slot(of: $0) }) { slot in
                store.removeSwappingLast(slot)
                codes?.removeSwappingLast(slot)
                idMap.removeSwappingLast(slot)
                normsSquared[slot] = normsSquared[normsSquared.count - 1]
                normsSquared.removeLast()
                attributeStore.removeSwappingLast(slot)
            }
        }
    }

    public func search(
        _ query: UnsafeBufferPointer<Float>, k: Int, parameters: FlatSearchParameters = .default, filter: Filter? = nil,
        into results: UnsafeMutableBufferPointer<Neighbor>
    ) throws -> Int {
        try VectorValidation.checkQuery(query, dimension: dimension, metric: metric, k: k, results: results, parameters: parameters)
        return try lock.withReadLock {
            let matching = try filter.flatMap(matchingSlots)
            if let codes {
                return results.baseAddress!.asCandidates(capacity: results.count) { out in
                    searchCodes(codes, query.baseAddress!, k: k, rerank: parameters.rerank, matching: matching, into: out)
                }
            }
            return withExactSearch { exact in
                results.baseAddress!.asCandidates(capacity: results.count) { out in
                    if let matching {
                        matching.words.withUnsafeBufferPointer { bits in
                            exact.search(query: query.baseAddress!, k: k, matching: bits, into: out)
                        }
                    } else {
                        exact.search(query: query.baseAddress!, k: k, into: out)
                    }
                }
            }
        }
    }

    public func search(
        batch queries: VectorMatrix, k: Int, parameters: FlatSearchParameters = .default, filter: Filter? = nil, threads: Int? = nil
    ) throws -> SearchResults {
        try VectorValidation.checkBatch(queries, dimension: dimension, metric: metric, k: k, threads: threads, parameters: parameters)
        return try lock.withReadLock {
            let k = min(k, store.count)
            let matching = try filter.flatMap(matchingSlots)
            if let codes {
                return SearchResults(k: k, queries: queries) { q, slots, counts in
                    let q = UnsafeSendable(q), slots = UnsafeSendable(slots), counts = UnsafeSendable(counts)
                    Parallel.forEachChunk(count: queries.count, workers: threads ?? Parallel.coreCount) { _, range in
                        for i in range {
                            counts.value[i] = searchCodes(
                                codes, q.value + i &* dimension, k: k, rerank: parameters.rerank, matching: matching,
                                into: slots.value + i &* k)
                        }
                    }
                }
            }
            return SearchResults(k: k, queries: queries) { q, slots, counts in
                withExactSearch { exact in
                    if let matching {
                        matching.words.withUnsafeBufferPointer { bits in
                            exact.search(
                                queries: q, queryCount: queries.count, k: k, matching: bits,
                                threads: threads ?? Parallel.coreCount, results: slots, counts: counts)
                        }
                    } else {
                        exact.search(
                            queries: q, queryCount: queries.count, k: k, threads: threads ?? Parallel.coreCount,
                            results: slots, counts: counts)
                    }
                }
            }
        }
    }

    public func plan(filter: Filter, parameters: FlatSearchParameters) throws -> FilterPlan {
        try lock.withReadLock {
            let matches = try attributeStore.matching(filter, live: { nil }).matchCount
            // The exact scan is this kind's structure: nothing else to force.
            return FilterPlan.choose(matches: matches, count: store.count, forced: nil, exactIsCheaper: true)
        }
    }

    /// The slots `filter` admits, or nil when it admits all (the plain search is then faster).
    private func matchingSlots(_ filter: Filter) throws -> SlotBitset? {
        let matching = try attributeStore.matching(filter, live: { nil })
        return matching.matchCount == store.count ? nil : matching
    }

    /// One query on the codes: a scan (of the rows `matching` admits, when given) keeping the
    /// best `rerank × k` by code distance, re-scored with the float32 rows; call with the lock held.
    private func searchCodes(
        _ codes: CodeStore, _ query: UnsafePointer<Float>, k: Int, rerank: Int, matching: SlotBitset?,
        into out: UnsafeMutablePointer<Scored>
    ) -> Int {
        guard k > 0, store.count > 0 else { return 0 }
        return idMap.ids.withUnsafeBufferPointer { ids in
            let finish = Rerank(metric: metric, dimension: dimension, exactRows: store.base, ids: ids.baseAddress!, kernels: kernels)
            let wanted = finish.candidateCount(k: k, rerank: rerank, count: store.count)
            guard wanted > 0 else { return 0 }
            let queryNorm = metric == .l2 ? kernels.dot(query, query, dimension) : 0
            return codes.withRows { rows in
                withUnsafeTemporaryAllocation(of: Scored.self, capacity: wanted) { candidates in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: ExactSearch.scanChunk) { scratch in
                        let distances = scratch.baseAddress!
                        var heap = TopKHeap(storage: candidates.baseAddress!, capacity: wanted)
                        if let matching {
                            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: ExactSearch.scanChunk) { slots in
                                matching.words.withUnsafeBufferPointer { bits in
                                    forEachSetBit(in: bits, batch: ExactSearch.scanChunk, into: slots.baseAddress!) { slots, n in
                                        rows.distances(metric, query, queryNormSquared: queryNorm, picking: slots, n, into: distances)
                                        heap.offer(distances: distances, count: n, ids: CandidateIDs(slots: slots), kernels: kernels)
                                    }
                                }
                            }
                        } else {
                            var start = 0
                            while start < store.count {
                                let n = min(ExactSearch.scanChunk, store.count &- start)
                                rows.distances(
                                    metric, query, queryNormSquared: queryNorm, from: start, n, candidatesOnly: rerank > 0,
                                    into: distances)
                                heap.offer(distances: distances, count: n, ids: CandidateIDs(first: VectorID(start)), kernels: kernels)
                                start &+= n
                            }
                        }
                        let found = heap.sortBestFirst()
                        return finish.finish(candidates.baseAddress!, found: found, k: k, rerank: rerank, query: query, into: out)
                    }
                }
            }
        }
    }

    /// Runs `body` with a view of the stored rows; call with the lock held.
    private func withExactSearch<R>(_ body: (ExactSearch) -> R) -> R {
        idMap.ids.withUnsafeBufferPointer { ids in
            normsSquared.withUnsafeBufferPointer { norms in
                body(
                    ExactSearch(
                        base: store.base, count: store.count, dimension: dimension, metric: metric,
                        normsSquared: norms.baseAddress, ids: ids.baseAddress, kernels: kernels))
            }
        }
    }
}
