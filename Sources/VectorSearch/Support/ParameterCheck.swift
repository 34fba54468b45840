/// Range checks for parameters, each throwing ``VectorSearchError/invalidParameter(name:value:requirement:)``
/// with the same wording everywhere. Parameters are checked where they are used (index creation,
/// every search), so a value set after a struct's `init` cannot crash or hang anything.
package enum ParameterCheck {
    /// `value` ≥ `minimum`.
    package static func atLeast(_ minimum: Int, _ name: String, _ value: Int) throws {
        guard value >= minimum else {
            throw VectorSearchError.invalidParameter(name: name, value: "\(value)", requirement: "at least \(minimum)")
        }
    }

    /// `value` within `range`.
    package static func within(_ range: ClosedRange<Int>, _ name: String, _ value: Int) throws {
        guard range.contains(value) else {
            throw VectorSearchError.invalidParameter(
                name: name, value: "\(value)", requirement: "between \(range.lowerBound) and \(range.upperBound)")
        }
    }

    /// A thread count: nil (every core) or at least 1.
    package static func threads(_ threads: Int?) throws {
        if let threads { try atLeast(1, "threads", threads) }
    }
}
