extension FlatIndex {
    /// Saves the index (docs/FORMAT.md, kind `FLAT`: ids, then the vector sections) atomically to `path`.
    public func save(to path: String) throws {
        try lock.withReadLock {
            let header = IndexFile.Header(
                kind: .flat, metric: metric, dimension: dimension, count: store.count,
                sectionCount: 1 + VectorSections.count(codes) + attributeStore.sectionCount,
                storage: storage)
            let writer = try IndexFileWriter(path: path, header: header)
            try writer.writeSection("IDS ", idMap.ids)
            try VectorSections.write(store, codes, to: writer)
            try attributeStore.write(to: writer)
            try writer.commit()
        }
    }

    /// Loads an index saved by ``save(to:)``, read into memory or memory-mapped (``IndexLoadMode``;
    /// mapped, an L2 or inner-product index still reads every row once for its norms).
    /// Truncated, corrupt, newer-version or other-kind files give a ``VectorSearchError`` that
    /// says which.
    public static func load(from path: String, mode: IndexLoadMode = .copy) throws -> FlatIndex {
        try load(from: IndexFileReader(path: path, expecting: .flat, mode: mode))
    }

    static func load(from reader: IndexFileReader) throws -> FlatIndex {
        let header = reader.header
        let index = try FlatIndex(dimension: header.dimension, metric: header.metric, storage: header.storage)
        let ids = try reader.readSection("IDS ", as: VectorID.self, count: header.count)
        try VectorSections.read(into: index.store, index.codes, rows: header.count, header: header, from: reader)
        index.attributeStore = try AttributeStore.read(from: reader, slots: header.count)
        try reader.finish()
        index.idMap = try IDMap(ids: ids) { VectorSearchError.corruptIndex(path: reader.path, reason: $0) }
        index.addNorms(of: 0..<header.count, normalize: false)
        return index
    }
}
