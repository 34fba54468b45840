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
