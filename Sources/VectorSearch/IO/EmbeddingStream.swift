/// The rows of an fvecs, bvecs or fbin file read a batch at a time, checked as
/// ``EmbeddingFile/read(_:format:)`` checks them (errors name the file and the row): a build over
/// a file larger than memory can afford twice holds its index and one batch, not the whole file.
///
/// ```swift
/// let stream = try EmbeddingStream("base.fvecs")
/// while let batch = try stream.next(rows: 100_000) { try index.add(batch) }
/// ```
public final class EmbeddingStream {
    public let path: String
    /// Components per row.
    public let dimension: Int
    /// Rows in the file.
    public let count: Int
    /// Rows read so far.
    public private(set) var position = 0
    private let reader: BinaryReader
    private let format: EmbeddingFormat
    /// fvecs and bvecs: bytes per row, its 4-byte dimension header included.
    private let rowBytes: Int

    /// Whether `path` (in `format`, or as its extension says) can be streamed: fvecs, bvecs, fbin.
    public static func supports(_ path: String, format: EmbeddingFormat? = nil) -> Bool {
        guard let resolved = try? EmbeddingFormat.resolve(format, path: path) else { return false }
        return [.fvecs, .bvecs, .fbin].contains(resolved)
    }

    /// Opens `path` and checks its header and size; a file whose size is not a whole number of
    /// rows is refused here, before any row is used.
    public init(_ path: String, format: EmbeddingFormat? = nil) throws {
        self.path = path
        self.format = try EmbeddingFormat.resolve(format, path: path)
        reader = try BinaryReader(path: path)
        switch self.format {
        case .fvecs, .bvecs:
            let elementSize = self.format == .fvecs ? 4 : 1
            guard reader.size > 0 else { throw EmbeddingFile.malformed(path, nil, nil, "empty file (no rows, so no dimension)") }
            guard let first = try reader.read(Int32.self) else {
                throw EmbeddingFile.malformed(path, 0, 0, "truncated: \(reader.size) bytes, too short for a dimension header")
            }
            let d = Int(Int32(littleEndian: first))
            guard d > 0, d <= EmbeddingFile.maximumDimension else {
                throw EmbeddingFile.malformed(path, 0, 0, "bad header: dimension \(d) (is this really a .\(self.format.rawValue) file?)")
            }
            dimension = d
            rowBytes = 4 + d * elementSize
            count = reader.size / rowBytes
            if reader.size % rowBytes != 0 {
                throw EmbeddingFile.malformed(
                    path, count, count * rowBytes, "truncated: \(reader.size % rowBytes) trailing bytes, a row of dimension \(d) takes \(rowBytes)")
            }
        case .fbin:
            (count, dimension) = try EmbeddingFile.readBinHeader(reader, elementSize: 4)
            rowBytes = dimension * 4
        default:
            throw VectorSearchError.invalidArgument("\(path): \(self.format.rawValue) is read whole; streaming reads fvecs, bvecs and fbin")
        }
    }

    /// Moves past `rows` rows without reading them (nor checking them): a shard's build starts
    /// at its first row, and a fingerprint reads a few rows spread over the file.
    public func skip(rows: Int) throws {
        try ParameterCheck.atLeast(0, "rows", rows)
        let n = min(rows, count - position)
        guard n > 0 else { return }
        // fvecs and bvecs: at row 0 its dimension header has been read already.
        let header = format != .fbin && position == 0 ? 4 : 0
        guard try reader.skip(n * rowBytes - header) else { throw EmbeddingFile.malformed(path, position, nil, "truncated") }
        position += n
    }

    /// The rows numbered `rows` (ascending, none before ``position``), one after another: a
    /// training sample or a fingerprint reads only the rows it takes, skipping the others
    /// unchecked.
    public func read(rows: [Int]) throws -> VectorMatrix {
        var values = [Float]()
        values.reserveCapacity(rows.count * dimension)
        for row in rows {
            guard row >= position, row < count else {
                throw VectorSearchError.invalidArgument("row \(row) is not ahead of the stream's position \(position) in \(path) (\(count) rows)")
            }
            try skip(rows: row - position)
            values += try next(rows: 1)!.values
        }
        return try VectorMatrix(dimension: dimension, values: values)
    }

    /// The next `rows` rows (fewer at the end of the file; nil once every row has been read).
    public func next(rows: Int) throws -> VectorMatrix? {
        try ParameterCheck.atLeast(1, "rows", rows)
        let n = min(rows, count - position)
        guard n > 0 else { return nil }
        let d = dimension, first = position
        var values = [Float](repeating: 0, count: n * d)
        try values.withUnsafeMutableBufferPointer { out in
            if format == .fbin {
                guard try reader.read(into: UnsafeMutableRawBufferPointer(out)) else {
                    throw EmbeddingFile.malformed(path, first, 8 + first * rowBytes, "truncated")
                }
                if let bad = out.firstIndex(where: { !$0.isFinite }) {
                    throw EmbeddingFile.malformed(
                        path, first + bad / d, 8 + (first * d + bad) * 4, "non-finite value (NaN or infinity) at column \(bad % d)")
                }
                return
            }
            let elementSize = format == .fvecs ? 4 : 1
            try withUnsafeTemporaryAllocation(byteCount: d * elementSize, alignment: 16) { scratch in
                for i in 0..<n {
                    let row = first + i, offset = row * rowBytes
                    // Row 0's dimension header was read when the stream opened.
                    if row > 0 {
                        guard let dim = try reader.read(Int32.self) else { throw EmbeddingFile.malformed(path, row, offset, "truncated") }
                        guard Int(Int32(littleEndian: dim)) == d else {
                            throw EmbeddingFile.malformed(path, row, offset, "dimension \(Int32(littleEndian: dim)), expected \(d) as in row 0")
                        }
                    }
                    guard try reader.read(into: scratch) else { throw EmbeddingFile.malformed(path, row, offset, "truncated row") }
                    let destination = out.baseAddress! + i * d
                    if elementSize == 1 {
                        for j in 0..<d { destination[j] = Float(scratch[j]) }
                    } else {
                        UnsafeMutableRawPointer(destination).copyMemory(from: scratch.baseAddress!, byteCount: d * 4)
                        if let column = (0..<d).first(where: { !destination[$0].isFinite }) {
                            throw EmbeddingFile.malformed(path, row, offset + 4 + column * 4, "non-finite value (NaN or infinity) at column \(column)")
                        }
                    }
                }
            }
        }
        position += n
        return try VectorMatrix(dimension: d, values: values)
    }
}
