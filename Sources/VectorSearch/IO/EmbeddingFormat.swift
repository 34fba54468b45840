/// Embedding file formats, chosen from the file extension unless given.
public enum EmbeddingFormat: String, Sendable, CaseIterable {
    /// TEXMEX: per row an int32 dimension, then float32 values.
    case fvecs
    /// TEXMEX: per row an int32 dimension, then uint8 values (read as floats).
    case bvecs
    /// TEXMEX: per row an int32 dimension, then int32 values (ground truth).
    case ivecs
    /// big-ann-benchmarks: uint32 rows, uint32 dimension, then float32 rows.
    case fbin
    /// big-ann-benchmarks: uint32 rows, uint32 dimension, then int32 rows.
    case ibin
    /// NumPy `.npy`, 2-D, C order, float32 or float16 (and int32 for integer matrices).
    case npy
    /// One JSON object per line: `{"id": 7, "embedding": [0.1, ...], ...}` (`id` optional).
    case jsonl

    /// The format a path's extension names, or nil.
    public init?(path: String) {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        let ext = path[path.index(after: dot)...].lowercased()
        switch ext {
        case "json", "ndjson": self = .jsonl
        case "i32bin": self = .ibin
        case "f32bin": self = .fbin
        default:
            guard let format = EmbeddingFormat(rawValue: ext) else { return nil }
            self = format
        }
    }

    /// Whether the format holds integers (ground truth) rather than vectors.
    public var holdsIntegers: Bool { self == .ivecs || self == .ibin }

    static func resolve(_ format: EmbeddingFormat?, path: String) throws -> EmbeddingFormat {
        if let format { return format }
        guard let format = EmbeddingFormat(path: path) else {
            throw VectorSearchError.invalidArgument(
                "\(path): cannot tell the format from the extension; use one of "
                    + EmbeddingFormat.allCases.map { "." + $0.rawValue }.joined(separator: ", "))
        }
        return format
    }
}

/// A matrix of int32 values, such as ground-truth neighbour ids (`.ivecs`, `.ibin`).
public struct IntegerMatrix: Sendable, Equatable {
    /// Values per row.
    public let dimension: Int
    /// All rows, one after another.
    public var values: [Int32]

    public var count: Int { dimension == 0 ? 0 : values.count / dimension }

    public init(dimension: Int, values: [Int32]) throws {
        guard dimension > 0, values.count % dimension == 0 else {
            throw VectorSearchError.invalidArgument("\(values.count) values do not divide into rows of \(dimension)")
        }
        self.dimension = dimension
        self.values = values
    }

    /// Row `row` as a new array.
    public subscript(row: Int) -> [Int32] {
        Array(values[(row * dimension)..<((row + 1) * dimension)])
    }
}

/// Vectors read from a file, with their ids when the file carries them (JSONL).
public struct EmbeddingSet: Sendable {
    public var vectors: VectorMatrix
    /// Ids from the file, one per row; nil when the file has none (use row numbers).
    public var ids: [VectorID]?

    public init(vectors: VectorMatrix, ids: [VectorID]? = nil) {
        self.vectors = vectors
        self.ids = ids
    }
}
