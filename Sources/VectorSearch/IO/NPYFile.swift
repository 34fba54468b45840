/// NumPy `.npy` files (format versions 1–3): 2-D arrays in C order of little-endian float32,
/// float16 (widened to float32 on read) or int32.
enum NPYFile {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    struct Header {
        var descr: String
        var rows: Int
        var columns: Int
        var dataOffset: Int
    }

    static func readFloats(_ path: String) throws -> VectorMatrix {
        let file = try BinaryReader(path: path)
        let header = try readHeader(file)
        let n = header.rows * header.columns
        switch header.descr {
        case "<f4":
            try checkSize(file, header, elementSize: 4)
            let values = try [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                _ = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
                initialized = n
            }
            try EmbeddingFile.checkFinite(values, dimension: header.columns, path: path, dataOffset: header.dataOffset)
            return try VectorMatrix(dimension: header.columns, values: values)
        case "<f2":
            try checkSize(file, header, elementSize: 2)
            var halves = [UInt16](repeating: 0, count: n)
            _ = try halves.withUnsafeMutableBytes { try file.read(into: $0) }
            let values = halves.map(floatFromHalf)
            try EmbeddingFile.checkFinite(values, dimension: header.columns, path: path, dataOffset: header.dataOffset)
            return try VectorMatrix(dimension: header.columns, values: values)
        default:
            throw EmbeddingFile.malformed(
                path, nil, nil, "unsupported dtype '\(header.descr)'; vectors must be little-endian float32 ('<f4') or float16 ('<f2')")
        }
    }

    static func readIntegers(_ path: String) throws -> IntegerMatrix {
        let file = try BinaryReader(path: path)
        let header = try readHeader(file)
        guard header.descr == "<i4" else {
            throw EmbeddingFile.malformed(path, nil, nil, "unsupported dtype '\(header.descr)'; expected int32 ('<i4')")
        }
        try checkSize(file, header, elementSize: 4)
        let n = header.rows * header.columns
        let values = try [Int32](unsafeUninitializedCapacity: n) { buffer, initialized in
            _ = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = n
        }
        return try IntegerMatrix(dimension: header.columns, values: values)
    }

    private static func checkSize(_ file: BinaryReader, _ header: Header, elementSize: Int) throws {
        let expected = header.dataOffset + header.rows * header.columns * elementSize
        if file.size < expected {
            let rowBytes = header.columns * elementSize
            let complete = (file.size - header.dataOffset) / rowBytes
            throw EmbeddingFile.malformed(
                file.path, complete, header.dataOffset + complete * rowBytes,
                "truncated: shape (\(header.rows), \(header.columns)) needs \(expected) bytes, file has \(file.size)")
        }
        guard file.size == expected else {
            throw EmbeddingFile.malformed(file.path, nil, expected, "\(file.size - expected) unexpected bytes after the array")
        }
    }

    private static func readHeader(_ file: BinaryReader) throws -> Header {
        let path = file.path
        var prefix = [UInt8](repeating: 0, count: 8)
        guard try prefix.withUnsafeMutableBytes({ try file.read(into: $0) }), Array(prefix[0..<6]) == magic else {
            throw EmbeddingFile.malformed(path, nil, 0, "bad header: not a .npy file (magic \\x93NUMPY missing)")
        }
        let major = prefix[6]
        let headerLength: Int
        switch major {
        case 1:
            guard let length = try file.read(UInt16.self) else { throw EmbeddingFile.malformed(path, nil, 8, "truncated header") }
            headerLength = Int(UInt16(littleEndian: length))
        case 2, 3:
            guard let length = try file.read(UInt32.self) else { throw EmbeddingFile.malformed(path, nil, 8, "truncated header") }
            headerLength = Int(UInt32(littleEndian: length))
        default:
            throw EmbeddingFile.malformed(path, nil, 6, "bad header: unsupported .npy format version \(major)")
        }
        guard headerLength < 1 << 20 else { throw EmbeddingFile.malformed(path, nil, 8, "bad header: header length \(headerLength)") }
        var text = [UInt8](repeating: 0, count: headerLength)
        guard try text.withUnsafeMutableBytes({ try file.read(into: $0) }) else {
            throw EmbeddingFile.malformed(path, nil, file.offset, "truncated header")
        }
        let dict = String(decoding: text, as: UTF8.self)
        guard let descr = value(of: "descr", in: dict).map({ $0.trimmingQuotes() }) else {
            throw EmbeddingFile.malformed(path, nil, 10, "bad header: no 'descr' in \(dict)")
        }
        guard value(of: "fortran_order", in: dict) == "False" else {
            throw EmbeddingFile.malformed(path, nil, 10, "bad header: Fortran-order arrays are not supported; save with C order")
        }
        guard let shapeText = value(of: "shape", in: dict) else {
            throw EmbeddingFile.malformed(path, nil, 10, "bad header: no 'shape' in \(dict)")
        }
        let dims = shapeText.dropFirst().dropLast().split(separator: ",").map { $0.trimmed() }.filter { !$0.isEmpty }
        guard dims.count == 2, let rows = Int(dims[0]), let columns = Int(dims[1]), rows >= 0, columns > 0,
            columns <= EmbeddingFile.maximumDimension
        else {
            throw EmbeddingFile.malformed(path, nil, 10, "bad header: shape \(shapeText) is not a 2-D (rows, dimension) array")
        }
        // '|' and '=' mean no byte order / native: treat as little-endian on the hosts we support.
        let normalized = descr.replacingFirst("=", with: "<")
        return Header(descr: normalized, rows: rows, columns: columns, dataOffset: file.offset)
    }

    /// The raw text of `key`'s value in a Python dict literal (a quoted string, a tuple or a word).
    private static func value(of key: String, in dict: String) -> String? {
        guard let keyRange = dict.range(of: "'\(key)'") else { return nil }
        var rest = dict[keyRange.upperBound...].drop(while: { $0 == " " || $0 == ":" })
        guard let first = rest.first else { return nil }
        if first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        if first == "'" || first == "\"" {
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: first) else { return nil }
            return "'" + rest[..<close] + "'"
        }
        return String(rest.prefix(while: { $0 != "," && $0 != "}" })).trimmed()
    }

    static func header(descr: String, rows: Int, columns: Int) -> [UInt8] {
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        // Pad with spaces and a newline so the data starts on a 64-byte boundary (as NumPy does).
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = UInt16(dict.utf8.count)
        return magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(dict.utf8)
    }

    /// IEEE 754 half precision to single precision, including subnormals, infinities and NaN.
    static func floatFromHalf(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int(h >> 10) & 0x1F
        var mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            var e = -14
            while mantissa & 0x400 == 0 {
                mantissa <<= 1
                e -= 1
            }
            mantissa &= 0x3FF
            return Float(bitPattern: sign | UInt32(e + 127) << 23 | mantissa << 13)
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
    }
}

extension StringProtocol {
    func trimmed() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }

    func trimmingQuotes() -> String {
        String(filter { $0 != "'" && $0 != "\"" })
    }

    func replacingFirst(_ character: Character, with replacement: Character) -> String {
        guard first == character else { return String(self) }
        return String(replacement) + dropFirst()
    }
}
