// The `ATTR` section of an index file (docs/FORMAT.md): the columns as written, little-endian.
//   u32 field count; per field (sorted by name): string name, u8 kind, u8 × count presence,
//   then by kind — keyword: dictionary, u32 × count codes; bool: u8 × count; integer: i64 ×
//   count; float: f64 × count; tags: dictionary, per slot u32 n and n u32 codes.
//   A string is a u32 byte length and UTF-8 bytes; a dictionary a u32 length and strings.
extension AttributeStore {
    /// Sections this store adds to an index file: `ATTR` when there is any metadata.
    var sectionCount: Int { columns.isEmpty ? 0 : 1 }

    /// The optional `ATTR` section (metadata of `slots` slots) if the header counts one more
    /// section, else an empty store of that many slots.
    static func read(from reader: IndexFileReader, slots: Int) throws -> AttributeStore {
        guard reader.sectionsRead < reader.header.sectionCount else { return AttributeStore(count: slots, columns: []) }
        let bytes = try reader.readSection("ATTR", as: UInt8.self)
        return try decode(bytes, count: slots) { [path = reader.path] in VectorSearchError.corruptIndex(path: path, reason: $0) }
    }

    /// Writes the `ATTR` section if there is metadata (read back by ``read(from:slots:)``).
    func write(to writer: IndexFileWriter) throws {
        if sectionCount > 0 { try writer.writeSection("ATTR", encoded()) }
    }

    func encoded() -> [UInt8] {
        var out = ByteWriter()
        out.u32(UInt32(columns.count))
        for name in fieldNames {
            let column = columns[name]!
            out.string(name)
            out.bytes([column.kind.rawValue])
            out.bytes(column.present.map { $0 ? 1 : 0 })
            switch column.kind {
            case .keyword:
                out.dictionary(column.dictionary)
                for code in column.codes { out.u32(code) }
            case .bool: out.bytes(column.codes.map { UInt8($0) })
            case .integer: for v in column.integers { out.u64(UInt64(bitPattern: v)) }
            case .float: for v in column.floats { out.u64(v.bitPattern) }
            case .tags:
                out.dictionary(column.dictionary)
                for list in column.tagLists {
                    out.u32(UInt32(list.count))
                    for code in list { out.u32(code) }
                }
            }
        }
        return out.bytes
    }

    /// Rebuilds a store of `count` slots straight into its columns; anything inconsistent throws
    /// `corrupt(reason)`. Values of absent slots are not looked at (an empty column may hold codes
    /// of an empty dictionary).
    static func decode(_ bytes: [UInt8], count: Int, corrupt: @escaping (String) -> Error) throws -> AttributeStore {
        var input = ByteReader(bytes: bytes, corrupt: corrupt)
        let fields = try input.u32()
        var columns: [String: AttributeColumn] = [:]
        for _ in 0..<fields {
            let name = try input.string()
            guard !name.isEmpty, !name.hasPrefix("$"), columns[name] == nil else {
                throw corrupt("metadata field name '\(name)' is empty, starts with '$' or repeats")
            }
            guard let kind = AttributeColumn.Kind(rawValue: try input.byte()) else { throw corrupt("metadata field '\(name)' has an unknown kind") }
            let column = AttributeColumn(kind: kind, present: try input.bytes(count).map { $0 != 0 })
            func dictionary() throws {
                column.dictionary = try input.dictionary()
                for (code, word) in column.dictionary.enumerated() {
                    guard column.codeOf.updateValue(UInt32(code), forKey: word) == nil else {
                        throw corrupt("metadata field '\(name)' has '\(word)' twice in its dictionary")
                    }
                }
            }
            func checked(_ code: UInt32) throws -> UInt32 {
                guard Int(code) < column.dictionary.count else { throw corrupt("metadata field '\(name)' has a code outside its dictionary") }
                return code
            }
            switch kind {
            case .keyword:
                try dictionary()
                column.codes = try input.u32s(count)
                for slot in 0..<count { column.codes[slot] = column.present[slot] ? try checked(column.codes[slot]) : 0 }
            case .bool:
                column.codes = try input.bytes(count).map { $0 == 1 ? 1 : 0 }
            case .integer:
                column.integers = try input.u64s(count).map { Int64(bitPattern: $0) }
            case .float:
                column.floats = try input.u64s(count).map(Double.init(bitPattern:))
                for slot in 0..<count where column.present[slot] && !column.floats[slot].isFinite {
                    throw corrupt("metadata field '\(name)' holds a non-finite number")
                }
            case .tags:
                try dictionary()
                column.tagLists.reserveCapacity(count)
                for slot in 0..<count {
                    let n = Int(try input.u32())
                    guard n <= input.remaining / 4 else { throw corrupt("metadata field '\(name)' is truncated") }
                    let codes = try input.u32s(n)
                    column.tagLists.append(column.present[slot] ? try codes.map(checked) : [])
                }
            }
            columns[name] = column
        }
        guard input.remaining == 0 else { throw corrupt("\(input.remaining) unexpected bytes after the metadata") }
        return AttributeStore(count: count, columns: columns)
    }
}

private struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func bytes(_ more: [UInt8]) { bytes += more }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func string(_ s: String) {
        u32(UInt32(s.utf8.count))
        bytes += s.utf8
    }
    mutating func dictionary(_ words: [String]) {
        u32(UInt32(words.count))
        for word in words { string(word) }
    }
}

private struct ByteReader {
    let bytes: [UInt8]
    let corrupt: (String) -> Error
    var position = 0
    var remaining: Int { bytes.count - position }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw corrupt("metadata section is truncated") }
        position += 1
        return bytes[position - 1]
    }
    mutating func u32() throws -> UInt32 {
        guard remaining >= 4 else { throw corrupt("metadata section is truncated") }
        defer { position += 4 }
        return (0..<4).reduce(0) { $0 | UInt32(bytes[position + $1]) << (8 * $1) }
    }
    mutating func u64() throws -> UInt64 {
        guard remaining >= 8 else { throw corrupt("metadata section is truncated") }
        defer { position += 8 }
        return (0..<8).reduce(0) { $0 | UInt64(bytes[position + $1]) << (8 * $1) }
    }
    mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n <= remaining else { throw corrupt("metadata section is truncated") }
        defer { position += n }
        return bytes[position..<(position + n)]
    }
    mutating func u32s(_ n: Int) throws -> [UInt32] {
        guard n <= remaining / 4 else { throw corrupt("metadata section is truncated") }
        defer { position += 4 * n }
        return bytes.withUnsafeBytes { raw in (0..<n).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: position + 4 * $0, as: UInt32.self)) } }
    }
    mutating func u64s(_ n: Int) throws -> [UInt64] {
        guard n <= remaining / 8 else { throw corrupt("metadata section is truncated") }
        defer { position += 8 * n }
        return bytes.withUnsafeBytes { raw in (0..<n).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position + 8 * $0, as: UInt64.self)) } }
    }
    mutating func string() throws -> String {
        let n = Int(try u32())
        guard n <= remaining else { throw corrupt("metadata section is truncated") }
        defer { position += n }
        return String(decoding: bytes[position..<(position + n)], as: UTF8.self)
    }
    mutating func dictionary() throws -> [String] {
        let n = try u32()
        guard n <= remaining / 4 else { throw corrupt("metadata section is truncated") }
        return try (0..<n).map { _ in try string() }
    }
}
