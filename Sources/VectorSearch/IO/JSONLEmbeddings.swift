import Foundation

/// JSON Lines embeddings: one object per line with an `embedding` (or `vector`) array of
/// numbers and an optional non-negative integer `id`. Blank lines are skipped; other keys are
/// ignored here (metadata).
enum JSONLEmbeddings {
    static let vectorKeys = ["embedding", "vector"]

    static func read(_ path: String) throws -> EmbeddingSet {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw VectorSearchError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        var values: [Float] = []
        var ids: [VectorID] = []
        var dimension: Int?
        var row = 0
        var lineNumber = 0
        var idsSeen = 0
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var lineStart = 0
            while lineStart < bytes.count {
                let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                lineNumber += 1
                let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
                defer { lineStart = lineEnd + 1 }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                func fail(_ reason: String) -> VectorSearchError {
                    .malformedFile(path: path, row: row, byteOffset: lineStart, reason: "line \(lineNumber): \(reason)")
                }
                let object: Any
                do {
                    object = try JSONSerialization.jsonObject(with: Data(line))
                } catch {
                    throw fail("not valid JSON")
                }
                guard let dict = object as? [String: Any] else { throw fail("not a JSON object") }
                guard let array = vectorKeys.lazy.compactMap({ dict[$0] }).first as? [Any] else {
                    throw fail("no \"embedding\" array")
                }
                if let d = dimension {
                    guard array.count == d else { throw fail("dimension \(array.count), expected \(d) as in the first row") }
                } else {
                    guard !array.isEmpty else { throw fail("empty embedding") }
                    dimension = array.count
                }
                for (column, element) in array.enumerated() {
                    guard let number = element as? NSNumber, !number.isBoolean else {
                        throw fail("embedding[\(column)] is not a number")
                    }
                    let value = number.floatValue
                    guard value.isFinite else { throw fail("non-finite value at column \(column)") }
                    values.append(value)
                }
                if let rawID = dict["id"] {
                    guard let number = rawID as? NSNumber, let id = VectorID(exactly: number.doubleValue),
                          number.doubleValue == number.doubleValue.rounded()
                    else {
                        throw fail("\"id\" must be a non-negative integer, got \(rawID)")
                    }
                    ids.append(id)
                    idsSeen += 1
                }
                if idsSeen != 0 && idsSeen != row + 1 { throw fail("some rows have an \"id\" and some do not") }
                row += 1
            }
        }
        guard let dimension else { throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "no rows") }
        return EmbeddingSet(vectors: try VectorMatrix(dimension: dimension, values: values), ids: idsSeen > 0 ? ids : nil)
    }
}

extension NSNumber {
    /// JSON `true`/`false` arrive as NSNumber too; their type encoding is `c` (char).
    var isBoolean: Bool { String(cString: objCType) == "c" }
}
