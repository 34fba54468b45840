/// A condition on vectors' metadata, given to `search(..., filter:)`: only vectors whose
/// ``Attributes`` satisfy it are returned.
///
/// ```swift
/// let recent: Filter = .field("year") >= 2020 && .field("section") == "python"
/// let same = try Filter(json: #"{"year": {"$gte": 2020}, "section": "python"}"#)
/// ```
///
/// Comparisons (`<`, `<=`, `>`, `>=`) take numbers. Equality on a tags field (a list of
/// keywords) asks whether the list contains the value, and `in` whether it contains any of
/// them. A vector that lacks the field matches no comparison, but does match `notEquals` and
/// `notIn`, so `.notEquals(f, v)` always means `.not(.equals(f, v))`.
public indirect enum Filter: Sendable, Hashable {
    case equals(String, AttributeValue)
    case notEquals(String, AttributeValue)
    case lessThan(String, AttributeValue)
    case lessThanOrEqual(String, AttributeValue)
    case greaterThan(String, AttributeValue)
    case greaterThanOrEqual(String, AttributeValue)
    /// The field equals (or, for tags, contains) one of the values.
    case `in`(String, [AttributeValue])
    /// The field is missing or equals (contains) none of the values.
    case notIn(String, [AttributeValue])
    /// The tags field contains this keyword (on a keyword field: equals it).
    case contains(String, String)
    /// The vector has a value for the field.
    case exists(String)
    /// All of them (an empty list matches every vector).
    case and([Filter])
    /// Any of them (an empty list matches none).
    case or([Filter])
    case not(Filter)

    /// Every vector. (Computed: a stored global enum hides its box from LeakSanitizer, which then
    /// reports it as a leak.)
    public static var all: Filter { .and([]) }

    /// A field, for writing filters with operators: `.field("year") >= 2020`.
    public static func field(_ name: String) -> FilterField { FilterField(name: name) }

    public static func && (a: Filter, b: Filter) -> Filter { .and([a, b]) }
    public static func || (a: Filter, b: Filter) -> Filter { .or([a, b]) }
    public static prefix func ! (a: Filter) -> Filter { .not(a) }
}

/// A named field on the left of a filter operator; see ``Filter/field(_:)``.
public struct FilterField: Sendable {
    public let name: String

    /// The same as ``Filter/field(_:)``, so that `.field("year") >= 2020` type-checks where the
    /// left operand's type is inferred from the operator.
    public static func field(_ name: String) -> FilterField { FilterField(name: name) }

    public static func == (f: FilterField, v: AttributeValue) -> Filter { .equals(f.name, v) }
    public static func != (f: FilterField, v: AttributeValue) -> Filter { .notEquals(f.name, v) }
    public static func < (f: FilterField, v: AttributeValue) -> Filter { .lessThan(f.name, v) }
    public static func <= (f: FilterField, v: AttributeValue) -> Filter { .lessThanOrEqual(f.name, v) }
    public static func > (f: FilterField, v: AttributeValue) -> Filter { .greaterThan(f.name, v) }
    public static func >= (f: FilterField, v: AttributeValue) -> Filter { .greaterThanOrEqual(f.name, v) }
    public func `in`(_ values: [AttributeValue]) -> Filter { .in(name, values) }
    public func notIn(_ values: [AttributeValue]) -> Filter { .notIn(name, values) }
    public func contains(_ tag: String) -> Filter { .contains(name, tag) }
    public var exists: Filter { .exists(name) }
}

// MARK: JSON form

extension Filter {
    /// Parses the JSON form used by Chroma and Pinecone: `{"field": value}` for equality,
    /// `{"field": {"$op": value, ...}}` with `$eq $ne $lt $lte $gt $gte $in $nin $contains
    /// $exists`, and `{"$and": [...]}`, `{"$or": [...]}`, `{"$not": {...}}`. Several keys in
    /// one object must all hold. Errors name the part of the filter that is wrong.
    public init(json text: String) throws {
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch let error as JSONSyntaxError {
            throw VectorSearchError.invalidFilter("not valid JSON: \(error.reason)")
        }
        self = try Filter(parsing: value, path: "filter")
    }

    /// The same, from JSON already parsed (a member of a request).
    package init(json value: JSONValue) throws {
        self = try Filter(parsing: value, path: "filter")
    }

    private init(parsing value: JSONValue, path: String) throws {
        guard case .object(let members) = value else {
            throw VectorSearchError.invalidFilter("\(path) must be a JSON object, found \(value.description)")
        }
        var parts: [Filter] = []
        for (key, value) in members {
            switch key {
            case "$and", "$or":
                guard case .array(let items) = value else {
                    throw VectorSearchError.invalidFilter("'\(key)' in \(path) needs an array of filters, found \(value.description)")
                }
                let filters = try items.enumerated().map { try Filter(parsing: $1, path: "\(key)[\($0)]") }
                parts.append(key == "$and" ? .and(filters) : .or(filters))
            case "$not":
                parts.append(.not(try Filter(parsing: value, path: "'$not'")))
            case let op where op.hasPrefix("$"):
                throw VectorSearchError.invalidFilter("unknown operator '\(op)' in \(path) (expected a field name, $and, $or or $not)")
            default:
                parts.append(contentsOf: try Self.conditions(field: key, value))
            }
        }
        self = parts.count == 1 ? parts[0] : .and(parts)
    }

    private static func conditions(field: String, _ value: JSONValue) throws -> [Filter] {
        guard case .object(let operators) = value else { return [.equals(field, try operand(value, field: field, op: "$eq"))] }
        guard !operators.isEmpty else {
            throw VectorSearchError.invalidFilter("field '\(field)' has an empty operator object")
        }
        return try operators.map { op, operandJSON in
            func one() throws -> AttributeValue { try operand(operandJSON, field: field, op: op) }
            func number() throws -> AttributeValue {
                let v = try one()
                guard v.numeric != nil else {
                    throw VectorSearchError.invalidFilter("'\(op)' on field '\(field)' needs a number, got \(operandJSON.description)")
                }
                return v
            }
            func list() throws -> [AttributeValue] {
                guard case .array(let items) = operandJSON else {
                    throw VectorSearchError.invalidFilter("'\(op)' on field '\(field)' needs an array, got \(operandJSON.description)")
                }
                return try items.map { try operand($0, field: field, op: op) }
            }
            switch op {
            case "$eq": return .equals(field, try one())
            case "$ne": return .notEquals(field, try one())
            case "$lt": return .lessThan(field, try number())
            case "$lte": return .lessThanOrEqual(field, try number())
            case "$gt": return .greaterThan(field, try number())
            case "$gte": return .greaterThanOrEqual(field, try number())
            case "$in": return .in(field, try list())
            case "$nin": return .notIn(field, try list())
            case "$contains":
                guard case .string(let tag) = operandJSON else {
                    throw VectorSearchError.invalidFilter("'$contains' on field '\(field)' needs a string, got \(operandJSON.description)")
                }
                return .contains(field, tag)
            case "$exists":
                guard case .bool(let wanted) = operandJSON else {
                    throw VectorSearchError.invalidFilter("'$exists' on field '\(field)' needs true or false, got \(operandJSON.description)")
                }
                return wanted ? .exists(field) : .not(.exists(field))
            default:
                throw VectorSearchError.invalidFilter(
                    "unknown operator '\(op)' on field '\(field)' (expected $eq $ne $lt $lte $gt $gte $in $nin $contains $exists)")
            }
        }
    }

    private static func operand(_ json: JSONValue, field: String, op: String) throws -> AttributeValue {
        switch json {
        case .bool(let b): return .bool(b)
        case .integer(let i): return .int(i)
        case .number(let d): return .double(d)
        case .string(let s): return .string(s)
        default:
            throw VectorSearchError.invalidFilter("'\(op)' on field '\(field)' needs a string, number or bool, got \(json.description)")
        }
    }

    /// The filter in its JSON form (parsing it gives an equal filter).
    public var json: String {
        func value(_ v: AttributeValue) -> String {
            switch v {
            case .string(let s): return jsonString(s)
            case .strings(let s): return "[" + s.map(jsonString).joined(separator: ", ") + "]"
            default: return v.description
            }
        }
        func op(_ name: String, _ field: String, _ operand: String) -> String { "{\(jsonString(field)): {\"\(name)\": \(operand)}}" }
        switch self {
        case .equals(let f, let v): return op("$eq", f, value(v))
        case .notEquals(let f, let v): return op("$ne", f, value(v))
        case .lessThan(let f, let v): return op("$lt", f, value(v))
        case .lessThanOrEqual(let f, let v): return op("$lte", f, value(v))
        case .greaterThan(let f, let v): return op("$gt", f, value(v))
        case .greaterThanOrEqual(let f, let v): return op("$gte", f, value(v))
        case .in(let f, let vs): return op("$in", f, "[" + vs.map(value).joined(separator: ", ") + "]")
        case .notIn(let f, let vs): return op("$nin", f, "[" + vs.map(value).joined(separator: ", ") + "]")
        case .contains(let f, let t): return op("$contains", f, jsonString(t))
        case .exists(let f): return op("$exists", f, "true")
        case .and(let fs): return "{\"$and\": [" + fs.map(\.json).joined(separator: ", ") + "]}"
        case .or(let fs): return "{\"$or\": [" + fs.map(\.json).joined(separator: ", ") + "]}"
        case .not(let f): return "{\"$not\": \(f.json)}"
        }
    }
}

/// `s` as a JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

extension Filter {
    /// Whether one vector's `attributes` satisfy the filter, evaluated directly (no index):
    /// the same meaning the compiled bitsets have, for metadata held outside an index. Values of
    /// another type than the filter's simply do not match here (an index refuses them instead).
    public func matches(_ attributes: Attributes) -> Bool {
        func equal(_ field: String, _ wanted: AttributeValue) -> Bool {
            switch (attributes[field], wanted) {
            case (nil, _): false
            case let (.strings(tags)?, .string(word)): tags.contains(word)
            case let (value?, _): value.numeric.flatMap { x in wanted.numeric.map { x == $0 } } ?? (value == wanted)
            }
        }
        func compare(_ field: String, _ bound: AttributeValue, _ holds: (Double, Double) -> Bool) -> Bool {
            guard let x = attributes[field]?.numeric, let y = bound.numeric else { return false }
            return holds(x, y)
        }
        switch self {
        case let .equals(field, value): return equal(field, value)
        case let .notEquals(field, value): return !equal(field, value)
        case let .lessThan(field, value): return compare(field, value, <)
        case let .lessThanOrEqual(field, value): return compare(field, value, <=)
        case let .greaterThan(field, value): return compare(field, value, >)
        case let .greaterThanOrEqual(field, value): return compare(field, value, >=)
        case let .in(field, values): return values.contains { equal(field, $0) }
        case let .notIn(field, values): return !values.contains { equal(field, $0) }
        case let .contains(field, tag): return equal(field, .string(tag))
        case let .exists(field): return attributes[field] != nil
        case let .and(filters): return filters.allSatisfy { $0.matches(attributes) }
        case let .or(filters): return filters.contains { $0.matches(attributes) }
        case let .not(filter): return !filter.matches(attributes)
        }
    }
}
