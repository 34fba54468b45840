extension HNSWIndex {
    /// Saves the index (docs/FORMAT.md, kind `HNSW`) atomically to `path`: parameters, ids, removal
    /// flags, vectors, levels and both link tables. The header's count is the number of slots.
    public func save(to path: String) throws {
        try lock.withReadLock {
            let slots = store.count
            let header = IndexFile.Header(
                kind: .hnsw, metric: metric, dimension: dimension, count: slots,
                sectionCount: 7 + VectorSections.count(codes) + attributeStore.sectionCount,
                storage: storage)
            let writer = try IndexFileWriter(path: path, header: header)
            let fields: [UInt64] = [
                UInt64(parameters.m), UInt64(parameters.efConstruction), parameters.seed,
                parameters.keepPrunedConnections ? 1 : 0, UInt64(entryPoint + 1), UInt64(maxLevel), idMap.nextAutomaticID,
            ]
            try writer.writeSection("PARM", fields)
            try writer.writeSection("IDS ", Array(idMap.ids.prefix(slots)))
            try writer.writeSection("DELE", UnsafeRawBufferPointer(start: graph.deleted, count: slots), mappable: true)
            try VectorSections.write(store, codes, to: writer)
            try writer.writeSection("LVLS", UnsafeRawBufferPointer(start: graph.levels, count: slots))
            try writer.writeSection("USTA", UnsafeRawBufferPointer(start: graph.upperStart, count: slots * 4))
            try writer.writeSection(
                "LNK0", UnsafeRawBufferPointer(start: graph.level0, count: slots * graph.level0Stride * 4), mappable: true)
            try writer.writeSection("LNKU", UnsafeRawBufferPointer(graph.upperWords))
            try attributeStore.write(to: writer)
            try writer.commit()
        }
    }

    /// Loads an index saved by ``save(to:)``, read into memory or memory-mapped (``IndexLoadMode``).
    /// Damaged, truncated, newer-version or other-kind files, and files whose graph does not hold
    /// together, give a ``VectorSearchError``.
    public static func load(from path: String, mode: IndexLoadMode = .copy) throws -> HNSWIndex {
        try load(from: IndexFileReader(path: path, expecting: .hnsw, mode: mode))
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
        let graph = index.graph
        let mapping = reader.mode == .mapped ? reader.mapping : nil
        // Mapped, the level-0 lists and removal flags stay in the file (searches bound every
        // link they follow); copied, they are read into the graph. The upper levels are small
        // and always read and checked.
        let level0Words = slots * graph.level0Stride
        var deleted = graph.deleted
        if mapping == nil {
            graph.reserve(slots)
            deleted = graph.deleted
            try reader.readSection("DELE", into: UnsafeMutableRawBufferPointer(start: deleted, count: slots))
        } else {
            deleted = try reader.mapSection("DELE", as: UInt8.self, count: slots)
        }
        try VectorSections.read(into: index.store, index.codes, rows: slots, header: header, from: reader, randomAccess: true)
        let levels = try reader.readSection("LVLS", as: UInt8.self, count: slots)
        let upperStart = try reader.readSection("USTA", as: UInt32.self, count: slots)
        if let mapping {
            let level0 = try reader.mapSection("LNK0", as: UInt32.self, count: level0Words)
            mapping.adviseRandomAccess(level0, count: level0Words * 4)
            graph.adoptMapped(slots: slots, level0: level0, deleted: deleted, in: mapping)
        } else {
            try reader.readSection("LNK0", into: UnsafeMutableRawBufferPointer(start: graph.level0, count: level0Words * 4))
        }
        let upper = try reader.readSection("LNKU", as: UInt32.self)
        index.attributeStore = try AttributeStore.read(from: reader, slots: slots)
        try reader.finish()

        // Checksums catch damage, not a file written wrongly: check that the graph holds together.
        // A list of level l may only name nodes that reach level l: a walk reads their lists there.
        func checkList(_ list: UnsafePointer<UInt32>, maxLinks: Int, level: Int) throws {
            let count = Int(list[0])
            guard count <= maxLinks else { throw invalid("a link list is out of range") }
            for j in 1..<(1 + count) where Int(list[j]) >= slots || Int(levels[Int(list[j])]) < level {
                throw invalid("a link list is out of range")
            }
        }
        if mapping == nil {
            if let slot = UnsafeBufferPointer(start: deleted, count: slots).firstIndex(where: { $0 > 1 }) {
                throw invalid("bad removal flag at slot \(slot)")
            }
            if graph.firstBadLevel0List(slots: slots) != nil { throw invalid("a link list is out of range") }
        } else {
            index.level0Unchecked = true
        }
        for slot in 0..<slots {
            guard levels[slot] <= 64 else { throw invalid("bad level at slot \(slot)") }
            let level = Int(levels[slot])
            if level > 0 {
                let start = Int(upperStart[slot])
                guard upperStart[slot] != HNSWGraph.noUpper, start + level * graph.upperStride <= upper.count else {
                    throw invalid("upper links of slot \(slot) are out of range")
                }
                try upper.withUnsafeBufferPointer { upper in
                    for l in 0..<level {
                        try checkList(upper.baseAddress! + start + l * graph.upperStride, maxLinks: graph.m, level: l + 1)
                    }
                }
            }
        }
        let entry = Int(fields[4]) - 1
        guard slots == 0 || (entry >= 0 && Int(levels[entry]) == Int(fields[5])) else { throw invalid("bad entry point") }
        graph.adoptUpperLevels(slots: slots, levels: levels, upperStart: upperStart, upper: upper)
        index.idMap = try IDMap(ids: ids, removed: UnsafeBufferPointer(start: graph.deleted, count: slots)) { invalid($0) }
        for slot in 0..<slots where graph.deleted[slot] != 0 { index.freeSlots.append(slot) }
        index.entryPoint = entry
        index.maxLevel = Int(fields[5])
        index.idMap.continueAutomaticIDs(at: fields[6])
        return index
    }
}
