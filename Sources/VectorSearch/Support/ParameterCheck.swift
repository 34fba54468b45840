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

    /// Most components a vector may have (2²⁰): far beyond any embedding model's, and small enough
    /// that sizing a store from a dimension read from a file can never exhaust memory.
    package static let maximumDimension = 1 << 20

    /// A vector dimension: 1 to ``maximumDimension``.
    package static func dimension(_ dimension: Int) throws {
        try within(1...maximumDimension, "dimension", dimension)
    }

    /// Most threads a call may ask for: far beyond any machine's cores, and small enough that
    /// per-thread scratch can never exhaust memory.
    package static let maximumThreads = 4096

    /// A thread count: nil (every core) or 1 to ``maximumThreads``.
    package static func threads(_ threads: Int?) throws {
        if let threads { try within(1...maximumThreads, "threads", threads) }
    }

    /// Most candidates per result a search on codes may re-rank.
    package static let maximumRerank = 1000

    /// A re-ranking factor: 0 (off) to ``maximumRerank``.
    package static func rerank(_ rerank: Int) throws {
        try within(0...maximumRerank, "rerank", rerank)
    }

    /// `a × b`, or `Int.max` when that overflows: for sizes that are then capped by a smaller one.
    package static func saturatingProduct(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }
}
