extension HNSWIndex {
    /// Saves the index (docs/FORMAT.md, kind `HNSW`) atomically to `path`: parameters, ids, removal
    /// flags, vectors, levels and both link tables. The header's count is the number of slots.
    public func save(to path: String) throws {
        try lock.withReadLock {
            let slots = store.count
            let header = IndexFile.Header(
                kind: .hnsw, metric: metric, dimension: dimension, count: slots, sectionCount: 8 + attributeStore.sectionCount,
                storage: storage)
            let writer = try IndexFileWriter(path: path, header: header)
            let fields: [UInt64] = [
                UInt64(parameters.m), UInt64(parameters.efConstruction), parameters.seed,
                parameters.keepPrunedConnections ? 1 : 0, UInt64(entryPoint + 1), UInt64(maxLevel), idMap.nextAutomaticID,
            ]
            try writer.writeSection("PARM", fields)
            try writer.writeSection("IDS ", Array(idMap.ids.prefix(slots)))
            try writer.writeSection("DELE", UnsafeRawBufferPointer(start: graph.deleted, count: slots))
            try writer.writeSection("VECS", UnsafeRawBufferPointer(start: store.base, count: store.byteCount))
            try writer.writeSection("LVLS", UnsafeRawBufferPointer(start: graph.levels, count: slots))
            try writer.writeSection("USTA", UnsafeRawBufferPointer(start: graph.upperStart, count: slots * 4))
            try writer.writeSection("LNK0", UnsafeRawBufferPointer(start: graph.level0, count: slots * graph.level0Stride * 4))
            try writer.writeSection("LNKU", UnsafeRawBufferPointer(graph.upperWords))
            try attributeStore.write(to: writer)
            try writer.commit()
        }
    }

    /// Loads an index saved by ``save(to:)``. Damaged, truncated, newer-version or other-kind
    /// files, and files whose graph does not hold together, give a ``VectorSearchError``.
    public static func load(from path: String) throws -> HNSWIndex {
        try load(from: IndexFileReader(path: path, expecting: .hnsw))
    }

    static func load(from reader: IndexFileReader) throws -> HNSWIndex {
        let header = reader.header
        let slots = header.count
        func invalid(_ reason: String) -> VectorSearchError { .corruptIndex(path: reader.path, reason: reason) }
        let fields = try reader.readSection("PARM", as: UInt64.self, count: 7)
        guard fields[0] >= 2, fields[0] <= 256, fields[1] >= 1, fields[1] < 1 << 31, fields[3] <= 1,
            fields[4] <= UInt64(slots), fields[5] <= 64
        else { throw invalid("implausible HNSW parameters \(fields)") }
        let parameters = try HNSWParameters(
            m: Int(fields[0]), efConstruction: Int(fields[1]), seed: fields[2], keepPrunedConnections: fields[3] == 1)
        let index = try HNSWIndex(dimension: header.dimension, metric: header.metric, parameters: parameters, storage: header.storage)
        let ids = try reader.readSection("IDS ", as: VectorID.self, count: slots)
        let deleted = try reader.readSection("DELE", as: UInt8.self, count: slots)
        _ = try index.store.append(rows: slots) { try reader.readSection("VECS", into: $0) }
        let levels = try reader.readSection("LVLS", as: UInt8.self, count: slots)
        let upperStart = try reader.readSection("USTA", as: UInt32.self, count: slots)
        let level0 = try reader.readSection("LNK0", as: UInt32.self, count: slots * index.graph.level0Stride)
        let upper = try reader.readSection("LNKU", as: UInt32.self)
        index.attributeStore = try AttributeStore.read(from: reader, slots: slots)
        try reader.finish()

        // Checksums catch damage, not a file written wrongly: check that the graph holds together.
        let rows = UnsafeBufferPointer(start: index.store.base, count: slots * header.dimension)
        try VectorValidation.checkStoredRows(rows, header: header, path: reader.path)
        let graph = index.graph
        func checkList(_ list: ArraySlice<UInt32>, maxLinks: Int) throws {
            guard let count = list.first, Int(count) <= maxLinks,
                list.dropFirst().prefix(Int(count)).allSatisfy({ Int($0) < slots })
            else { throw invalid("a link list is out of range") }
        }
        for slot in 0..<slots {
            guard deleted[slot] <= 1, levels[slot] <= 64 else { throw invalid("bad level or removal flag at slot \(slot)") }
            let start0 = slot * graph.level0Stride
            try checkList(level0[start0..<(start0 + graph.level0Stride)], maxLinks: graph.m0)
            let level = Int(levels[slot])
            if level > 0 {
                let start = Int(upperStart[slot])
                guard upperStart[slot] != HNSWGraph.noUpper, start + level * graph.upperStride <= upper.count else {
                    throw invalid("upper links of slot \(slot) are out of range")
                }
                for l in 0..<level {
                    let s = start + l * graph.upperStride
                    try checkList(upper[s..<(s + graph.upperStride)], maxLinks: graph.m)
                }
            }
        }
        let entry = Int(fields[4]) - 1
        guard slots == 0 || (entry >= 0 && Int(levels[entry]) == Int(fields[5])) else { throw invalid("bad entry point") }
        graph.adopt(slots: slots, levels: levels, upperStart: upperStart, level0: level0, upper: upper, deleted: deleted)
        var seen = Set<VectorID>()
        for slot in 0..<slots {
            if deleted[slot] == 1 {
                index.idMap.appendUnmapped(ids[slot])
                index.freeSlots.append(slot)
            } else {
                guard seen.insert(ids[slot]).inserted else { throw invalid("duplicate ids") }
                index.idMap.assign(ids[slot], to: slot)
            }
        }
        index.codes?.append(index.store.base, rows: slots)
        index.entryPoint = entry
        index.maxLevel = Int(fields[5])
        index.idMap.continueAutomaticIDs(at: fields[6])
        return index
    }
}
