/// JSON Lines embeddings: one object per line with an `embedding` (or `vector`) array of
/// numbers and an optional `id` (``JSONLines/vectorID(_:)``). Blank lines are skipped; other
/// keys are ignored here (metadata).
enum JSONLEmbeddings {
    static let vectorKeys = ["embedding", "vector"]

    static func read(_ path: String) throws -> EmbeddingSet {
        var values: [Float] = []
        var ids: [VectorID] = []
        var seenIDs = Set<VectorID>()
        var dimension: Int?
        var rows = 0
        try JSONLines.forEachObject(path) { line in
            guard case .array(let array)? = vectorKeys.lazy.compactMap({ line[$0] }).first else {
                throw line.fail("no \"embedding\" array")
            }
            if let d = dimension {
                guard array.count == d else { throw line.fail("dimension \(array.count), expected \(d) as in the first row") }
            } else {
                guard !array.isEmpty else { throw line.fail("empty embedding") }
                dimension = array.count
            }
            values += try line.floats(array, name: "embedding")
            if let raw = line["id"] {
                guard let id = JSONLines.vectorID(raw) else {
                    throw line.fail("\"id\" must be a non-negative integer, got \(raw.description)")
                }
                guard seenIDs.insert(id).inserted else { throw line.fail("id \(id) appears twice") }
                ids.append(id)
            }
            if !ids.isEmpty && ids.count != line.row + 1 { throw line.fail("some rows have an \"id\" and some do not") }
            rows += 1
        }
        guard let dimension else { throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "no rows") }
        return EmbeddingSet(vectors: try VectorMatrix(dimension: dimension, values: values), ids: ids.isEmpty ? nil : ids)
    }
}
