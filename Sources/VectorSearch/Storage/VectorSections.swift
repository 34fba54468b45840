/// The vector sections of a `FLAT` or `HNSW` file (docs/FORMAT.md): `VECS`, the float32 rows,
/// then, for quantized storage (format 3 on), `CODE`, `CSCL` and `CNRM`, the codes scanned.
/// All are page-aligned, so a mapped load uses them where they lie.
enum VectorSections {
    static func count(_ codes: CodeStore?) -> Int { codes == nil ? 1 : 4 }

    static func write(_ store: VectorStore, _ codes: CodeStore?, to writer: IndexFileWriter) throws {
        try writer.writeSection("VECS", UnsafeRawBufferPointer(start: store.base, count: store.byteCount), mappable: true)
        for (tag, bytes) in codes?.sections ?? [] { try writer.writeSection(tag, bytes, mappable: true) }
    }

    /// Fills the empty `store` and `codes` with `rows` rows. Copied: the rows are read and checked
    /// as `add` checks them, and the codes encoded from them again must match the file's.
    /// Mapped: both are used in the file's mapping, unchecked until `vectorsearch check`.
    /// Mapped vectors only: the codes are read, their checksums verified.
    /// `randomAccess`: mapped, the rows are read in no order (an HNSW walk, not a flat scan).
    static func read(
        into store: VectorStore, _ codes: CodeStore?, rows: Int, header: IndexFile.Header, from reader: IndexFileReader,
        randomAccess: Bool = false
    ) throws {
        let dimension = header.dimension
        if let mapping = reader.mapping {
            let vectors = try reader.mapSection("VECS", as: Float.self, count: rows * dimension)
            store.adopt(mapped: vectors, count: rows, in: mapping)
            // Walks, and re-ranking after a scan of codes, read a few float32 rows per query; a
            // flat float32 scan reads them all in order (the kernel's read-ahead helps it).
            if randomAccess || codes != nil { mapping.adviseRandomAccess(vectors, count: rows * dimension * 4) }
            guard let codes else { return }
            if reader.mode == .mappedVectors {
                try codes.read(rows: rows, from: reader)
                return
            }
            let coded = try reader.mapSection("CODE", as: UInt8.self, count: rows * codes.rowBytes)
            let scales = try reader.mapSection("CSCL", as: Float.self, count: rows)
            let norms = try reader.mapSection("CNRM", as: Float.self, count: rows)
            codes.adopt(mapped: UnsafeMutableRawPointer(coded), scales: scales, normsSquared: norms, count: rows, in: mapping)
            if randomAccess {
                mapping.adviseRandomAccess(coded, count: rows * codes.rowBytes)
                mapping.adviseRandomAccess(scales, count: rows * 4)
                mapping.adviseRandomAccess(norms, count: rows * 4)
            }
            return
        }
        _ = try store.append(rows: rows) { try reader.readSection("VECS", into: $0) }
        try VectorValidation.checkStoredRows(
            UnsafeBufferPointer(start: store.base, count: rows * dimension), header: header, path: reader.path)
        guard let codes else { return }
        codes.append(store.base, rows: rows)
        guard reader.version >= 3 else { return }  // codes were not stored before format 3
        for (tag, bytes) in codes.sections {
            try reader.skipSection(tag, length: bytes.count, crc: IndexFile.crc32(bytes), derivedFrom: "VECS")
        }
    }
}
