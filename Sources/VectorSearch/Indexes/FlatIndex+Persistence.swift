extension FlatIndex {
    /// Saves the index (docs/FORMAT.md, kind `FLAT`: sections `IDS ` and `VECS`) atomically to `path`.
    public func save(to path: String) throws {
        try lock.withReadLock {
            let header = IndexFile.Header(
                kind: .flat, metric: metric, dimension: dimension, count: store.count, sectionCount: 2 + attributeStore.sectionCount,
                storage: storage)
            let writer = try IndexFileWriter(path: path, header: header)
            try writer.writeSection("IDS ", idMap.ids)
            try writer.writeSection("VECS", UnsafeRawBufferPointer(start: store.base, count: store.byteCount))
            try attributeStore.write(to: writer)
            try writer.commit()
        }
    }

    /// Loads an index saved by ``save(to:)``. Truncated, corrupt, newer-version or other-kind
    /// files give a ``VectorSearchError`` that says which.
    public static func load(from path: String) throws -> FlatIndex {
        let reader = try IndexFileReader(path: path, expecting: .flat)
        return try load(from: reader)
    }

    static func load(from reader: IndexFileReader) throws -> FlatIndex {
        let header = reader.header
        let index = try FlatIndex(dimension: header.dimension, metric: header.metric, storage: header.storage)
        let ids = try reader.readSection("IDS ", as: VectorID.self, count: header.count)
        let first = try index.store.append(rows: header.count) { try reader.readSection("VECS", into: $0) }
        index.attributeStore = try AttributeStore.read(from: reader, slots: header.count)
        try reader.finish()
        // Checksums catch damage, not a file written wrongly: check what the add path checks.
        let rows = UnsafeBufferPointer(start: index.store.base, count: header.count * header.dimension)
        try VectorValidation.checkStoredRows(rows, header: header, path: reader.path)
        guard Set(ids).count == ids.count else { throw VectorSearchError.corruptIndex(path: reader.path, reason: "duplicate ids") }
        index.register(slots: first..<(first + header.count), ids: ids, normalize: false)
        return index
    }
}
