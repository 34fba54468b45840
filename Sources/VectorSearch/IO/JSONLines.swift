/// JSON Lines as every reader here takes them (embeddings, metadata, RAG documents): the whole
/// regular file read, blank lines skipped, every other line one JSON object parsed by
/// ``JSONValue``, and errors that name the file, the line and the row.
package enum JSONLines {
    /// One object of a file: its members in file order, and a way to refuse it.
    package struct Line {
        package let members: [(key: String, value: JSONValue)]
        /// 1-based line number in the file.
        package let number: Int
        /// 0-based count of the non-blank lines before this one.
        package let row: Int
        let path: String
        let byteOffset: Int
        /// Set for an object that did not come from a file (an element of a request body, named
        /// so): errors are ``VectorSearchError/invalidArgument(_:)`` naming it.
        let element: String?

        init(members: [(key: String, value: JSONValue)], number: Int, row: Int, path: String, byteOffset: Int) {
            (self.members, self.number, self.row, self.path, self.byteOffset, element) = (members, number, row, path, byteOffset, nil)
        }

        /// An object of a request rather than a file, called `element` in errors (`documents[3]`).
        package init(members: [(key: String, value: JSONValue)], row: Int, element: String) {
            (self.members, number, self.row, path, byteOffset, self.element) = (members, row + 1, row, "", 0, element)
        }

        /// The value of `key` (the last one, if the line repeats it, as everywhere else).
        package subscript(key: String) -> JSONValue? { members.last { $0.key == key }?.value }

        /// `items` as float32 values (an embedding); `name` names the array in errors. Refused
        /// when an item is not a number or lies outside the float32 range.
        package func floats(_ items: [JSONValue], name: String) throws -> [Float] {
            try items.enumerated().map { column, item in
                let number: Double
                switch item {
                case .integer(let i): number = Double(i)
                case .number(let d): number = d
                default: throw fail("\(name)[\(column)] is not a number: \(item.description)")
                }
                guard Float(number).isFinite else { throw fail("\(name)[\(column)] = \(item.description) is outside the float32 range") }
                return Float(number)
            }
        }

        /// Metadata: every member of `object` (this line's own members when nil) whose key
        /// `include` accepts, nulls left out; refused as ``AttributeValue`` refuses shapes it
        /// cannot store.
        package func attributes(
            of object: [(key: String, value: JSONValue)]? = nil, including include: (String) -> Bool = { _ in true }
        ) throws -> Attributes {
            var attributes: Attributes = [:]
            for (key, value) in object ?? members where include(key) {
                do {
                    if let attribute = try AttributeValue(json: value, field: key) { attributes[key] = attribute }
                } catch let error as VectorSearchError {
                    throw fail("\(error)")
                }
            }
            return attributes
        }

        /// An error naming the file, this line and row, and `reason`.
        package func fail(_ reason: String) -> VectorSearchError {
            if let element { return .invalidArgument("\(element): \(reason)") }
            return .malformedFile(path: path, row: row, byteOffset: byteOffset, reason: "line \(number): \(reason)")
        }
    }

    /// Calls `body` with each object of `path`, in file order.
    package static func forEachObject(_ path: String, _ body: (Line) throws -> Void) throws {
        let data = try RegularFile.readAll(path)
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var lineStart = 0, number = 0, row = 0
            while lineStart < bytes.count {
                let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                number += 1
                let text = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
                defer { lineStart = lineEnd + 1 }
                if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                let here = Line(members: [], number: number, row: row, path: path, byteOffset: lineStart)
                let json: JSONValue
                do {
                    json = try JSONValue.parse(text)
                } catch let error as JSONSyntaxError {
                    throw here.fail("not valid JSON: \(error.reason)")
                }
                guard case .object(let members) = json else { throw here.fail("not a JSON object") }
                try body(Line(members: members, number: number, row: row, path: path, byteOffset: lineStart))
                row += 1
            }
        }
    }

    /// The one rule for a vector `id` in every JSON Lines file: a non-negative integer. An
    /// integral number written with a fraction or an exponent (`7.0`, `7e0`) is taken too, up to
    /// 2⁵³, where doubles still hold every integer. Nil for anything else.
    package static func vectorID(_ value: JSONValue) -> VectorID? {
        switch value {
        case .integer(let i): i >= 0 ? VectorID(i) : nil
        case .number(let d): d >= 0 && d <= 0x1p53 && d == d.rounded() ? VectorID(d) : nil
        default: nil
        }
    }
}
