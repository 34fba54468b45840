import Foundation

/// Reading and writing embedding files. Readers stream into the final buffer (memory about
/// the size of the data) and refuse malformed input with an error that names the file, the
/// row and what is wrong: truncated row, wrong dimension, bad header, NaN or infinity.
public enum EmbeddingFile {
    /// Largest dimension a header may claim before it is taken as garbage.
    static let maximumDimension = 1 << 20

    /// Reads float vectors from `path` (fvecs, bvecs, fbin, npy or jsonl).
    public static func read(_ path: String, format: EmbeddingFormat? = nil) throws -> EmbeddingSet {
        switch try EmbeddingFormat.resolve(format, path: path) {
        case .fvecs:
            return EmbeddingSet(vectors: try readVecs(path, elementSize: 4, checkFinite: true, convert: copyFloats), ids: nil)
        case .bvecs:
            return EmbeddingSet(vectors: try readVecs(path, elementSize: 1, checkFinite: false, convert: widenBytes), ids: nil)
        case .fbin: return EmbeddingSet(vectors: try readFbin(path), ids: nil)
        case .npy: return EmbeddingSet(vectors: try NPYFile.readFloats(path), ids: nil)
        case .jsonl: return try JSONLEmbeddings.read(path)
        case .ivecs, .ibin:
            throw VectorSearchError.invalidArgument("\(path): holds integers, not vectors; use readIntegers")
        }
    }

    /// Reads an int32 matrix (ivecs, ibin or int32 npy), such as ground truth.
    public static func readIntegers(_ path: String, format: EmbeddingFormat? = nil) throws -> IntegerMatrix {
        switch try EmbeddingFormat.resolve(format, path: path) {
        case .ivecs:
            // Read as 4-byte rows; the values keep their bit patterns and are reinterpreted below.
            let m = try readVecs(path, elementSize: 4, checkFinite: false, convert: copyFloats)
            return try IntegerMatrix(dimension: m.dimension, values: m.values.map { Int32(bitPattern: $0.bitPattern) })
        case .ibin: return try readIbin(path)
        case .npy: return try NPYFile.readIntegers(path)
        case let other:
            throw VectorSearchError.invalidArgument("\(path): \(other.rawValue) holds vectors, not integers")
        }
    }

    // MARK: TEXMEX (.fvecs, .bvecs, .ivecs)

    private static func copyFloats(_ source: UnsafeRawBufferPointer, _ destination: UnsafeMutablePointer<Float>, _ d: Int) {
        UnsafeMutableRawPointer(destination).copyMemory(from: source.baseAddress!, byteCount: d * 4)
    }

    private static func widenBytes(_ source: UnsafeRawBufferPointer, _ destination: UnsafeMutablePointer<Float>, _ d: Int) {
        for j in 0..<d { destination[j] = Float(source[j]) }
    }

    /// Rows of an int32 dimension then `d` elements; ivecs rows pass through as float bit patterns.
    private static func readVecs(
        _ path: String, elementSize: Int, checkFinite: Bool,
        convert: (UnsafeRawBufferPointer, UnsafeMutablePointer<Float>, Int) -> Void
    ) throws -> VectorMatrix {
        let file = try BinaryReader(path: path)
        guard file.size > 0 else { throw malformed(path, nil, nil, "empty file (no rows, so no dimension)") }
        guard let first = try file.read(Int32.self) else {
            throw malformed(path, 0, 0, "truncated: \(file.size) bytes, too short for a dimension header")
        }
        let d = Int(Int32(littleEndian: first))
        guard d > 0, d <= maximumDimension else {
            throw malformed(path, 0, 0, "bad header: dimension \(d) (is this really a .\(elementSize == 1 ? "bvecs" : "fvecs/ivecs") file?)")
        }
        let rowBytes = 4 + d * elementSize
        let rows = file.size / rowBytes
        let values = try [Float](unsafeUninitializedCapacity: rows * d) { buffer, initialized in
            try withUnsafeTemporaryAllocation(byteCount: d * elementSize, alignment: 16) { scratch in
                for row in 0..<rows {
                    let offset = row * rowBytes
                    if row > 0 {
                        guard let dim = try file.read(Int32.self) else { throw malformed(path, row, offset, "truncated") }
                        guard Int(Int32(littleEndian: dim)) == d else {
                            throw malformed(path, row, offset, "dimension \(Int32(littleEndian: dim)), expected \(d) as in row 0")
                        }
                    }
                    guard try file.read(into: scratch) else { throw malformed(path, row, offset, "truncated row") }
                    let destination = buffer.baseAddress! + row * d
                    convert(UnsafeRawBufferPointer(scratch), destination, d)
                    if checkFinite, let column = (0..<d).first(where: { !destination[$0].isFinite }) {
                        throw malformed(path, row, offset + 4 + column * 4, "non-finite value (NaN or infinity) at column \(column)")
                    }
                }
            }
            initialized = rows * d
        }
        if file.size % rowBytes != 0 {
            throw malformed(
                path, rows, rows * rowBytes,
                "truncated: \(file.size % rowBytes) trailing bytes, a row of dimension \(d) takes \(rowBytes)")
        }
        return try VectorMatrix(dimension: d, values: values)
    }

    // MARK: big-ann-benchmarks (.fbin, .ibin)

    static func readBinHeader(_ file: BinaryReader, elementSize: Int) throws -> (rows: Int, dimension: Int) {
        guard let n = try file.read(UInt32.self), let d = try file.read(UInt32.self) else {
            throw malformed(file.path, nil, 0, "bad header: \(file.size) bytes, too short for the 8-byte header")
        }
        let rows = Int(UInt32(littleEndian: n)), dimension = Int(UInt32(littleEndian: d))
        guard dimension > 0, dimension <= maximumDimension else {
            throw malformed(file.path, nil, 4, "bad header: dimension \(dimension)")
        }
        let expected = 8 + rows * dimension * elementSize
        if file.size < expected {
            let completeRows = (file.size - 8) / (dimension * elementSize)
            throw malformed(
                file.path, completeRows, 8 + completeRows * dimension * elementSize,
                "truncated: header says \(rows) rows of dimension \(dimension) (\(expected) bytes), file has \(file.size)")
        }
        guard file.size == expected else {
            throw malformed(file.path, nil, expected, "\(file.size - expected) unexpected bytes after \(rows) rows")
        }
        return (rows, dimension)
    }

    private static func readFbin(_ path: String) throws -> VectorMatrix {
        let (values, d): ([Float], Int) = try readBin(path)
        try checkFinite(values, dimension: d, path: path, dataOffset: 8)
        return try VectorMatrix(dimension: d, values: values)
    }

    private static func readIbin(_ path: String) throws -> IntegerMatrix {
        let (values, d): ([Int32], Int) = try readBin(path)
        return try IntegerMatrix(dimension: d, values: values)
    }

    /// The rows of a big-ann .fbin / .ibin file (4-byte elements) and their dimension.
    private static func readBin<T>(_ path: String) throws -> ([T], Int) {
        let file = try BinaryReader(path: path)
        let (rows, d) = try readBinHeader(file, elementSize: 4)
        let values = try [T](unsafeUninitializedCapacity: rows * d) { buffer, initialized in
            _ = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = rows * d
        }
        return (values, d)
    }

    static func checkFinite(_ values: [Float], dimension: Int, path: String, dataOffset: Int) throws {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw malformed(
                path, bad / dimension, dataOffset + bad * 4,
                "non-finite value (NaN or infinity) at column \(bad % dimension)")
        }
    }

    static func malformed(_ path: String, _ row: Int?, _ offset: Int?, _ reason: String) -> VectorSearchError {
        .malformedFile(path: path, row: row, byteOffset: offset, reason: reason)
    }

    // MARK: Writers

    /// Writes vectors as fvecs, fbin, npy (float32) or jsonl (ids = row numbers unless given).
    public static func write(
        _ vectors: VectorMatrix, to path: String, format: EmbeddingFormat? = nil, ids: [VectorID]? = nil
    ) throws {
        let format = try EmbeddingFormat.resolve(format, path: path)
        let file = try AtomicFileWriter(path: path)
        switch format {
        case .fvecs, .fbin, .npy:
            try writeRows(vectors.values, rows: vectors.count, dimension: vectors.dimension, format: format, npyType: "<f4", to: file)
        case .jsonl:
            for row in 0..<vectors.count {
                let id = ids?[row] ?? VectorID(row)
                let line = "{\"id\": \(id), \"embedding\": [" + vectors[row].map { "\($0)" }.joined(separator: ", ") + "]}\n"
                try file.write(contentsOf: Array(line.utf8))
            }
        case .bvecs, .ivecs, .ibin:
            throw VectorSearchError.invalidArgument("\(path): cannot write float vectors as \(format.rawValue)")
        }
        try file.commit()
    }

    /// Writes an int32 matrix as ivecs, ibin or npy.
    public static func write(_ matrix: IntegerMatrix, to path: String, format: EmbeddingFormat? = nil) throws {
        let format = try EmbeddingFormat.resolve(format, path: path)
        let file = try AtomicFileWriter(path: path)
        switch format {
        case .ivecs, .ibin, .npy:
            try writeRows(matrix.values, rows: matrix.count, dimension: matrix.dimension, format: format, npyType: "<i4", to: file)
        default:
            throw VectorSearchError.invalidArgument("\(path): cannot write integers as \(format.rawValue)")
        }
        try file.commit()
    }

    /// Writes `rows` rows of `dimension` 4-byte values (float32 or int32) in one of the row
    /// layouts: TEXMEX (fvecs, ivecs: each row after its dimension), big-ann (fbin, ibin: the
    /// count and dimension first) or npy (`npyType` is its dtype).
    private static func writeRows<T>(
        _ values: [T], rows: Int, dimension d: Int, format: EmbeddingFormat, npyType: String, to file: AtomicFileWriter
    ) throws {
        switch format {
        case .fvecs, .ivecs:
            try values.withUnsafeBytes { bytes in
                for row in 0..<rows {
                    try file.write(Int32(d).littleEndian)
                    try file.write(UnsafeRawBufferPointer(rebasing: bytes[(row * d * 4)..<((row + 1) * d * 4)]))
                }
            }
        case .fbin, .ibin:
            try file.write(UInt32(rows).littleEndian)
            try file.write(UInt32(d).littleEndian)
            try file.write(contentsOf: values)
        default:
            try file.write(contentsOf: NPYFile.header(descr: npyType, rows: rows, columns: d))
            try file.write(contentsOf: values)
        }
    }
}
