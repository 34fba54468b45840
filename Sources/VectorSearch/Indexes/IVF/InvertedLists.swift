import CVectorKernels

/// The lists of an IVF index. List `l` keeps its vectors in one 64-byte-aligned block, rows
/// contiguous (what the one-to-many kernels and sgemm read), and the slot of each row right
/// after them in the same allocation, so a scan touches one region per list. With a
/// ``ListSketch``, each row's sketch and its terms follow in the same region.
///
/// With quantized storage (``VectorStorage``), each row's codes, scale and decoded norm² follow
/// too: the scan reads them, and re-ranking reads the float32 rows of its few candidates. With an
/// ``IVFCodec``, the product-quantization codes follow: `pq` row by row (m bytes each), `pq4fs` in
/// blocks of 32 rows (m × 16 bytes each, the layout `vs_fastscan_sums_*` reads).
///
/// A build (the first add) and a load lay every list out in one arena, back to back, on huge
/// pages when large: a query then streams its lists with few TLB misses. A list that outgrows
/// its place in the arena moves to a block of its own. A mapped load leaves the float32 rows in
/// the file (``layOut(rows:mappedVectors:)``): the arena holds the rest, and a list's rows move
/// into memory only when it grows.
///
/// Per-list pointers and counts live in fixed buffers (`let`), so the hot loop reads them with
/// no array bounds or exclusivity checks and no reference counting.
final class InvertedLists {
    let dimension: Int
    let listCount: Int
    /// Rows of list `l`, `counts[l]` of them (nil while the list has never held a vector).
    let vectors: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    /// Slot of each row of list `l`.
    let slots: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>
    let counts: UnsafeMutablePointer<Int>
    /// The pruning sketch's basis, if the lists keep sketches.
    let sketch: ListSketch?
    /// Sketch of each row of list `l` (`sketch.width` bfloat16 values per row).
    let sketches: UnsafeMutablePointer<UnsafeMutablePointer<UInt16>?>
    /// Sketch terms of each row of list `l`.
    let terms: UnsafeMutablePointer<UnsafeMutablePointer<ListSketch.Terms>?>
    /// The code kernels, if the lists keep codes.
    let codec: CodeKernels?
    /// Codes of each row of list `l` (`codeRowBytes` per row), their scales and decoded norms².
    let codes: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let codeScales: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    let codeNorms: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    let codeRowBytes: Int
    /// The product quantizer, if the lists keep product codes (in `codes`).
    let product: IVFProductCodes?
    private let kernels = DistanceKernels.best
    private let capacities: UnsafeMutablePointer<Int>
    /// Whether list `l` has a block of its own (else it lives in the arena, or nowhere yet).
    private let ownsBlock: UnsafeMutablePointer<Bool>
    private var arena: UnsafeMutableRawPointer?
    private var arenaBytes = 0
    /// The file whose mapped float32 rows the lists were laid out over, and those rows.
    private(set) var mapping: MappedFile?
    private(set) var mappedRows: (base: UnsafeMutablePointer<Float>, count: Int)?

    init(listCount: Int, dimension: Int, sketch: ListSketch? = nil, codec: CodeKernels? = nil, product: IVFProductCodes? = nil) {
        self.listCount = listCount
        self.dimension = dimension
        self.sketch = sketch
        self.codec = codec
        self.product = product
        codeRowBytes = codec.map { dimension * $0.storage.bytesPerComponent } ?? 0
        /// One entry per list (at least one), every entry `value`.
        func table<T>(_ value: T) -> UnsafeMutablePointer<T> {
            let table = UnsafeMutablePointer<T>.allocate(capacity: max(listCount, 1))
            table.initialize(repeating: value, count: max(listCount, 1))
            return table
        }
        (codes, codeScales, codeNorms) = (table(nil), table(nil), table(nil))
        (sketches, terms, vectors, slots) = (table(nil), table(nil), table(nil), table(nil))
        (counts, capacities, ownsBlock) = (table(0), table(0), table(false))
    }

    deinit {
        for l in 0..<listCount where ownsBlock[l] { vs_free_large(vectors[l]) }
        vs_free_large(arena)
        vectors.deallocate()
        slots.deallocate()
        sketches.deallocate()
        terms.deallocate()
        codes.deallocate()
        codeScales.deallocate()
        codeNorms.deallocate()
        counts.deallocate()
        capacities.deallocate()
        ownsBlock.deallocate()
    }

    /// Byte offsets in one list's region for `rows` rows (vectors at 0, then slots, sketches and
    /// terms, each 64-byte aligned) and its size.
    private struct Region {
        var slots = 0, sketches = 0, terms = 0, codes = 0, scales = 0, norms = 0, total = 0
    }

    /// `vectors` false: the region of a list whose rows lie elsewhere (a mapped file).
    private func region(rows: Int, vectors: Bool = true) -> Region {
        func aligned(_ bytes: Int) -> Int { (bytes + 63) / 64 * 64 }
        var region = Region()
        region.slots = vectors ? aligned(rows * dimension * 4) : 0
        region.sketches = region.slots + aligned(rows * 4)
        let sketchBytes = sketch.map { aligned(rows * $0.width * 2) } ?? 0
        region.terms = region.sketches + sketchBytes
        region.codes = region.terms + (sketch == nil ? 0 : aligned(rows * MemoryLayout<ListSketch.Terms>.stride))
        let coded = codec != nil
        region.scales = region.codes + aligned(codeBytes(rows: rows))
        region.norms = region.scales + (coded ? aligned(rows * 4) : 0)
        region.total = region.norms + (coded ? aligned(rows * 4) : 0)
        return region
    }

    /// Bytes of codes for `rows` rows (pq4fs: whole blocks of 32).
    private func codeBytes(rows: Int) -> Int {
        if let product { return product.codec.codeBytes(rows: rows) }
        return codec != nil ? rows * codeRowBytes : 0
    }

    /// Whether the lists keep codes that a search scans instead of the vectors.
    var isCoded: Bool { codec != nil || product != nil }

    /// Points list `l`'s pointers into a region at `block`, for `rows` rows (its float32 rows at
    /// `external` when given, else at the block's start). Product codes start zeroed, so unused
    /// nibbles and saved files are deterministic.
    private func place(_ l: Int, at block: UnsafeMutableRawPointer, rows: Int, external: UnsafeMutablePointer<Float>? = nil) {
        let region = region(rows: rows, vectors: external == nil)
        vectors[l] = external ?? block.bindMemory(to: Float.self, capacity: rows * dimension)
        slots[l] = (block + region.slots).bindMemory(to: UInt32.self, capacity: rows)
        if let sketch {
            sketches[l] = (block + region.sketches).bindMemory(to: UInt16.self, capacity: rows * sketch.width)
            terms[l] = (block + region.terms).bindMemory(to: ListSketch.Terms.self, capacity: rows)
        }
        if isCoded { codes[l] = block + region.codes }
        if product != nil { (block + region.codes).initializeMemory(as: UInt8.self, repeating: 0, count: codeBytes(rows: rows)) }
        if codec != nil {
            codeScales[l] = (block + region.scales).bindMemory(to: Float.self, capacity: rows)
            codeNorms[l] = (block + region.norms).bindMemory(to: Float.self, capacity: rows)
        }
        capacities[l] = rows
    }

    /// Places every list in one arena with room for exactly `rows[l]` rows; all lists must be empty.
    /// With `mappedVectors`, the lists' float32 rows are those rows of a mapped file, list after
    /// list (as `VECS` stores them), and the lists start full: ``counts`` are `rows`, and the
    /// caller fills in the slots and codes.
    func layOut(rows: [Int], mappedVectors: (rows: UnsafeMutablePointer<Float>, file: MappedFile)? = nil) {
        precondition(rows.count == listCount && totalCount == 0 && arena == nil)
        let external = mappedVectors != nil
        let total = rows.reduce(0) { $0 + region(rows: $1, vectors: !external).total }
        if let mappedVectors {
            mapping = mappedVectors.file
            mappedRows = (mappedVectors.rows, rows.reduce(0, +))
        }
        guard total > 0, let block = vs_alloc_large(total) else {
            if total > 0 { fatalError("out of memory allocating \(total) bytes of inverted lists") }
            return
        }
        arena = block
        arenaBytes = total
        var offset = 0, row = 0
        for l in 0..<listCount where rows[l] > 0 {
            if ownsBlock[l] { vs_free_large(vectors[l]) }
            ownsBlock[l] = false
            place(l, at: block + offset, rows: rows[l], external: mappedVectors.map { $0.rows + row * dimension })
            if external { counts[l] = rows[l] }
            offset += region(rows: rows[l], vectors: !external).total
            row += rows[l]
        }
    }

    /// Total rows over all lists.
    var totalCount: Int { (0..<listCount).reduce(0) { $0 + counts[$1] } }

    /// Bytes allocated for rows, slots and sketches (including spare capacity) and the per-list tables.
    var byteCount: Int {
        (0..<listCount).reduce(arenaBytes) { $0 + (ownsBlock[$1] ? region(rows: capacities[$1]).total : 0) } + listCount * 57
    }

    /// Rows list `l` holds without moving.
    func capacity(_ l: Int) -> Int { capacities[l] }

    /// Makes room for at least `rows` rows in list `l`.
    func reserve(_ l: Int, rows: Int) {
        guard rows > capacities[l] else { return }
        guard let block = vs_alloc_large(region(rows: rows).total) else {
            fatalError("out of memory allocating an inverted list of \(rows) rows")
        }
        let old = (vectors[l], slots[l], sketches[l], terms[l]), n = counts[l], owned = ownsBlock[l]
        let oldCodes = (codes[l], codeScales[l], codeNorms[l])
        place(l, at: block, rows: rows)
        if let oldVectors = old.0 {
            vectors[l]!.update(from: oldVectors, count: n * dimension)
            slots[l]!.update(from: old.1!, count: n)
            if let sketch {
                sketches[l]!.update(from: old.2!, count: n * sketch.width)
                terms[l]!.update(from: old.3!, count: n)
            }
            if isCoded { codes[l]!.copyMemory(from: oldCodes.0!, byteCount: codeBytes(rows: n)) }
            if codec != nil {
                codeScales[l]!.update(from: oldCodes.1!, count: n)
                codeNorms[l]!.update(from: oldCodes.2!, count: n)
            }
            if owned { vs_free_large(oldVectors) }
        }
        ownsBlock[l] = true
    }

    /// Appends one row to list `l`, scaled to unit length if `normalize`; returns its position
    /// in the list. Its sketch and codes are written by ``updateDerived(from:threads:)``.
    func append(_ l: Int, row: UnsafePointer<Float>, slot: UInt32, normalize: Bool) -> Int {
        let position = counts[l]
        if position == capacities[l] { reserve(l, rows: max(8, position * 2)) }
        let stored = vectors[l]! + position * dimension
        stored.update(from: row, count: dimension)
        if normalize { kernels.normalize(stored, dimension) }
        slots[l]![position] = slot
        counts[l] = position + 1
        return position
    }

    /// Writes the sketches and codes of every list's rows from position `first[l]` on, over
    /// `threads` threads.
    func updateDerived(from first: [Int], threads: Int) {
        guard sketch != nil || codec != nil else { return }
        let lists = UnsafeSendable(self)
        BLAS.withSingleThreadedBLAS {
            Parallel.forEachChunk(count: listCount, workers: threads) { _, range in
                for l in range {
                    lists.value.updateSketches(l, from: first[l])
                    lists.value.updateCodes(l, from: first[l])
                }
            }
        }
    }

    /// Encodes list `l`'s rows from position `start` on.
    private func updateCodes(_ l: Int, from start: Int) {
        guard let codec, counts[l] > start else { return }
        for position in start..<counts[l] {
            let code = codes[l]! + position * codeRowBytes
            let scale = VectorCodec.encode(codec.storage, vectors[l]! + position * dimension, dimension, into: code)
            codeScales[l]![position] = codec.storage == .int8 ? scale : 1
            codeNorms[l]![position] = VectorCodec.decodedNormSquared(codec.storage, code, dimension, scale: codeScales[l]![position])
        }
    }

    /// The coded rows of list `l` for scoring (the lists must keep codes).
    @inline(__always)
    func codedRows(_ l: Int) -> CodedRows? {
        guard let codec, let codes = codes[l] else { return nil }
        return CodedRows(
            codes: codes, scales: codec.storage == .int8 ? UnsafePointer(codeScales[l]!) : nil, normsSquared: codeNorms[l]!,
            dimension: dimension, kernels: codec)
    }

    /// Writes the sketches of list `l`'s rows from position `start` on.
    private func updateSketches(_ l: Int, from start: Int) {
        guard let sketch, counts[l] > start else { return }
        sketch.sketch(
            vectors[l]! + start * dimension, count: counts[l] - start, into: sketches[l]! + start * sketch.width,
            terms: terms[l]! + start, kernels: kernels)
    }

    /// Removes the row at `position` of list `l` by moving the list's last row into it.
    /// Returns the slot of the row that moved (nil when the removed row was the last).
    func removeSwappingLast(_ l: Int, position: Int) -> UInt32? {
        let last = counts[l] - 1
        precondition(position <= last)
        counts[l] = last
        guard position < last else { return nil }
        (vectors[l]! + position * dimension).update(from: vectors[l]! + last * dimension, count: dimension)
        if let sketch {
            (sketches[l]! + position * sketch.width).update(from: sketches[l]! + last * sketch.width, count: sketch.width)
            terms[l]![position] = terms[l]![last]
        }
        if product != nil {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: product!.m) { code in
                productCode(l, position: last, into: code.baseAddress!)
                setProductCode(l, position: position, code.baseAddress!)
                code.initialize(repeating: 0)
                setProductCode(l, position: last, code.baseAddress!)
            }
        }
        if codec != nil {
            (codes[l]! + position * codeRowBytes).copyMemory(from: codes[l]! + last * codeRowBytes, byteCount: codeRowBytes)
            codeScales[l]![position] = codeScales[l]![last]
            codeNorms[l]![position] = codeNorms[l]![last]
        }
        slots[l]![position] = slots[l]![last]
        return slots[l]![position]
    }

    /// Writes the product code (m slice codes, each below 2^bits) of the row at `position` of list `l`.
    func setProductCode(_ l: Int, position: Int, _ code: UnsafePointer<UInt8>) {
        let product = product!, base = codes[l]!.assumingMemoryBound(to: UInt8.self)
        guard product.codec.kind == .pq4fs else {
            (base + position * product.m).update(from: code, count: product.m)
            return
        }
        let block = base + position / 32 * product.paddedM * 16, byte = position % 16, shift: UInt8 = position % 32 < 16 ? 0 : 4
        for s in 0..<product.paddedM {
            let value = s < product.m ? code[s] & 15 : 0
            block[s * 16 + byte] = block[s * 16 + byte] & ~(15 << shift) | value << shift
        }
    }

    /// Bytes of list `l`'s product codes as the scan reads them (saved as they are).
    func productCodeBytes(_ l: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: codes[l], count: counts[l] > 0 ? codeBytes(rows: counts[l]) : 0)
    }

    /// Reads the product code of the row at `position` of list `l` into `code` (m bytes).
    func productCode(_ l: Int, position: Int, into code: UnsafeMutablePointer<UInt8>) {
        let product = product!, base = codes[l]!.assumingMemoryBound(to: UInt8.self)
        guard product.codec.kind == .pq4fs else {
            code.update(from: base + position * product.m, count: product.m)
            return
        }
        let block = base + position / 32 * product.paddedM * 16, byte = position % 16, shift: UInt8 = position % 32 < 16 ? 0 : 4
        for s in 0..<product.m { code[s] = block[s * 16 + byte] >> shift & 15 }
    }
}
