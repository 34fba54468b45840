import VectorSearch

/// A collection's vectors in memory: the checkpoint's index (flat, IVF or HNSW), less the chunks
/// removed since, plus the chunks added since in a small exact index beside it (as the growing
/// segments of Milvus or Qdrant). Catching up with the log is then a copy, not graph insertions,
/// so a process answers its first search soon after it opens; a checkpoint moves the new chunks
/// into the main index, once, in the writer that makes it.
final class CollectionIndex {
    /// The checkpoint's index, with removals since applied.
    private(set) var main: AnyIndex
    /// Chunks added since the checkpoint, searched exactly.
    private var recent: FlatIndex
    private var recentIDs: Set<VectorID> = []
    private var declaredFields: [String: AttributeColumn.Kind] = [:]

    init(main: AnyIndex) throws {
        self.main = main
        recent = try FlatIndex(dimension: main.dimension, metric: main.metric)
    }

    var count: Int { main.count + recent.count }
    /// Chunks not yet in the main index.
    var recentCount: Int { recent.count }

    func vector(for id: VectorID) -> [Float]? { recentIDs.contains(id) ? recent.vector(for: id) : main.vector(for: id) }
    func attributes(for id: VectorID) -> Attributes? { recentIDs.contains(id) ? recent.attributes(for: id) : main.attributes(for: id) }

    /// Makes the collection's metadata fields known to both parts, so that a filter naming a field
    /// only one part's vectors have yet is answered (no match there) rather than refused.
    func declareFields(_ kinds: [String: AttributeColumn.Kind]) {
        guard kinds != declaredFields else { return }
        main.declareFields(kinds)
        AnyIndex.flat(recent).declareFields(kinds)
        declaredFields = kinds
    }

    func add(_ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes]) throws {
        try recent.add(vectors, ids: ids, attributes: attributes)
        recentIDs.formUnion(ids)
    }

    func remove(_ ids: some Sequence<VectorID>) {
        var fromRecent: [VectorID] = [], fromMain: [VectorID] = []
        for id in ids {
            if recentIDs.remove(id) != nil { fromRecent.append(id) } else { fromMain.append(id) }
        }
        _ = recent.remove(ids: fromRecent)
        _ = main.remove(ids: fromMain)
    }

    /// The k best of both parts, best first (ties by smaller id), as one index would answer.
    func search(_ query: [Float], k: Int, options: SearchOptions, filter: Filter?) throws -> [Neighbor] {
        // An empty main index (an IVF one not trained yet, say) has nothing to add.
        let fromMain = main.count > 0 ? try main.search(query, k: min(k, main.count), options: options, filter: filter) : []
        guard recent.count > 0 else { return fromMain }
        // The recent part is scanned exactly whatever the main index's settings.
        let fromRecent = try recent.search(query, k: min(k, recent.count), options: SearchOptions(), filter: filter)
        let higherIsCloser = main.metric.higherIsCloser
        let merged = (fromMain + fromRecent).sorted { a, b in
            if a.score != b.score { return higherIsCloser ? a.score > b.score : a.score < b.score }
            return a.id < b.id
        }
        return Array(merged.prefix(k))
    }

    /// Moves the recent chunks into the main index (training an IVF index that has no lists yet
    /// on them), leaving the recent part empty: the state a checkpoint saves.
    func merge() throws {
        guard !recentIDs.isEmpty else { return }
        var (ids, vectors, attributes) = recent.contents()
        // In id order, as a rebuild from the database adds them, so the main index (an HNSW
        // graph's shape, the order within IVF lists) does not depend on how the chunks arrived.
        if zip(ids, ids.dropFirst()).contains(where: { $0 > $1 }) {
            let order = ids.indices.sorted { ids[$0] < ids[$1] }
            var sorted = VectorMatrix(dimension: vectors.dimension)
            for row in order { try sorted.append(vectors[row]) }
            (ids, vectors, attributes) = (order.map { ids[$0] }, sorted, order.map { attributes[$0] })
        }
        if case let .ivf(ivf) = main, !ivf.isTrained { try ivf.train(vectors) }
        try main.add(vectors, ids: ids, attributes: attributes)
        recent = try FlatIndex(dimension: main.dimension, metric: main.metric)
        AnyIndex.flat(recent).declareFields(declaredFields)
        recentIDs.removeAll()
    }
}
