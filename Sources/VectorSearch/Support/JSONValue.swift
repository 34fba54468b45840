/// A parsed JSON value that keeps integers and floating-point numbers apart (`2020` is an
/// integer, `2020.0` is not) and the order of object keys, for metadata and filters.
package enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.integer(x), .integer(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// Parses one JSON text; the error says what is wrong and at which byte.
    static func parse(_ text: String) throws -> JSONValue {
        var utf8 = Array(text.utf8)
        return try utf8.withUnsafeMutableBufferPointer { try parse(UnsafeRawBufferPointer($0)) }
    }

    package static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    // Typed views, nil for a value of another shape (configuration files read these).
    package var string: String? { if case .string(let v) = self { v } else { nil } }
    package var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
    package var int: Int? { if case .integer(let v) = self { Int(exactly: v) } else { nil } }
    /// Any number, integers included.
    package var double: Double? {
        switch self {
        case .number(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }
    package var array: [JSONValue]? { if case .array(let v) = self { v } else { nil } }
    /// An object's members by key (the last of a repeated key).
    package var object: [String: JSONValue]? {
        guard case .object(let members) = self else { return nil }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    }
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    /// A short rendering for error messages.
    package var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .integer(let i): "\(i)"
        case .number(let d): "\(d)"
        case .string(let s): "\"\(s)\""
        case .array(let a): "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object(let o): "{" + o.map { "\"\($0.key)\": \($0.value.description)" }.joined(separator: ", ") + "}"
        }
    }

    /// The value as JSON text (what a router passes on from a shard's answer).
    package var json: String {
        var text = ""
        write(to: &text)
        return text
    }

    package func write(to text: inout String) {
        switch self {
        case .null: text += "null"
        case .bool(let b): text += b ? "true" : "false"
        case .integer(let i): text += String(i)
        case .number(let d): text += d.isFinite ? "\(d)" : "null"
        case .string(let s): Self.write(string: s, to: &text)
        case .array(let a):
            text += "["
            for (i, item) in a.enumerated() {
                if i > 0 { text += "," }
                item.write(to: &text)
            }
            text += "]"
        case .object(let o):
            text += "{"
            for (i, member) in o.enumerated() {
                if i > 0 { text += "," }
                Self.write(string: member.key, to: &text)
                text += ":"
                member.value.write(to: &text)
            }
            text += "}"
        }
    }

    /// `string` quoted, with the characters JSON requires escaped (``jsonString(_:)``).
    package static func write(string: String, to text: inout String) {
        text += jsonString(string)
    }
}

/// Thrown for text that is not JSON; `reason` names the byte offset.
package struct JSONSyntaxError: Error, CustomStringConvertible {
    package let reason: String
    package var description: String { reason }
}

private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    static let maximumDepth = 512

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func error(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(reason: "\(reason) at byte \(position)") }

    mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("nested too deeply") }
        skipSpace()
        guard position < bytes.count else { throw error("unexpected end of JSON") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            position += 1
            var members: [(key: String, value: JSONValue)] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
                let key = try string()
                skipSpace()
                try expect(":")
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                if try endOrComma("}") { return .object(members) }
            }
        case UInt8(ascii: "["):
            position += 1
            var items: [JSONValue] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            while true {
                items.append(try value(depth: depth + 1))
                skipSpace()
                if try endOrComma("]") { return .array(items) }
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    mutating func expect(_ character: Unicode.Scalar) throws {
        guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { throw error("expected '\(character)'") }
        position += 1
    }

    /// After an item: true at the closing bracket, false after a comma.
    mutating func endOrComma(_ close: Unicode.Scalar) throws -> Bool {
        guard position < bytes.count else { throw error("unexpected end of JSON, expected ',' or '\(close)'") }
        if bytes[position] == UInt8(ascii: close) { position += 1; return true }
        guard bytes[position] == UInt8(ascii: ",") else { throw error("expected ',' or '\(close)'") }
        position += 1
        return false
    }

    mutating func literal(_ word: String) throws {
        for byte in word.utf8 {
            guard position < bytes.count, bytes[position] == byte else { throw error("invalid literal, expected '\(word)'") }
            position += 1
        }
    }

    mutating func number() throws -> JSONValue {
        if let value = fastNumber() { return value }
        let start = position
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        let digitsStart = position
        while position < bytes.count {
            let c = bytes[position]
            if c >= 0x30 && c <= 0x39 {
            } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                || ((c == UInt8(ascii: "+") || c == UInt8(ascii: "-")) && position > digitsStart)
            {
                isInteger = false
            } else {
                break
            }
            position += 1
        }
        guard position > digitsStart else {
            position = start
            throw error("unexpected character '\(Unicode.Scalar(bytes[start]))'")
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if isInteger, let value = Int64(text) { return .integer(value) }
        guard let value = Double(text), value.isFinite else {
            position = start
            throw error("invalid number '\(text)'")
        }
        return .number(value)
    }

    /// Exact powers of ten a Double holds (10²² is the last).
    private static let powersOfTen: [Double] = (0...22).map { (0..<$0).reduce(1.0) { r, _ in r * 10 } }

    /// The common number without building a String: the strict JSON grammar, at most 19
    /// significant digits, and for a fraction a mantissa under 2⁵³ with a decimal exponent in
    /// ±22, where one multiplication or division by an exact power of ten rounds correctly
    /// (Clinger's fast path), so the value is the one `Double(text)` gives. Nil (position
    /// unchanged) for anything else, which `number()` parses from the text. Embeddings sent as
    /// JSON are arrays of hundreds of such numbers.
    private mutating func fastNumber() -> JSONValue? {
        let n = bytes.count
        var p = position
        func digit(_ i: Int) -> UInt64? {
            guard i < n else { return nil }
            let c = bytes[i] &- 0x30
            return c < 10 ? UInt64(c) : nil
        }
        let negative = p < n && bytes[p] == UInt8(ascii: "-")
        if negative { p += 1 }
        var mantissa: UInt64 = 0, significant = 0, exponent = 0
        func take(_ d: UInt64) -> Bool {
            guard significant < 19 else { return false }
            mantissa = mantissa * 10 + d
            if mantissa != 0 { significant += 1 }
            return true
        }
        let integerStart = p
        while let d = digit(p) {
            guard take(d) else { return nil }
            p += 1
        }
        guard p > integerStart else { return nil }
        var isInteger = true
        if p < n, bytes[p] == UInt8(ascii: ".") {
            isInteger = false
            p += 1
            let fractionStart = p
            while let d = digit(p) {
                guard take(d) else { return nil }
                exponent -= 1
                p += 1
            }
            guard p > fractionStart else { return nil }
        }
        if p < n, bytes[p] == UInt8(ascii: "e") || bytes[p] == UInt8(ascii: "E") {
            isInteger = false
            p += 1
            var negativeExponent = false
            if p < n, bytes[p] == UInt8(ascii: "+") || bytes[p] == UInt8(ascii: "-") {
                negativeExponent = bytes[p] == UInt8(ascii: "-")
                p += 1
            }
            let exponentStart = p
            var written = 0
            while let d = digit(p) {
                guard p - exponentStart < 4 else { return nil }
                written = written * 10 + Int(d)
                p += 1
            }
            guard p > exponentStart else { return nil }
            exponent += negativeExponent ? -written : written
        }
        // Whatever else the lenient path would take as part of the number goes to it.
        if p < n {
            switch bytes[p] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"):
                return nil
            default: break
            }
        }
        let value: JSONValue
        if isInteger {
            guard mantissa <= UInt64(Int64.max) else { return nil }
            value = .integer(negative ? -Int64(mantissa) : Int64(mantissa))
        } else if mantissa == 0 {
            value = .number(negative ? -0.0 : 0.0)
        } else {
            guard mantissa <= 1 << 53, (-22...22).contains(exponent) else { return nil }
            let magnitude = exponent >= 0 ? Double(mantissa) * Self.powersOfTen[exponent] : Double(mantissa) / Self.powersOfTen[-exponent]
            value = .number(negative ? -magnitude : magnitude)
        }
        position = p
        return value
    }

    mutating func string() throws -> String {
        position += 1  // opening quote
        var runStart = position
        var result = ""
        func flushRun(_ end: Int) {
            if end > runStart { result += String(decoding: UnsafeRawBufferPointer(rebasing: bytes[runStart..<end]), as: UTF8.self) }
        }
        while true {
            guard position < bytes.count else { throw error("unterminated string") }
            let c = bytes[position]
            if c == UInt8(ascii: "\"") {
                flushRun(position)
                position += 1
                return result
            }
            if c < 0x20 { throw error("control character in string") }
            if c != UInt8(ascii: "\\") { position += 1; continue }
            flushRun(position)
            position += 1
            guard position < bytes.count else { throw error("unterminated string") }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): result.unicodeScalars.append("\"")
            case UInt8(ascii: "\\"): result.unicodeScalars.append("\\")
            case UInt8(ascii: "/"): result.unicodeScalars.append("/")
            case UInt8(ascii: "b"): result.unicodeScalars.append("\u{08}")
            case UInt8(ascii: "f"): result.unicodeScalars.append("\u{0C}")
            case UInt8(ascii: "n"): result.unicodeScalars.append("\n")
            case UInt8(ascii: "r"): result.unicodeScalars.append("\r")
            case UInt8(ascii: "t"): result.unicodeScalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in string")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in string") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                result.unicodeScalars.append(scalar)
            default: throw error("invalid escape '\\\(Unicode.Scalar(escape))'")
            }
            runStart = position
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(Unicode.Scalar(bytes[position])).hexDigitValue else { throw error("invalid \\u escape") }
            code = code << 4 | UInt32(digit)
            position += 1
        }
        return code
    }
}
