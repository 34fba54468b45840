/// Metadata files in JSON Lines: one object per vector, for filtered search.
///
/// Lines go with the vectors in order, or, when every line has an `id` (``JSONLines/vectorID(_:)``),
/// with the vector of that id (in any order; `id` itself is then not stored). Values may be strings, integers,
/// numbers, bools, arrays of strings (tags) or null (missing). Blank lines are skipped.
public enum MetadataFile {
    /// The attributes of each vector of `ids` (in that order), read from `path`.
    public static func read(_ path: String, ids: [VectorID]) throws -> [Attributes] {
        var lines: [(attributes: Attributes, id: VectorID?)] = []
        try JSONLines.forEachObject(path) { line in
            // An `id` that is a vector id matches the line to its vector; any other is metadata.
            let id = line["id"].flatMap(JSONLines.vectorID)
            lines.append((try line.attributes { $0 != "id" || id == nil }, id))
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
