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

/// Index file format v2 (see docs/FORMAT.md): a 48-byte header, then sections, each a 24-byte
/// section header (tag, length, CRC-32) and its payload. All little-endian.
enum IndexFile {
    static let magic: [UInt8] = Array("VSINDEX\0".utf8)
    /// 2 added the optional trailing `ATTR` section (metadata); version 1 files read as before.
    static let version: UInt32 = 2
    static let headerSize = 48
    static let sectionHeaderSize = 24

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

    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        vs_crc32(0, bytes.baseAddress, bytes.count)
    }
}

/// Writes an index file section by section, atomically.
final class IndexFileWriter {
    private let file: AtomicFileWriter
    private var sectionsLeft: Int

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

    func writeSection(_ tag: String, _ payload: UnsafeRawBufferPointer) throws {
        try writeSection(tag, parts: [payload])
    }

    /// Writes one section whose payload is `parts` one after another (no copy to join them).
    func writeSection(_ tag: String, parts: [UnsafeRawBufferPointer]) throws {
        precondition(sectionsLeft > 0, "more sections than the header announced")
        sectionsLeft -= 1
        let crc = parts.reduce(UInt32(0)) { vs_crc32($0, $1.baseAddress, $1.count) }
        try file.write(IndexFile.fourCC(tag).littleEndian)
        try file.write(UInt32(0))
        try file.write(UInt64(parts.reduce(0) { $0 + $1.count }).littleEndian)
        try file.write(crc.littleEndian)
        try file.write(UInt32(0))
        for part in parts where part.count > 0 { try file.write(part) }
    }

    func writeSection<T>(_ tag: String, _ array: [T]) throws {
        try array.withUnsafeBytes { try writeSection(tag, $0) }
    }

    func commit() throws {
        precondition(sectionsLeft == 0, "fewer sections than the header announced")
        try file.commit()
    }
}

/// Reads and checks an index file: magic, version, header checksum, then each section's tag,
/// length and checksum. Every failure is a clear error, never a crash.
final class IndexFileReader {
    let path: String
    let header: IndexFile.Header
    private let file: BinaryReader

    init(path: String, expecting kind: IndexKind? = nil) throws {
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
        guard storage == .float32 || foundKind != .ivf else {
            throw VectorSearchError.corruptIndex(
                path: path, reason: "\(storage.rawValue) storage in a \(foundKind.rawValue) index is not supported by this version")
        }
        header = IndexFile.Header(
            kind: foundKind, metric: metric, dimension: dimension, count: count, sectionCount: Int(get(32)), storage: storage)
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
        let stride = MemoryLayout<T>.stride
        guard length % stride == 0, expected.map({ $0 * stride == length }) ?? true else {
            throw VectorSearchError.corruptIndex(
                path: path, reason: "section '\(tag)' holds \(length) bytes, expected \(expected.map { "\($0 * stride)" } ?? "a multiple of \(stride)")")
        }
        return try [T](unsafeUninitializedCapacity: length / stride) { buffer, initialized in
            try readPayload(tag, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = length / stride
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
        let length = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
        pendingCRC = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self) }
        guard length <= UInt64(file.remaining) else {
            throw VectorSearchError.corruptIndex(
                path: path, reason: "truncated: section '\(tag)' needs \(length) bytes, \(file.remaining) remain")
        }
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
