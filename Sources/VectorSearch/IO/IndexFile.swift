import CVectorKernels

// Index and embedding files are little-endian and read straight into memory.
#if _endian(big)
#error("VectorSearch reads and writes little-endian files directly; big-endian hosts are not supported")
#endif

/// The kinds of index a file can hold, each with a four-character code in the header.
public enum IndexKind: String, Sendable, CaseIterable, Codable {
    case flat, ivf, hnsw

    var fourCC: UInt32 {
        switch self {
        case .flat: IndexFile.fourCC("FLAT")
        case .ivf: IndexFile.fourCC("IVFF")
        case .hnsw: IndexFile.fourCC("HNSW")
        }
    }

    init?(fourCC: UInt32) {
        guard let kind = Self.allCases.first(where: { $0.fourCC == fourCC }) else { return nil }
        self = kind
    }
}

/// Index file format v3 (see docs/FORMAT.md): a 48-byte header, then sections, each a 24-byte
/// section header (tag, padding, length, CRC-32), zero padding and its payload. All little-endian.
enum IndexFile {
    static let magic: [UInt8] = Array("VSINDEX\0".utf8)
    /// 2 added the optional trailing `ATTR` section (metadata); 3 aligned payloads (padding after
    /// each section header) so sections can be memory-mapped, and stored codes (`CODE`, `CSCL`,
    /// `CNRM`) for quantized storage. Older versions read as before.
    static let version: UInt32 = 3
    static let headerSize = 48
    static let sectionHeaderSize = 24
    /// Payloads a reader may map start on a page; the others on a cache line.
    static let pageAlignment = 4096
    static let payloadAlignment = 64

    struct Header: Equatable {
        var kind: IndexKind
        var metric: Metric
        var dimension: Int
        var count: Int
        var sectionCount: Int
        /// How the index scans its vectors (bytes 36..<40; 0, float32, in files before it existed).
        /// The float32 vectors are always in the file; codes are rebuilt from them on load.
        var storage: VectorStorage = .float32
    }

    static func fourCC(_ text: String) -> UInt32 {
        let bytes = Array(text.utf8)
        precondition(bytes.count == 4)
        return UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }

    static func name(ofFourCC code: UInt32) -> String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: code >> (8 * $0)) }
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return "0x" + String(code, radix: 16) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 { Checksum.crc32(bytes) }
}

/// The CRC-32 index files use, for other stored data too (a collection's query adapter).
package enum Checksum {
    package static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        vs_crc32(0, bytes.baseAddress, bytes.count)
    }
}

/// Writes an index file section by section, atomically.
final class IndexFileWriter {
    private let file: AtomicFileWriter
    private var sectionsLeft: Int
    private var offset = IndexFile.headerSize

    init(path: String, header: IndexFile.Header) throws {
        file = try AtomicFileWriter(path: path)
        sectionsLeft = header.sectionCount
        var bytes = [UInt8](repeating: 0, count: IndexFile.headerSize)
        bytes.replaceSubrange(0..<8, with: IndexFile.magic)
        func put(_ value: UInt32, at offset: Int) {
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
        }
        put(IndexFile.version, at: 8)
        put(header.kind.fourCC, at: 12)
        put(header.metric.code, at: 16)
        put(UInt32(header.dimension), at: 20)
        put(UInt32(truncatingIfNeeded: header.count), at: 24)
        put(UInt32(truncatingIfNeeded: header.count >> 32), at: 28)
        put(UInt32(header.sectionCount), at: 32)
        put(header.storage.code, at: 36)
        // 40..<44 reserved, zero.
        put(bytes.withUnsafeBytes { IndexFile.crc32(UnsafeRawBufferPointer(rebasing: $0[0..<44])) }, at: 44)
        try file.write(contentsOf: bytes)
    }

    /// `mappable`: a section that ``IndexFileReader/mapSection(_:as:count:)`` may map, whose
    /// payload starts on a page.
    func writeSection(_ tag: String, _ payload: UnsafeRawBufferPointer, mappable: Bool = false) throws {
        try writeSection(tag, parts: [payload], mappable: mappable)
    }

    /// Writes one section whose payload is `parts` one after another (no copy to join them).
    func writeSection(_ tag: String, parts: [UnsafeRawBufferPointer], mappable: Bool = false) throws {
        precondition(sectionsLeft > 0, "more sections than the header announced")
        sectionsLeft -= 1
        let crc = parts.reduce(UInt32(0)) { vs_crc32($0, $1.baseAddress, $1.count) }
        let length = parts.reduce(0) { $0 + $1.count }
        let alignment = mappable ? IndexFile.pageAlignment : IndexFile.payloadAlignment
        let padding = (alignment - (offset + IndexFile.sectionHeaderSize) % alignment) % alignment
        try file.write(IndexFile.fourCC(tag).littleEndian)
        try file.write(UInt32(padding).littleEndian)
        try file.write(UInt64(length).littleEndian)
        try file.write(crc.littleEndian)
        try file.write(UInt32(0))
        if padding > 0 { try file.write(contentsOf: [UInt8](repeating: 0, count: padding)) }
        for part in parts where part.count > 0 { try file.write(part) }
        offset += IndexFile.sectionHeaderSize + padding + length
    }

    func writeSection<T>(_ tag: String, _ array: [T], mappable: Bool = false) throws {
        try array.withUnsafeBytes { try writeSection(tag, $0, mappable: mappable) }
    }

    func commit() throws {
        precondition(sectionsLeft == 0, "fewer sections than the header announced")
        try file.commit()
    }
}

/// How an index file is loaded.
public enum IndexLoadMode: String, Sendable, CaseIterable, Codable {
    /// Read into memory, every section's checksum verified and its contents checked.
    case copy
    /// Map the large sections (vectors, codes, level-0 links) from the file instead of reading
    /// them: the index opens in milliseconds and the page cache holds what searches touch.
    /// Their checksums are not verified at open (`vectorsearch check` does); out-of-range links
    /// in a damaged file are skipped by searches, never followed. A write to a mapped index
    /// changes private copies of the pages it touches; the file is never written.
    /// Files of format version 3 or later only (re-save older ones).
    case mapped
    /// Map only the float32 vectors; read the codes, links and everything else into memory
    /// (checksums verified, the float32 vectors' not). For quantized storage: memory holds the
    /// codes and the graph, searches walk them at in-memory speed, and re-ranking reads the few
    /// float32 rows it needs from the file. Version 3 files. IVF maps its float32 vectors in
    /// both mapped modes (its lists' slots and codes are read).
    case mappedVectors = "mapped-vectors"

    /// Whether some sections are used where they lie in the file.
    var maps: Bool { self != .copy }
}

/// Reads and checks an index file: magic, version, header checksum, then each section's tag,
/// length and checksum. Every failure is a clear error, never a crash.
final class IndexFileReader {
    let path: String
    let header: IndexFile.Header
    let version: UInt32
    let mode: IndexLoadMode
    /// The whole file, mapped, when loading with ``IndexLoadMode/mapped`` or ``IndexLoadMode/mappedVectors``.
    let mapping: MappedFile?
    private let file: BinaryReader

    init(path: String, expecting kind: IndexKind? = nil, mode: IndexLoadMode = .copy) throws {
        self.path = path
        let file = try BinaryReader(path: path)
        self.file = file
        var bytes = [UInt8](repeating: 0, count: IndexFile.headerSize)
        let complete = try bytes.withUnsafeMutableBytes { try file.read(into: $0) }
        guard complete || file.size >= 8 else {
            throw VectorSearchError.corruptIndex(path: path, reason: "file of \(file.size) bytes is too short for an index header")
        }
        guard Array(bytes[0..<8]) == IndexFile.magic else {
            throw VectorSearchError.corruptIndex(path: path, reason: "not a VectorSearch index (bad magic)")
        }
        guard complete else {
            throw VectorSearchError.corruptIndex(path: path, reason: "truncated header (\(file.size) bytes)")
        }
        func get(_ offset: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
        }
        let version = get(8)
        guard version > 0 else { throw VectorSearchError.corruptIndex(path: path, reason: "format version 0 does not exist") }
        guard version <= IndexFile.version else {
            throw VectorSearchError.unsupportedFormatVersion(path: path, found: version, supported: IndexFile.version)
        }
        let headerCRC = bytes.withUnsafeBytes { IndexFile.crc32(UnsafeRawBufferPointer(rebasing: $0[0..<44])) }
        guard headerCRC == get(44) else {
            throw VectorSearchError.corruptIndex(path: path, reason: "header checksum mismatch")
        }
        guard let foundKind = IndexKind(fourCC: get(12)) else {
            throw VectorSearchError.corruptIndex(path: path, reason: "unknown index kind '\(IndexFile.name(ofFourCC: get(12)))'")
        }
        if let kind, kind != foundKind {
            throw VectorSearchError.wrongIndexKind(path: path, expected: kind.rawValue, found: foundKind.rawValue)
        }
        guard let metric = Metric(code: get(16)) else {
            throw VectorSearchError.corruptIndex(path: path, reason: "unknown metric code \(get(16))")
        }
        let dimension = Int(get(20))
        let rawCount = UInt64(get(24)) | UInt64(get(28)) << 32
        // Every kind stores its vectors as float32: count × dimension × 4 bytes must fit in the
        // file, checked before anything is sized from the header (a crafted header with a valid
        // checksum must give an error, not an overflow or a huge allocation).
        guard dimension > 0, dimension <= ParameterCheck.maximumDimension, rawCount < 1 << 40, case let count = Int(rawCount),
            case let (cells, overflow) = count.multipliedReportingOverflow(by: dimension), !overflow,
            cells <= file.size / 4
        else {
            throw VectorSearchError.corruptIndex(
                path: path,
                reason: "truncated or damaged: the header claims \(rawCount) vectors of dimension \(dimension), more than the file's \(file.size) bytes hold")
        }
        guard let storage = VectorStorage(code: get(36)) else {
            throw VectorSearchError.corruptIndex(path: path, reason: "unknown vector storage code \(get(36))")
        }
        header = IndexFile.Header(
            kind: foundKind, metric: metric, dimension: dimension, count: count, sectionCount: Int(get(32)), storage: storage)
        self.version = version
        self.mode = mode
        if mode.maps {
            guard version >= 3 else {
                throw VectorSearchError.invalidArgument(
                    "\(path): format version \(version) has no aligned sections to map; load it copied, or save it again to map it")
            }
            mapping = try MappedFile(path: path)
        } else {
            mapping = nil
        }
    }

    /// Reads the next section, which must carry `tag` and exactly `destination.count` bytes.
    func readSection(_ tag: String, into destination: UnsafeMutableRawBufferPointer) throws {
        let length = try sectionHeader(tag)
        guard length == destination.count else {
            throw VectorSearchError.corruptIndex(
                path: path, reason: "section '\(tag)' holds \(length) bytes, expected \(destination.count)")
        }
        try readPayload(tag, into: destination)
    }

    /// Reads the next section into a new array of `T` (its length must be a multiple of T's size).
    func readSection<T>(_ tag: String, as type: T.Type, count expected: Int? = nil) throws -> [T] {
        let length = try sectionHeader(tag)
        try checkLength(tag, length, of: T.self, count: expected)
        return try [T](unsafeUninitializedCapacity: length / MemoryLayout<T>.stride) { buffer, initialized in
            try readPayload(tag, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = length / MemoryLayout<T>.stride
        }
    }

    /// The next section, `count` values of `T`, in the file's mapping (the reader must map, see
    /// ``IndexLoadMode``): no copy and no checksum (`vectorsearch check` verifies it).
    func mapSection<T>(_ tag: String, as type: T.Type, count: Int) throws -> UnsafeMutablePointer<T> {
        guard let mapping else { preconditionFailure("mapSection needs a mapped reader") }
        let length = try sectionHeader(tag)
        try checkLength(tag, length, of: T.self, count: count)
        let start = file.offset
        guard start % MemoryLayout<T>.alignment == 0, try file.skip(length) else {
            throw VectorSearchError.corruptIndex(path: path, reason: "section '\(tag)' is not aligned for mapping")
        }
        return mapping.pointer(at: start, as: T.self)
    }

    /// Skips the next section, checking that its checksum is `expectedCRC`: the section must
    /// hold what this reader recomputed from other sections (codes from the vectors).
    func skipSection(_ tag: String, length expected: Int, crc expectedCRC: UInt32, derivedFrom source: String) throws {
        let length = try sectionHeader(tag)
        guard length == expected else {
            throw VectorSearchError.corruptIndex(path: path, reason: "section '\(tag)' holds \(length) bytes, expected \(expected)")
        }
        guard try file.skip(length) else { throw VectorSearchError.corruptIndex(path: path, reason: "truncated in section '\(tag)'") }
        guard pendingCRC == expectedCRC else {
            throw VectorSearchError.corruptIndex(path: path, reason: "section '\(tag)' does not match section '\(source)' (damaged or written wrongly)")
        }
    }

    private func checkLength<T>(_ tag: String, _ length: Int, of type: T.Type, count expected: Int?) throws {
        let stride = MemoryLayout<T>.stride
        guard length % stride == 0, expected.map({ $0 * stride == length }) ?? true else {
            throw VectorSearchError.corruptIndex(
                path: path, reason: "section '\(tag)' holds \(length) bytes, expected \(expected.map { "\($0 * stride)" } ?? "a multiple of \(stride)")")
        }
    }

    private var pendingCRC: UInt32 = 0
    /// Sections read so far; optional trailing sections are there when the header counts more.
    private(set) var sectionsRead = 0

    private func sectionHeader(_ tag: String) throws -> Int {
        var bytes = [UInt8](repeating: 0, count: IndexFile.sectionHeaderSize)
        let start = file.offset
        guard try bytes.withUnsafeMutableBytes({ try file.read(into: $0) }) else {
            throw VectorSearchError.corruptIndex(path: path, reason: "truncated: section '\(tag)' is missing at byte \(start)")
        }
        sectionsRead += 1
        let found = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self) }
        guard found == IndexFile.fourCC(tag) else {
            throw VectorSearchError.corruptIndex(
                path: path, reason: "expected section '\(tag)', found '\(IndexFile.name(ofFourCC: found))'")
        }
        let padding = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) })
        let length = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
        pendingCRC = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self) }
        // Before version 3 these bytes were reserved (zero); since, the zero bytes before the payload.
        guard padding == 0 || (version >= 3 && padding < IndexFile.pageAlignment) else {
            throw VectorSearchError.corruptIndex(path: path, reason: "section '\(tag)' has a bad padding length \(padding)")
        }
        // The bytes the section needs count its padding (saturated: a damaged length may be huge).
        guard length <= UInt64(file.remaining), padding <= file.remaining - Int(length) else {
            let (needed, overflow) = length.addingReportingOverflow(UInt64(padding))
            throw VectorSearchError.corruptIndex(
                path: path, reason: "truncated: section '\(tag)' needs \(overflow ? UInt64.max : needed) bytes, \(file.remaining) remain")
        }
        _ = try file.skip(padding)
        return Int(length)
    }

    private func readPayload(_ tag: String, into destination: UnsafeMutableRawBufferPointer) throws {
        guard try file.read(into: destination) else {
            throw VectorSearchError.corruptIndex(path: path, reason: "truncated in section '\(tag)'")
        }
        guard IndexFile.crc32(UnsafeRawBufferPointer(destination)) == pendingCRC else {
            throw VectorSearchError.corruptIndex(path: path, reason: "checksum mismatch in section '\(tag)'")
        }
    }

    /// Checks nothing follows the last section.
    func finish() throws {
        guard file.remaining == 0 else {
            throw VectorSearchError.corruptIndex(path: path, reason: "\(file.remaining) unexpected bytes after the last section")
        }
    }
}
