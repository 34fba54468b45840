/// Approximate nearest-neighbour search with an inverted file (IVF-Flat): k-means splits the
/// space into `nlist` cells, each vector is stored in the list of its nearest centroid, and a
/// query scans only the `nprobe` lists whose centroids are nearest to it.
///
/// Fast to build (one k-means and one assignment pass, both sgemm on every core), no memory
/// beyond the vectors but ids and one centroid table, and a cost per query that grows with
/// `nprobe`, not with the graph's shape. Train once on a sample of the data, then add:
///
/// ```swift
/// let index = try IVFIndex(dimension: 384, metric: .cosine)
/// try index.train(vectors)                 // nlist ≈ 4·√N unless IVFParameters says otherwise
/// try index.add(vectors, ids: ids)
/// let hits = try index.search(query, k: 10, nprobe: 16)
/// ```
///
/// Where the data's variance lies mostly in a few directions (text embeddings, d ≥ 128), each row
/// also keeps a small bfloat16 sketch (about a quarter of its bytes) from which a single-query scan
/// bounds its distance and skips rows that cannot make the top k: the same results, fewer bytes
/// read (see `ListSketch`).
///
/// Lists are chosen by squared L2 distance to the centroids for every metric. Under cosine the
/// vectors are normalised and the centroids come from spherical k-means (unit length), so that is
/// also the most similar centroid by cosine. The vectors in the lists are compared by the index's
/// metric.
public final class IVFIndex: VectorIndex, @unchecked Sendable {
    public typealias SearchParameters = IVFSearchParameters

    public let dimension: Int
    public let metric: Metric
    public let parameters: IVFParameters
    /// How the lists store what queries scan (the float32 rows are kept beside codes, for
    /// re-ranking and saving). Lists on codes keep no sketches.
    public let storage: VectorStorage

    // Guarded by `lock`: searches read; train, add and remove write.
    let lock = ReadWriteLock()
    /// One row per list; empty until trained.
    let centroids: VectorStore
    /// ‖c‖² per centroid: the coarse step ranks lists by ‖c‖² − 2q·c.
    var centroidNorms: [Float] = []
    /// The basis the coarse step bounds centroids with (nil: it scores them all): the lists' own
    /// (``InvertedLists/sketch``), or for lists on codes, which keep none, one fitted on the
    /// centroids themselves.
    var coarseSketch: ListSketch?
    /// Sketches of the centroids on ``coarseSketch``'s basis (empty without one): a single query's
    /// coarse step bounds every centroid from them and scores only those that could rank.
    var centroidSketches: [UInt16] = []
    var centroidTerms: [ListSketch.Terms] = []
    var lists = InvertedLists(listCount: 0, dimension: 1)
    var idMap = IDMap()
    var attributeStore = AttributeStore()
    /// Where slot `s` lives: list in the high 32 bits, position in the list in the low 32.
    var locations: [UInt64] = []
    /// Vectors the first add should lay the lists out for (``reserveCapacity(_:)``).
    var expectedCount: Int?
    let kernels = DistanceKernels.best
    /// Scratch of single-query searches (``IVFSearchScratch``).
    let scratchPool = ContextPool<IVFSearchScratch>()

    public init(dimension: Int, metric: Metric, parameters: IVFParameters = .default, storage: VectorStorage = .float32) throws {
        try ParameterCheck.dimension(dimension)
        try parameters.validate()
        try parameters.codec?.validate(dimension: dimension, storage: storage)
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        self.storage = storage
        centroids = VectorStore(dimension: dimension)
    }

    /// Whether ``train(_:threads:progress:)`` has run; adding and searching need it.
    public var isTrained: Bool { lock.withReadLock { centroids.count > 0 } }

    /// Number of lists (0 before training).
    public var listCount: Int { lock.withReadLock { centroids.count } }

    /// Number of vectors in each list: a quick look at how evenly the data is spread.
    public var listSizes: [Int] { lock.withReadLock { (0..<lists.listCount).map { lists.counts[$0] } } }

    public var count: Int { lock.withReadLock { idMap.count } }

    /// Approximate bytes of memory held: vectors, slots and sketches in the lists, centroids, ids.
    public var memoryBytes: Int {
        lock.withReadLock {
            centroids.capacity * dimension * 4 + centroidNorms.capacity * 4 + lists.byteCount
                + centroidSketches.capacity * 2 + centroidTerms.capacity * MemoryLayout<ListSketch.Terms>.stride
                + idMap.byteCount + locations.capacity * 8 + (lists.product?.byteCount ?? 0)
        }
    }

    /// Whether a vector with this id is in the index.
    public func contains(id: VectorID) -> Bool { lock.withReadLock { idMap.contains(id) } }

    /// The stored vector for `id` (normalised under cosine), or nil.
    public func vector(for id: VectorID) -> [Float]? {
        lock.withReadLock {
            idMap.slot(of: id).map { slot in
                let (list, position) = location(of: slot)
                return Array(UnsafeBufferPointer(start: lists.vectors[list]! + position * dimension, count: dimension))
            }
        }
    }

    // MARK: Training

    /// Learns the lists' centroids by k-means on `data` (or a seeded random sample of it, see
    /// ``IVFParameters``), using `threads` threads (nil: every core). `progress(iteration,
    /// objective)` follows the k-means. An index may be retrained only while it is empty.
    public func train(_ data: VectorMatrix, threads: Int? = nil, progress: ((Int, Double) -> Void)? = nil) throws {
        try VectorValidation.checkBatch(data, dimension: dimension, metric: metric, k: 0, threads: threads, parameters: IVFSearchParameters.default)
        let nlist = parameters.nlist ?? IVFParameters.defaultListCount(for: data.count)
        guard data.count >= nlist else {
            throw VectorSearchError.invalidArgument("IVF nlist \(nlist) needs at least \(nlist) training vectors, got \(data.count)")
        }
        let sampleSize = min(data.count, parameters.trainingSize ?? data.count, ParameterCheck.saturatingProduct(nlist, IVFParameters.maxTrainingPointsPerList))
        guard sampleSize >= nlist else {
            throw VectorSearchError.invalidArgument("IVF training size \(sampleSize) is smaller than nlist \(nlist)")
        }
        var random = SplitMix64(seed: parameters.seed)
        var sample = try KMeans.sample(data, count: sampleSize, random: &random)
        if metric == .cosine, !sample.rowsAreUnitLength(kernels: kernels) { sample = sample.normalizedRows(kernels: kernels) }
        let kmeans = try KMeans.train(
            checked: sample,
            parameters: KMeansParameters(
                k: nlist, iterations: parameters.iterations,
                maxPointsPerCentroid: IVFParameters.maxTrainingPointsPerList, seed: parameters.seed,
                spherical: metric == .cosine),
            threads: threads, progress: progress)
        let sketch = sample.withUnsafeBufferPointer {
            ListSketch.fit($0.baseAddress!, count: sample.count, dimension: dimension, seed: parameters.seed)
        }
        let product = try parameters.codec.map {
            try IVFProductCodes.train($0, sample: sample, centroids: kmeans.centroids, metric: metric, seed: parameters.seed, threads: threads)
        }
        try lock.withWriteLock {
            guard idMap.count == 0 else {
                throw VectorSearchError.invalidArgument("the IVF index holds vectors; retrain only an empty index")
            }
            install(centroids: kmeans.centroids, sketch: sketch, product: product)
        }
    }

    /// The rows ``train(_:threads:progress:)`` samples from `count` training vectors, ascending.
    /// Training on just these rows, in this order, gives the same index as training on all
    /// `count` (when ``IVFParameters/nlist`` is set: an automatic one follows the count given), so
    /// a caller streaming a large file reads only the sample into memory.
    public func trainingRows(count: Int) -> [Int] {
        let nlist = parameters.nlist ?? IVFParameters.defaultListCount(for: count)
        let size = min(count, parameters.trainingSize ?? count, ParameterCheck.saturatingProduct(nlist, IVFParameters.maxTrainingPointsPerList))
        guard size < count else { return Array(0..<count) }
        var random = SplitMix64(seed: parameters.seed)
        return KMeans.distinctRows(size, from: count, random: &random).sorted()
    }

    /// Tells an empty index that about `count` vectors will be added, in batches: the first
    /// batch then lays the lists out for `count` rows in proportion to how its own rows fall
    /// (plus a tenth), so the later batches do not grow and copy every list several times.
    public func reserveCapacity(_ count: Int) {
        lock.withWriteLock { if idMap.count == 0 { expectedCount = count } }
    }

    /// Sets the centroids (from training or a saved file) and empty lists; call with the lock held.
    func install(centroids new: VectorMatrix, sketch: ListSketch?, product: IVFProductCodes? = nil) {
        if centroids.count > 0 { centroids.removeAll() }
        new.withUnsafeBufferPointer { _ = centroids.append($0.baseAddress!, rows: new.count) }
        centroidNorms = (0..<new.count).map { kernels.dot(centroids.row($0), centroids.row($0), dimension) }
        let codec = CodeKernels(storage: storage)
        // A scan of codes reads fewer bytes than a sketch would save it: lists on codes keep none,
        // but the coarse step of scalar codes still bounds the centroids, on a basis fitted to
        // the centroids (product codes bound them from their own int8 query pass instead:
        // IVFProductCodes.queryMatrix).
        let coded = codec != nil || product != nil
        let listSketch = coded ? nil : sketch
        let sketch =
            product != nil
            ? nil
            : coded
                ? new.withUnsafeBufferPointer { ListSketch.fit($0.baseAddress!, count: new.count, dimension: dimension, seed: parameters.seed) }
                : sketch
        coarseSketch = sketch
        lists = InvertedLists(listCount: new.count, dimension: dimension, sketch: listSketch, codec: codec, product: product)
        centroidSketches = [UInt16](repeating: 0, count: new.count * (sketch?.width ?? 0))
        centroidTerms = [ListSketch.Terms](repeating: .init(error: 0, perpendicular: 0, normSquared: 0), count: sketch == nil ? 0 : new.count)
        if let sketch, new.count > 0 {
            centroidSketches.withUnsafeMutableBufferPointer { codes in
                centroidTerms.withUnsafeMutableBufferPointer { terms in
                    sketch.sketch(centroids.base, count: new.count, into: codes.baseAddress!, terms: terms.baseAddress!, kernels: kernels)
                }
            }
        }
    }

    // MARK: Adding and removing

    public func add(_ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes]) throws {
        try add(vectors, ids: ids, attributes: attributes, threads: nil)
    }

    /// Adds vectors with the given ids (and optional metadata, one per row), assigning each to
    /// the list of its nearest centroid on `threads` threads (nil: every core).
    public func add(_ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes] = [], threads: Int?) throws {
        try ParameterCheck.threads(threads)
        try lock.withWriteLock { try addLocked(vectors, ids: Array(ids), attributes: attributes, threads: threads) }
    }

    public func attributes(for id: VectorID) -> Attributes? {
        lock.withReadLock { idMap.slot(of: id).map(attributeStore.attributes(at:)) }
    }

    /// Adds vectors with ids continuing after the largest id added so far (0, 1, 2, … for a new
    /// index), so a file's rows get their row numbers. Returns the ids given.
    @discardableResult
    public func add(_ vectors: VectorMatrix, attributes: [Attributes] = [], threads: Int? = nil) throws -> Range<VectorID> {
        try ParameterCheck.threads(threads)
        return try lock.withWriteLock {
            let ids = try idMap.automaticIDs(vectors.count)
            try addLocked(vectors, ids: Array(ids), attributes: attributes, threads: threads)
            return ids
        }
    }

    private func addLocked(_ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes], threads: Int?) throws {
        guard centroids.count > 0 else { throw VectorSearchError.notTrained }
        try VectorValidation.check(
            vectors, ids: ids, attributes: attributes, store: attributeStore, dimension: dimension, metric: metric,
            storage: storage, contains: idMap.contains)
        guard idMap.count + vectors.count < Int(UInt32.max) else {
            throw VectorSearchError.invalidArgument("an IVF index holds fewer than 2³² vectors")
        }
        guard vectors.count > 0 else { return }
        // Cosine centroids are unit vectors, so a vector's nearest one does not depend on its own
        // length: assign the rows as given and normalise them once in their lists (no copy).
        var nearest = [Scored](repeating: Scored(id: 0, distance: 0), count: vectors.count)
        vectors.withUnsafeBufferPointer { x in
            nearest.withUnsafeMutableBufferPointer { out in
                nearestLists(x.baseAddress!, count: vectors.count, nprobe: 1, threads: threads ?? Parallel.coreCount, into: out.baseAddress!)
            }
        }
        // A build lays the lists out back to back at their exact sizes; a later add grows
        // each list it touches once.
        var added = [Int](repeating: 0, count: lists.listCount)
        for neighbour in nearest { added[Int(neighbour.id)] += 1 }
        if idMap.count == 0 {
            // Sized for the whole build when told its size: each list's share of this batch, scaled.
            let scale = expectedCount.map { Double(max($0, vectors.count)) / Double(vectors.count) } ?? 1
            lists.layOut(rows: added.map { scale > 1 ? max($0, Int((Double($0) * scale * 1.1).rounded(.up))) : $0 })
            expectedCount = nil
        } else {
            for l in 0..<lists.listCount where lists.counts[l] + added[l] > lists.capacity(l) {
                lists.reserve(l, rows: max(lists.counts[l] + added[l], 2 * lists.capacity(l)))
            }
        }
        let firstSlot = idMap.count
        idMap.reserve(idMap.count + vectors.count)
        locations.reserveCapacity(idMap.count + vectors.count)
        let firstNew = (0..<lists.listCount).map { lists.counts[$0] }
        vectors.withUnsafeBufferPointer { x in
            for i in 0..<vectors.count {
                let slot = idMap.count, list = Int(nearest[i].id)
                let position = lists.append(list, row: x.baseAddress! + i * dimension, slot: UInt32(slot), normalize: metric == .cosine)
                locations.append(UInt64(list) << 32 | UInt64(position))
                idMap.append(ids[i])
            }
        }
        lists.updateDerived(from: firstNew, threads: threads ?? Parallel.coreCount)
        try encodeProductCodes(slots: firstSlot..<idMap.count, threads: threads)
        attributeStore.assign(attributes, to: firstSlot..<idMap.count)
    }

    /// Writes the product codes of the rows in `slots` (the lists must hold them already, as
    /// they are stored: unit length under cosine). Nothing to do without an ``IVFCodec``.
    func encodeProductCodes(slots: Range<Int>, threads: Int?) throws {
        guard let product = lists.product, !slots.isEmpty else { return }
        // In batches, so a big add needs a bounded copy of its rows.
        let batch = 65_536
        for start in stride(from: slots.lowerBound, to: slots.upperBound, by: batch) {
            let range = start..<min(start + batch, slots.upperBound)
            var rows = [Float](repeating: 0, count: range.count * dimension)
            var listOf = [Int](repeating: 0, count: range.count)
            rows.withUnsafeMutableBufferPointer { rows in
                for (i, slot) in range.enumerated() {
                    let (list, position) = location(of: slot)
                    listOf[i] = list
                    (rows.baseAddress! + i * dimension).update(from: lists.vectors[list]! + position * dimension, count: dimension)
                }
            }
            let codes = try product.encode(VectorMatrix(dimension: dimension, values: rows), lists: listOf, centroids: centroids.base, threads: threads)
            codes.withUnsafeBufferPointer { codes in
                for (i, slot) in range.enumerated() {
                    let (list, position) = location(of: slot)
                    lists.setProductCode(list, position: position, codes.baseAddress! + i * product.m)
                }
            }
        }
    }

    @discardableResult
    public func remove(ids: [VectorID]) -> Int {
        lock.withWriteLock {
            IDMap.removeEach(ids, slot: { idMap.slot(of: $0) }) { slot in
                let (list, position) = location(of: slot)
                if let moved = lists.removeSwappingLast(list, position: position) {
                    locations[Int(moved)] = UInt64(list) << 32 | UInt64(position)
                }
                // Keep slots dense, as the id map does: the last slot takes this one's number.
                let last = idMap.count - 1
                if slot != last {
                    let (lastList, lastPosition) = location(of: last)
                    lists.slots[lastList]![lastPosition] = UInt32(slot)
                    locations[slot] = locations[last]
                }
                locations.removeLast()
                idMap.removeSwappingLast(slot)
                attributeStore.removeSwappingLast(slot)
            }
        }
    }

    // MARK: Helpers

    func location(of slot: Int) -> (list: Int, position: Int) {
        (Int(locations[slot] >> 32), Int(locations[slot] & 0xFFFF_FFFF))
    }
}
