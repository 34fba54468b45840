import Foundation

/// Metadata files in JSON Lines: one object per vector, for filtered search.
///
/// Lines go with the vectors in order, or, when every line has an integer `id`, with the vector
/// of that id (in any order; `id` itself is then not stored). Values may be strings, integers,
/// numbers, bools, arrays of strings (tags) or null (missing). Blank lines are skipped.
public enum MetadataFile {
    /// The attributes of each vector of `ids` (in that order), read from `path`.
    public static func read(_ path: String, ids: [VectorID]) throws -> [Attributes] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw VectorSearchError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        var lines: [(attributes: Attributes, id: VectorID?)] = []
        var lineNumber = 0
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var lineStart = 0
            while lineStart < bytes.count {
                let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                lineNumber += 1
                let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
                defer { lineStart = lineEnd + 1 }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                func fail(_ reason: String) -> VectorSearchError {
                    .malformedFile(path: path, row: lines.count, byteOffset: lineStart, reason: "line \(lineNumber): \(reason)")
                }
                let json: JSONValue
                do {
                    json = try JSONValue.parse(line)
                } catch let error as JSONSyntaxError {
                    throw fail("not valid JSON: \(error.reason)")
                }
                guard case .object(let members) = json else { throw fail("not a JSON object") }
                var attributes: Attributes = [:]
                var id: VectorID?
                for (key, value) in members {
                    if key == "id", case .integer(let i) = value, i >= 0 {
                        id = VectorID(i)
                        continue
                    }
                    do {
                        if let attribute = try AttributeValue(json: value, field: key) { attributes[key] = attribute }
                    } catch let error as VectorSearchError {
                        throw fail("\(error)")
                    }
                }
                lines.append((attributes, id))
            }
        }
        if !lines.isEmpty, lines.allSatisfy({ $0.id != nil }) {
            var byID: [VectorID: Attributes] = [:]
            for (number, line) in lines.enumerated() {
                guard byID.updateValue(line.attributes, forKey: line.id!) == nil else {
                    throw VectorSearchError.malformedFile(path: path, row: number, byteOffset: nil, reason: "id \(line.id!) appears twice")
                }
            }
            return try ids.map { id in
                guard let attributes = byID[id] else {
                    throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "no line with \"id\": \(id)")
                }
                return attributes
            }
        }
        guard lines.count == ids.count else {
            throw VectorSearchError.malformedFile(
                path: path, row: nil, byteOffset: nil,
                reason: "\(lines.count) metadata lines for \(ids.count) vectors (give every line an \"id\" to match them by id)")
        }
        return lines.map(\.attributes)
    }
}
