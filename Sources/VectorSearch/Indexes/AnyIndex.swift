/// An index of any kind, as read from a file whose header names the kind. Switch over it
/// exhaustively instead of holding an existential.
public enum AnyIndex: Sendable {
    case flat(FlatIndex)
    case ivf(IVFIndex)
    case hnsw(HNSWIndex)

    /// Loads whatever kind of index `path` holds.
    public static func load(from path: String) throws -> AnyIndex {
        let reader = try IndexFileReader(path: path)
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
    public func vector(for id: VectorID) -> [Float]? { index.vector(for: id) }
    public func save(to path: String) throws { try index.save(to: path) }

    /// The `k` nearest neighbours of `query` (among those `filter` admits), best first, with
    /// each kind's default search parameters (HNSW `ef` raised to `k`).
    public func search(_ query: [Float], k: Int, filter: Filter? = nil) throws -> [Neighbor] {
        switch self {
        case let .flat(index): try index.search(query, k: k, filter: filter)
        case let .ivf(index): try index.search(query, k: k, filter: filter)
        case let .hnsw(index): try index.search(query, k: k, filter: filter)
        }
    }
}
