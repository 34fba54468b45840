/// Every error the library throws. Associated values name the file, row, field and the
/// expected and actual values, so the message says exactly what is wrong and where.
public enum VectorSearchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A vector has the wrong number of components.
    case dimensionMismatch(expected: Int, actual: Int, row: Int?)
    /// A vector holds NaN or an infinity.
    case nonFiniteValue(row: Int, column: Int)
    /// A cosine vector or query of zero length (its direction is undefined).
    case zeroVector(row: Int?)
    /// A vector or query of finite values whose squared norm is beyond what float32 distances
    /// can hold (above ``largestSquaredNorm``, about 8.5e37): its scores would be infinite or NaN.
    case normOverflow(row: Int?)

    /// The largest squared norm a vector or query may have: up to it every distance stays
    /// finite, as ‖x − q‖² ≤ 2‖x‖² + 2‖q‖².
    public static let largestSquaredNorm = Float.greatestFiniteMagnitude / 4
    /// An id that is already in the index.
    case duplicateID(VectorID)
    /// A parameter outside its valid range: its name (as the docs and the command line spell
    /// it), the value given and what it must be ("at least 1").
    case invalidParameter(name: String, value: String, requirement: String)
    /// An argument that cannot be used, for a reason the message gives.
    case invalidArgument(String)
    /// A file that cannot be opened, read or written.
    case io(path: String, reason: String)
    /// A malformed embedding file: `row` and `byteOffset` locate the problem when known.
    case malformedFile(path: String, row: Int?, byteOffset: Int?, reason: String)
    /// An index file whose bytes are damaged (bad magic, checksum, truncation).
    case corruptIndex(path: String, reason: String)
    /// An index file written by a newer format version than this build reads.
    case unsupportedFormatVersion(path: String, found: UInt32, supported: UInt32)
    /// An index file of another kind than the one asked for.
    case wrongIndexKind(path: String, expected: String, found: String)
    /// An index that must be trained (IVF) was used before ``IVFIndex/train(_:threads:progress:)``.
    case notTrained
    /// A metadata filter that cannot be applied: malformed, an unknown field or operator, or a
    /// value of the wrong type. The message names the part that is wrong.
    case invalidFilter(String)
    /// Metadata that cannot be stored: a value of another type than its field holds, or a
    /// non-finite number. `row` is the vector's position in the batch.
    case invalidAttributes(row: Int?, reason: String)

    public var description: String {
        switch self {
        case let .dimensionMismatch(expected, actual, row):
            return "dimension mismatch\(row.map { " in row \($0)" } ?? ""): expected \(expected), got \(actual)"
        case let .nonFiniteValue(row, column):
            return "row \(row) has a non-finite value (NaN or infinity) at column \(column)"
        case let .zeroVector(row):
            return "\(row.map { "row \($0)" } ?? "query") is a zero vector: cosine similarity is undefined for it"
        case let .normOverflow(row):
            return "\(row.map { "row \($0)" } ?? "the query"): its norm is too large for float32 arithmetic (squared norm above 8.5e37); scale it down"
        case let .duplicateID(id):
            return "id \(id) is already in the index"
        case let .invalidParameter(name, value, requirement):
            return "\(name) must be \(requirement), got \(value)"
        case let .invalidArgument(message):
            return message
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .malformedFile(path, row, byteOffset, reason):
            var location = ""
            if let row { location += " row \(row)" }
            if let byteOffset { location += " (byte \(byteOffset))" }
            return "\(path):\(location.isEmpty ? "" : location + ":") \(reason)"
        case let .corruptIndex(path, reason):
            return "\(path): corrupt index file: \(reason)"
        case let .unsupportedFormatVersion(path, found, supported):
            return "\(path): index format version \(found), this build reads up to \(supported); upgrade VectorSearch"
        case let .wrongIndexKind(path, expected, found):
            return "\(path): this is a \(found) index, expected \(expected)"
        case .notTrained:
            return "the IVF index is not trained: call train(_:) with sample vectors before adding or searching"
        case let .invalidFilter(reason):
            return "invalid filter: \(reason)"
        case let .invalidAttributes(row, reason):
            return "invalid metadata\(row.map { " in row \($0)" } ?? ""): \(reason)"
        }
    }
}
