/// One metadata value of a vector: a keyword, a number, a flag or a list of tags.
///
/// Literals work where a value is expected: `"python"`, `2020`, `0.5`, `true`, `["a", "b"]`.
public enum AttributeValue: Sendable, Hashable {
    /// A keyword (category, tenant, language, …), matched exactly.
    case string(String)
    /// A 64-bit integer (year, count, timestamp, …).
    case int(Int64)
    /// A floating-point number.
    case double(Double)
    case bool(Bool)
    /// A list of keywords (tags); filters ask whether it contains a value.
    case strings([String])

    /// The value as a Double, for the numeric kinds.
    var numeric: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// What kind of value this is, in words, for error messages.
    var kindName: String {
        switch self {
        case .string: "a keyword"
        case .int: "an integer"
        case .double: "a number"
        case .bool: "a bool"
        case .strings: "a list of keywords"
        }
    }
}

extension AttributeValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, CustomStringConvertible
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: String...) { self = .strings(elements) }

    public var description: String {
        switch self {
        case .string(let s): "\"\(s)\""
        case .int(let i): "\(i)"
        case .double(let d): "\(d)"
        case .bool(let b): "\(b)"
        case .strings(let s): "[" + s.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
    }
}

/// The metadata of one vector: field name → value. Fields may be missing.
public typealias Attributes = [String: AttributeValue]

extension AttributeValue {
    /// The value of a JSON metadata field: strings, integers, numbers, bools and arrays of
    /// strings; nil for `null` (a missing field). Other shapes are refused with a message.
    init?(json: JSONValue, field: String) throws {
        switch json {
        case .null: return nil
        case .bool(let b): self = .bool(b)
        case .integer(let i): self = .int(i)
        case .number(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items):
            self = .strings(
                try items.map {
                    guard case .string(let s) = $0 else {
                        throw VectorSearchError.invalidArgument("metadata field '\(field)': lists must hold strings only, found \($0.description)")
                    }
                    return s
                })
        case .object:
            throw VectorSearchError.invalidArgument("metadata field '\(field)': nested objects are not supported")
        }
    }
}

extension Dictionary where Key == String, Value == AttributeValue {
    /// The metadata as one JSON object, keys sorted (how a collection stores it). Numbers keep
    /// their kind: `2.0` is written so, and read back as a number, not an integer.
    package var jsonText: String {
        JSONValue.object(sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) }).json
    }

    /// Metadata from one JSON object (as ``jsonText`` writes it); `null` fields are left out.
    package init(jsonText: String) throws {
        guard case .object(let members) = try JSONValue.parse(jsonText) else {
            throw VectorSearchError.invalidArgument("metadata must be a JSON object")
        }
        self.init(minimumCapacity: members.count)
        for (field, value) in members {
            if let attribute = try AttributeValue(json: value, field: field) { self[field] = attribute }
        }
    }
}

extension AttributeValue {
    /// The value as JSON, the shape ``init(json:field:)`` reads back.
    var json: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .int(let i): .integer(i)
        case .double(let d): .number(d)
        case .bool(let b): .bool(b)
        case .strings(let tags): .array(tags.map(JSONValue.string))
        }
    }
}

/// JSON's shapes: a string, an integer, a number, a bool, or an array of strings.
extension AttributeValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let tags = try? container.decode([String].self) {
            self = .strings(tags)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a metadata value is a string, a number, a bool or a list of strings")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .bool(let b): try container.encode(b)
        case .strings(let tags): try container.encode(tags)
        }
    }
}
