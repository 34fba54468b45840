/// An index of any kind, as read from a file whose header names the kind. Switch over it
/// exhaustively instead of holding an existential.
public enum AnyIndex: Sendable {
    case flat(FlatIndex)
    case ivf(IVFIndex)
    case hnsw(HNSWIndex)

    /// An empty index of `kind`; each kind takes its own build parameters and ignores the other's.
    /// An IVF index must be trained before vectors are added.
    public init(
        kind: IndexKind, dimension: Int, metric: Metric, storage: VectorStorage = .float32, hnsw: HNSWParameters = .default,
        ivf: IVFParameters = .default
    ) throws {
        switch kind {
        case .flat: self = .flat(try FlatIndex(dimension: dimension, metric: metric, storage: storage))
        case .ivf: self = .ivf(try IVFIndex(dimension: dimension, metric: metric, parameters: ivf, storage: storage))
        case .hnsw: self = .hnsw(try HNSWIndex(dimension: dimension, metric: metric, parameters: hnsw, storage: storage))
        }
    }

    /// How the index stores the vectors it scans.
    public var storage: VectorStorage {
        switch self {
        case let .flat(index): index.storage
        case let .hnsw(index): index.storage
        case let .ivf(index): index.storage
        }
    }

    /// Loads whatever kind of index `path` holds, read into memory or memory-mapped (see
    /// ``IndexLoadMode``).
    public static func load(from path: String, mode: IndexLoadMode = .copy) throws -> AnyIndex {
        let reader = try IndexFileReader(path: path, mode: mode)
        switch reader.header.kind {
        case .flat: return .flat(try FlatIndex.load(from: reader))
        case .hnsw: return .hnsw(try HNSWIndex.load(from: reader))
        case .ivf: return .ivf(try IVFIndex.load(from: reader))
        }
    }

    public var kind: IndexKind {
        switch self {
        case .flat: .flat
        case .ivf: .ivf
        case .hnsw: .hnsw
        }
    }
}

extension AnyIndex {
    /// The index as the protocol every kind shares.
    public var index: any VectorIndex {
        switch self {
        case let .flat(index): index
        case let .ivf(index): index
        case let .hnsw(index): index
        }
    }

    public var dimension: Int { index.dimension }
    public var metric: Metric { index.metric }
    public var count: Int { index.count }

    /// Approximate bytes of memory the index holds.
    public var memoryBytes: Int {
        switch self {
        case let .flat(index): index.memoryBytes
        case let .ivf(index): index.memoryBytes
        case let .hnsw(index): index.memoryBytes
        }
    }

    /// See ``VectorIndex/add(_:ids:attributes:)``; an IVF index must be trained first.
    public func add(_ vectors: VectorMatrix, ids: [VectorID], attributes: [Attributes] = []) throws {
        try index.add(vectors, ids: ids, attributes: attributes)
    }

    @discardableResult
    public func remove(ids: [VectorID]) -> Int { index.remove(ids: ids) }

    public func attributes(for id: VectorID) -> Attributes? { index.attributes(for: id) }

    /// Makes each field of `kinds` known to filters, with no value on any vector yet (see
    /// `AttributeStore.declare`).
    package func declareFields(_ kinds: [String: AttributeColumn.Kind]) {
        switch self {
        case let .flat(index): index.lock.withWriteLock { index.attributeStore.declare(kinds) }
        case let .ivf(index): index.lock.withWriteLock { index.attributeStore.declare(kinds) }
        case let .hnsw(index): index.lock.withWriteLock { index.attributeStore.declare(kinds) }
        }
    }
    public func vector(for id: VectorID) -> [Float]? { index.vector(for: id) }
    public func save(to path: String) throws { try index.save(to: path) }

    /// The `k` nearest neighbours of `query` (among those `filter` admits), best first, with the
    /// settings of `options` that this kind uses.
    public func search(_ query: [Float], k: Int, options: SearchOptions = .default, filter: Filter? = nil) throws -> [Neighbor] {
        switch self {
        case let .flat(index): try index.search(query, k: k, options: options, filter: filter)
        case let .ivf(index): try index.search(query, k: k, options: options, filter: filter)
        case let .hnsw(index): try index.search(query, k: k, options: options, filter: filter)
        }
    }

    /// One query into `results` (at least `k` elements); returns the number found. Allocates nothing.
    public func search(
        _ query: UnsafeBufferPointer<Float>, k: Int, options: SearchOptions = .default, filter: Filter? = nil,
        into results: UnsafeMutableBufferPointer<Neighbor>
    ) throws -> Int {
        switch self {
        case let .flat(index): try index.search(query, k: k, parameters: .init(options), filter: filter, into: results)
        case let .ivf(index): try index.search(query, k: k, parameters: .init(options), filter: filter, into: results)
        case let .hnsw(index): try index.search(query, k: k, parameters: .init(options), filter: filter, into: results)
        }
    }

    /// Every row of `queries` over `threads` threads (nil: every core).
    public func search(
        batch queries: VectorMatrix, k: Int, options: SearchOptions = .default, filter: Filter? = nil, threads: Int? = nil
    ) throws -> SearchResults {
        switch self {
        case let .flat(index): try index.search(batch: queries, k: k, options: options, filter: filter, threads: threads)
        case let .ivf(index): try index.search(batch: queries, k: k, options: options, filter: filter, threads: threads)
        case let .hnsw(index): try index.search(batch: queries, k: k, options: options, filter: filter, threads: threads)
        }
    }

    /// How a search with `filter` would run with these settings.
    public func plan(filter: Filter, options: SearchOptions = .default) throws -> FilterPlan {
        switch self {
        case let .flat(index): try index.plan(filter: filter, options: options)
        case let .ivf(index): try index.plan(filter: filter, options: options)
        case let .hnsw(index): try index.plan(filter: filter, options: options)
        }
    }
}
