extension IVFIndex {
    /// Saves the index (docs/FORMAT.md, kind `IVFF`) atomically to `path`: parameters, centroids,
    /// list sizes, then every list's slots and vectors in list order, and the ids by slot.
    /// An untrained index saves too (no centroids, no lists). With an ``IVFCodec``, its codebooks
    /// (`PQCB`) and OPQ rotation (`OPQR`) follow the centroids, and the lists' codes (`PQCD`, as
    /// the scan reads them) follow the vectors. Scalar codes (``VectorStorage``) are not stored:
    /// they are encoded from the vectors when the index loads.
    public func save(to path: String) throws {
        try lock.withReadLock {
            let nlist = centroids.count, product = lists.product
            let codecSections = product == nil ? 0 : product!.rotation == nil ? 2 : 3
            let header = IndexFile.Header(
                kind: .ivf, metric: metric, dimension: dimension, count: idMap.count,
                sectionCount: 6 + codecSections + attributeStore.sectionCount, storage: storage)
            let writer = try IndexFileWriter(path: path, header: header)
            var fields: [UInt64] = [
                UInt64(nlist), parameters.nlist.map { UInt64($0) + 1 } ?? 0, parameters.trainingSize.map { UInt64($0) + 1 } ?? 0,
                UInt64(parameters.iterations), parameters.seed, idMap.nextAutomaticID,
            ]
            // The codec as asked for (trained or not): kind (0 none, 1 pq, 2 pq4fs), slices, rotation, residual.
            if let codec = parameters.codec {
                fields += [codec.kind == .pq ? 1 : 2, UInt64(codec.subquantizers), codec.rotation ? 1 : 0, codec.residual ? 1 : 0]
            }
            try writer.writeSection("PARM", fields)
            try writer.writeSection("CENT", UnsafeRawBufferPointer(start: centroids.base, count: nlist * dimension * 4))
            if let product {
                try writer.writeSection("PQCB", product.quantizer.codebooks)
                if let rotation = product.rotation { try writer.writeSection("OPQR", rotation) }
            }
            try writer.writeSection("SIZE", (0..<nlist).map { UInt64(lists.counts[$0]) })
            try writer.writeSection("SLOT", lists: lists, bytesPerRow: 4) { UnsafeRawPointer(lists.slots[$0]!) }
            try writer.writeSection("VECS", lists: lists, bytesPerRow: dimension * 4, mappable: true) { UnsafeRawPointer(lists.vectors[$0]!) }
            if product != nil {
                try writer.writeSection("PQCD", parts: (0..<nlist).map { UnsafeRawBufferPointer(lists.productCodeBytes($0)) })
            }
            try writer.writeSection("IDS ", idMap.ids)
            try attributeStore.write(to: writer)
            try writer.commit()
        }
    }

    /// Loads an index saved by ``save(to:)``, read into memory or with its float32 vectors
    /// memory-mapped (``IndexLoadMode/mapped`` and ``IndexLoadMode/mappedVectors`` alike: the
    /// lists' slots and codes are read, the rows stay in the file, where re-ranking reads its few
    /// candidates; a mapped IVF-Flat index scans without sketches, which would read every row).
    /// Damaged, truncated, newer-version or other-kind files, and files whose lists do not hold
    /// together, give a ``VectorSearchError``.
    public static func load(from path: String, mode: IndexLoadMode = .copy) throws -> IVFIndex {
        try load(from: IndexFileReader(path: path, expecting: .ivf, mode: mode))
    }

    static func load(from reader: IndexFileReader) throws -> IVFIndex {
        let header = reader.header, count = header.count, d = header.dimension
        func invalid(_ reason: String) -> VectorSearchError { .corruptIndex(path: reader.path, reason: reason) }
        let fields = try reader.readSection("PARM", as: UInt64.self)
        guard fields.count == 6 || fields.count == 10 else { throw invalid("IVF parameters of \(fields.count) fields") }
        let nlist = Int(clamping: fields[0])
        // nlist may exceed count (vectors removed since training); the sections' lengths bound it.
        guard nlist < 1 << 31, fields[1] < 1 << 31, fields[2] < 1 << 62,
            fields[3] >= 1, fields[3] < 1 << 31, count < Int(UInt32.max)
        else { throw invalid("implausible IVF parameters \(fields)") }
        var codec: IVFCodec?
        if fields.count == 10 {
            guard (1...2).contains(fields[6]), fields[7] >= 1, fields[7] <= UInt64(d), fields[8] <= 1, fields[9] <= 1 else {
                throw invalid("implausible IVF codec \(fields[6...])")
            }
            do {
                codec = try IVFCodec(fields[6] == 1 ? .pq : .pq4fs, subquantizers: Int(fields[7]), rotation: fields[8] == 1, residual: fields[9] == 1)
                try codec!.validate(dimension: d, storage: header.storage)
            } catch let error as VectorSearchError { throw invalid("IVF codec: \(error)") }
        }
        let parameters = try IVFParameters(
            nlist: fields[1] == 0 ? nil : Int(fields[1] - 1), trainingSize: fields[2] == 0 ? nil : Int(fields[2] - 1),
            iterations: Int(fields[3]), seed: fields[4], codec: codec)
        let index = try IVFIndex(dimension: d, metric: header.metric, parameters: parameters, storage: header.storage)
        let centroids = try VectorMatrix(dimension: d, values: reader.readSection("CENT", as: Float.self, count: nlist * d))
        var product: IVFProductCodes?
        if let codec, nlist > 0 {
            let books = try reader.readSection("PQCB", as: Float.self, count: (1 << codec.bits) * d)
            let rotation = codec.rotation ? try reader.readSection("OPQR", as: Float.self, count: d * d) : nil
            guard books.allSatisfy(\.isFinite), rotation?.allSatisfy(\.isFinite) ?? true else { throw invalid("non-finite codebook or rotation") }
            let quantizer = try ProductQuantizer(dimension: d, subquantizers: codec.subquantizers, bits: codec.bits, codebooks: books)
            product = IVFProductCodes(codec: codec, quantizer: quantizer, rotation: rotation, centroids: centroids, metric: header.metric)
        }
        let sizes = try reader.readSection("SIZE", as: UInt64.self, count: nlist)
        guard sizes.reduce(0, { $0 &+ $1 }) == UInt64(count), sizes.allSatisfy({ $0 <= UInt64(count) }) else {
            throw invalid("list sizes do not add up to \(count) vectors")
        }
        guard nlist > 0 || count == 0 else { throw invalid("vectors without centroids") }
        let slots = try reader.readSection("SLOT", as: UInt32.self, count: count)
        let mapped = reader.mode.maps
        var vectors: [Float] = []
        var mappedVectors: UnsafeMutablePointer<Float>?
        if mapped {
            mappedVectors = try reader.mapSection("VECS", as: Float.self, count: count * d)
        } else {
            vectors = try reader.readSection("VECS", as: Float.self, count: count * d)
        }
        let codes = try codec.map { codec in
            try reader.readSection("PQCD", as: UInt8.self, count: sizes.reduce(0) { $0 + codec.codeBytes(rows: Int($1)) })
        }
        let ids = try reader.readSection("IDS ", as: VectorID.self, count: count)
        index.attributeStore = try AttributeStore.read(from: reader, slots: count)
        try reader.finish()

        // Checksums catch damage, not a file written wrongly: check what the add path checks
        // (mapped rows are not read at open: `vectorsearch check` verifies them).
        if let bad = centroids.firstNonFinite() { throw invalid("centroid \(bad.row) has a non-finite value") }
        try vectors.withUnsafeBufferPointer { try VectorValidation.checkStoredRows($0, header: header, path: reader.path) }
        index.idMap = try IDMap(ids: ids) { invalid($0) }
        var seen = [Bool](repeating: false, count: count)
        for slot in slots {
            guard Int(slot) < count, !seen[Int(slot)] else { throw invalid("list slots are not a permutation of 0..<\(count)") }
            seen[Int(slot)] = true
        }

        // The sketch basis is not saved: it changes speed, never results, and is found again
        // from the stored vectors (not for mapped rows, which it would read all of).
        let sketch =
            codec != nil || mapped
            ? nil
            : vectors.withUnsafeBufferPointer { ListSketch.fit($0.baseAddress!, count: count, dimension: d, seed: parameters.seed) }
        if nlist > 0 { index.install(centroids: centroids, sketch: sketch, product: product) }
        index.locations = [UInt64](repeating: 0, count: count)
        let rows = sizes.map { Int($0) }
        if let mappedVectors, let mapping = reader.mapping {
            index.lists.layOut(rows: rows, mappedVectors: (mappedVectors, mapping))
            var row = 0
            for list in 0..<nlist {
                for position in 0..<rows[list] {
                    index.lists.slots[list]![position] = slots[row]
                    index.locations[Int(slots[row])] = UInt64(list) << 32 | UInt64(position)
                    row += 1
                }
            }
        } else {
            index.lists.layOut(rows: rows)
            var row = 0
            vectors.withUnsafeBufferPointer { v in
                for list in 0..<nlist {
                    for _ in 0..<rows[list] {
                        let position = index.lists.append(list, row: v.baseAddress! + row * d, slot: slots[row], normalize: false)
                        index.locations[Int(slots[row])] = UInt64(list) << 32 | UInt64(position)
                        row += 1
                    }
                }
            }
        }
        index.lists.updateDerived(from: [Int](repeating: 0, count: nlist), threads: Parallel.coreCount)
        if let codes {
            codes.withUnsafeBytes { codes in
                var offset = 0
                for list in 0..<nlist {
                    let destination = index.lists.productCodeBytes(list)
                    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: codes[offset..<(offset + destination.count)]))
                    offset += destination.count
                }
            }
        }
        index.idMap.continueAutomaticIDs(at: fields[5])
        return index
    }
}

extension IndexFileWriter {
    /// Writes one section that concatenates a per-row field of every list, in list order.
    fileprivate func writeSection(
        _ tag: String, lists: InvertedLists, bytesPerRow: Int, mappable: Bool = false, start: (Int) -> UnsafeRawPointer
    ) throws {
        let parts = (0..<lists.listCount).filter { lists.counts[$0] > 0 }.map {
            UnsafeRawBufferPointer(start: start($0), count: lists.counts[$0] * bytesPerRow)
        }
        try writeSection(tag, parts: parts, mappable: mappable)
    }
}
