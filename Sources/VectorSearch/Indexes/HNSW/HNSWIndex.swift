import CVectorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Approximate nearest-neighbour search on a hierarchical navigable small-world graph
/// (Malkov & Yashunin, 2016): fast queries at high recall, incremental inserts and removals.
///
/// Build-time knobs are ``HNSWParameters`` (M, efConstruction, seed); the query-time knob is
/// ``HNSWSearchParameters/ef``. Inserts of a batch run on every core; removed vectors stay in
/// the graph to route searches but are never returned, and their slots are reused by later adds.
///
/// With quantized ``storage`` the graph is built on the float32 vectors, a query walks it on the
/// codes (fewer bytes per visited node), and the best `rerank × k` it finds are re-scored with
/// the float32 vectors (``SearchOptions/rerank``).
///
/// ```swift
/// let index = try HNSWIndex(dimension: 384, metric: .cosine)
/// try index.add(vectors, ids: ids)
/// let hits = try index.search(query, k: 10, parameters: HNSWSearchParameters(ef: 128))
/// ```
public final class HNSWIndex: VectorIndex, @unchecked Sendable {
    public typealias SearchParameters = HNSWSearchParameters

    public let dimension: Int
    public let metric: Metric
    public let parameters: HNSWParameters
    /// How queries read the vectors (the float32 vectors are kept beside codes).
    public let storage: VectorStorage

    // `lock`: searches read, add/remove write. During a parallel add, nodes are guarded by the
    // graph's per-node spin locks and the entry point by `entryLock`.
    let lock = ReadWriteLock()
    let store: VectorStore
    /// The codes queries walk on when ``storage`` is quantized, slot for slot with `store`.
    let codes: CodeStore?
    let graph: HNSWGraph
    var idMap = IDMap()
    /// Set by a mapped load, which leaves the level-0 lists unchecked: searches bound the links
    /// they follow, and the first add checks them all, since inserts follow links unbounded.
    var level0Unchecked = false
    var freeSlots: [Int] = []
    var attributeStore = AttributeStore()
    var entryPoint = -1
    var maxLevel = 0
    var random: SplitMix64
    let entryLock = Lock()
    let pool = ContextPool<HNSWSearchContext>()
    let kernels = DistanceKernels.best
    private let levelScale: Double

    public init(dimension: Int, metric: Metric, parameters: HNSWParameters = .default, storage: VectorStorage = .float32) throws {
        try ParameterCheck.dimension(dimension)
        try parameters.validate()
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        self.storage = storage
        store = VectorStore(dimension: dimension)
        codes = CodeKernels(storage: storage).map { CodeStore(storage: storage, dimension: dimension, kernels: $0) }
        graph = HNSWGraph(m: parameters.m)
        random = SplitMix64(seed: parameters.seed)
        levelScale = 1 / log(Double(parameters.m))
    }

    /// Number of vectors that searches can return (removed ones excluded).
    public var count: Int { lock.withReadLock { idMap.mappedCount } }

    /// Approximate bytes of memory held: vectors, codes, graph links, ids.
    public var memoryBytes: Int {
        lock.withReadLock {
            store.capacity * dimension * 4 + (codes?.byteCount ?? 0) + graph.byteCount + idMap.byteCount + freeSlots.capacity * 8
        }
    }

    /// Whether a vector with this id is in the index (not removed).
    public func contains(id: VectorID) -> Bool { lock.withReadLock { idMap.contains(id) } }

    /// The stored vector for `id` (normalised under cosine), or nil.
    public func vector(for id: VectorID) -> [Float]? {
        lock.withReadLock {
            idMap.slot(of: id).map { Array(UnsafeBufferPointer(start: store.row($0), count: dimension)) }
        }
    }

    // MARK: Adding

    public func add(_ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes]) throws {
        try add(vectors, ids: ids, attributes: attributes, threads: nil, progress: nil)
    }

    public func attributes(for id: VectorID) -> Attributes? {
        lock.withReadLock { idMap.slot(of: id).map(attributeStore.attributes(at:)) }
    }

    /// Adds vectors with ids continuing after the largest id added so far (0, 1, 2, … for a new
    /// index), so a file's rows get their row numbers. Returns the ids given.
    @discardableResult
    public func add(
        _ vectors: VectorMatrix, attributes: [Attributes] = [], threads: Int? = nil, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) throws -> Range<VectorID> {
        try ParameterCheck.threads(threads)
        return try lock.withWriteLock {
            let ids = try idMap.automaticIDs(vectors.count)
            try addLocked(vectors, ids: Array(ids), attributes: attributes, threads: threads, progress: progress)
            return ids
        }
    }

    /// Adds vectors (and optional metadata, one per row), inserting them into the graph on
    /// `threads` threads (nil: every core). `progress(done, total)` is called now and then from
    /// one of the workers.
    public func add(
        _ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes] = [], threads: Int?,
        progress: (@Sendable (Int, Int) -> Void)?
    ) throws {
        try ParameterCheck.threads(threads)
        try lock.withWriteLock { try addLocked(vectors, ids: Array(ids), attributes: attributes, threads: threads, progress: progress) }
    }

    /// `add` with the write lock held.
    private func addLocked(
        _ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes], threads: Int?,
        progress: (@Sendable (Int, Int) -> Void)?
    ) throws {
        try VectorValidation.check(
            vectors, ids: ids, attributes: attributes, store: attributeStore, dimension: dimension, metric: metric,
            storage: storage, contains: idMap.contains)
        let n = vectors.count
        guard n > 0 else { return }
        if level0Unchecked {
            if let slot = graph.firstBadLevel0List(slots: store.count) {
                throw VectorSearchError.corruptIndex(
                    path: store.mapping?.path ?? "(mapped index)", reason: "the level-0 links of slot \(slot) are out of range")
            }
            level0Unchecked = false
        }
        // Slots: removed ones first (never the entry point, which must keep its level), then new.
        var slots = [Int]()
        slots.reserveCapacity(n)
        while slots.count < n, let slot = freeSlots.popLast() {
            if slot == entryPoint { continue }
            slots.append(slot)
        }
        let reused = slots.count
        let newSlots = n - reused
        let firstNew = store.count
        store.reserve(store.count + newSlots)
        graph.reserve(store.count + newSlots)
        vectors.withUnsafeBufferPointer { values in
            for (row, slot) in slots.enumerated() {
                store.row(slot).update(from: values.baseAddress! + row * dimension, count: dimension)
            }
            if newSlots > 0 {
                store.append(values.baseAddress! + reused * dimension, rows: newSlots)
            }
        }
        slots.append(contentsOf: firstNew..<(firstNew + newSlots))
        for (row, slot) in slots.enumerated() {
            if metric == .cosine { kernels.normalize(store.row(slot), dimension) }
            // Other nodes may still link to a reused slot on its old levels: it keeps them.
            let level = row < reused ? max(drawLevel(), Int(graph.levels[slot])) : drawLevel()
            graph.prepareNode(slot, level: level, reused: row < reused)
            idMap.assign(ids[row], to: slot)
            if let codes { slot < codes.count ? codes.update(slot, from: store.row(slot)) : codes.append(store.row(slot), rows: 1) }
        }
        attributeStore.assign(attributes, to: slots)
        insert(slots, threads: threads ?? VectorSearchLibrary.coreCount, progress: progress)
    }

    // MARK: Removing

    @discardableResult
    public func remove(ids: [VectorID]) -> Int {
        lock.withWriteLock {
            IDMap.removeEach(ids, slot: { idMap.removeKeepingSlot($0) }) { slot in
                graph.setDeleted(slot, true)
                attributeStore.clear(slot)
                freeSlots.append(slot)
            }
        }
    }

    /// Level of a new node: ⌊−ln(U) · mL⌋ with mL = 1/ln(M), as in the paper.
    private func drawLevel() -> Int {
        let u = Double(random.next() >> 11 + 1) / Double(1 << 53)
        return min(Int(-log(u) * levelScale), 64)
    }

    /// Links `slots` (vectors and levels already set) into the graph, in parallel when worthwhile.
    private func insert(_ slots: [Int], threads: Int, progress: (@Sendable (Int, Int) -> Void)?) {
        var start = 0
        // Single-threaded until the graph has a few hundred nodes: a tiny graph is all contention.
        let linkedBefore = idMap.mappedCount - slots.count
        let context = HNSWSearchContext(slots: store.count, maxLinks: graph.m0, dimension: dimension)
        while start < slots.count, linkedBefore + start < 256 || threads == 1 {
            insert(slot: slots[start], context: context)
            start += 1
            if start % 1024 == 0 { progress?(start, slots.count) }
        }
        guard start < slots.count else {
            progress?(slots.count, slots.count)
            return
        }
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        counter.initialize(to: start)
        defer { counter.deallocate() }
        let shared = UnsafeSendable(counter)
        slots.withUnsafeBufferPointer { slotBuffer in
            let all = UnsafeSendable(slotBuffer)
            Parallel.forEachChunk(count: threads, workers: threads) { worker, _ in
                let context = worker == 0 ? context : HNSWSearchContext(slots: store.count, maxLinks: graph.m0, dimension: dimension)
                while true {
                    let i = vs_fetch_add(shared.value, 1)
                    if i >= all.value.count { break }
                    insert(slot: all.value[i], context: context)
                    if worker == 0, i % 1024 == 0 { progress?(i, all.value.count) }
                }
            }
        }
        linkUnreachableNodes(context: context)
        progress?(slots.count, slots.count)
    }
}
