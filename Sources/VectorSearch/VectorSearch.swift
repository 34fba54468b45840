/// VectorSearch: exact and approximate nearest-neighbour search over float vectors.
///
/// Start with ``FlatIndex`` (exact search), read vectors with ``EmbeddingFile``,
/// and see ``VectorIndex`` for the operations every index kind shares.
public enum VectorSearchLibrary {
    /// The library version (semantic versioning).
    public static let version = "0.1.0"
}

/// External identifier of a vector, chosen by the caller (row numbers for files without ids).
public typealias VectorID = UInt64

extension VectorSearchLibrary {
    /// Cores this process may run on; the default thread count of batch work.
    public static var coreCount: Int { Parallel.coreCount }
}
