import Foundation
import Testing
import TestSupport
@testable import VectorSearch

@Suite("Embedding files")
struct EmbeddingFileTests {
    let vectors = randomMatrix(rows: 7, dimension: 5, seed: 42)

    func error(_ body: () throws -> Void) -> VectorSearchError? {
        do {
            try body()
            return nil
        } catch let error as VectorSearchError {
            return error
        } catch {
            return .invalidArgument("unexpected \(error)")
        }
    }

    func write(_ bytes: [UInt8], _ path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    @Test("float formats round-trip", arguments: ["fvecs", "fbin", "npy", "jsonl"])
    func roundTrip(ext: String) throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let path = "\(directory)/v.\(ext)"
        try EmbeddingFile.write(vectors, to: path)
        let read = try EmbeddingFile.read(path)
        #expect(read.vectors == vectors)
        #expect(read.ids == (ext == "jsonl" ? (0..<7).map(VectorID.init) : nil))
    }

    @Test("integer formats round-trip", arguments: ["ivecs", "ibin", "npy"])
    func integers(ext: String) throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let matrix = try IntegerMatrix(dimension: 3, values: [0, 1, -2, 2_000_000_000, 4, 5])
        try EmbeddingFile.write(matrix, to: "\(directory)/g.\(ext)")
        #expect(try EmbeddingFile.readIntegers("\(directory)/g.\(ext)") == matrix)
    }

    @Test("fvecs layout is TEXMEX: int32 dimension, then the floats")
    func fvecsLayout() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        try EmbeddingFile.write(VectorMatrix([[1.5, -2]]), to: "\(directory)/a.fvecs")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/a.fvecs")))
        #expect(bytes == littleEndianBytes(Int32(2)) + littleEndianBytes(Float(1.5).bitPattern) + littleEndianBytes(Float(-2).bitPattern))
    }

    @Test("bvecs rows widen to floats")
    func bvecs() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        write(littleEndianBytes(Int32(3)) + [0, 7, 255] + littleEndianBytes(Int32(3)) + [1, 2, 3], "\(directory)/b.bvecs")
        #expect(try EmbeddingFile.read("\(directory)/b.bvecs").vectors == rows([[0, 7, 255], [1, 2, 3]]))
    }

    @Test("npy float16 widens exactly, including subnormals and negative zero")
    func float16() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        // 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), -0.0, 0.333 (0x3555 = 0.33325195)
        let halves: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x3555]
        var bytes = NPYFile.header(descr: "<f2", rows: 2, columns: 3)
        for h in halves { bytes += littleEndianBytes(h) }
        write(bytes, "\(directory)/h.npy")
        let read = try EmbeddingFile.read("\(directory)/h.npy").vectors
        #expect(read.values == [1, -2, 65504, Float(1) / Float(1 << 24), -0.0, 0.33325195])
        #expect(read.values[4].sign == .minus)
        #expect(NPYFile.floatFromHalf(0x7C00) == .infinity)
        #expect(NPYFile.floatFromHalf(0x7E00).isNaN)
    }

    @Test("npy header variants: version 2, '|' and '=' byte order, spacing")
    func npyHeaders() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let dict = "{'shape':(1,2),'fortran_order':False,'descr':'=f4'}\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0] + littleEndianBytes(UInt32(dict.utf8.count)) + Array(dict.utf8)
        bytes += littleEndianBytes(Float(3).bitPattern) + littleEndianBytes(Float(4).bitPattern)
        write(bytes, "\(directory)/v2.npy")
        #expect(try EmbeddingFile.read("\(directory)/v2.npy").vectors == rows([[3, 4]]))
    }

    @Test("JSONL: ids, extra keys and blank lines")
    func jsonl() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let text = """
            {"id": 17, "embedding": [1, 2.5, -3], "text": "hello", "year": 2020}

            {"id": 4, "vector": [0, 0.25, 1e-3]}
            """
        try text.write(toFile: "\(directory)/e.jsonl", atomically: true, encoding: .utf8)
        let set = try EmbeddingFile.read("\(directory)/e.jsonl")
        #expect(set.ids == [17, 4])
        #expect(set.vectors == rows([[1, 2.5, -3], [0, 0.25, 0.001]]))
    }

    @Test("malformed TEXMEX files name the row and the problem")
    func malformedTexmex() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let path = "\(directory)/bad.fvecs"
        let row: (Int32, [Float]) -> [UInt8] = { d, values in
            littleEndianBytes(d) + values.flatMap { littleEndianBytes($0.bitPattern) }
        }
        write(row(2, [1, 2]) + row(2, [3, 4]) + Array(row(2, [5, 6]).prefix(9)), path)
        #expect(
            error { _ = try EmbeddingFile.read(path) }
                == .malformedFile(
                    path: path, row: 2, byteOffset: 24, reason: "truncated: 9 trailing bytes, a row of dimension 2 takes 12"))

        write(row(2, [1, 2]) + row(3, [3, 4]), path)
        #expect(
            error { _ = try EmbeddingFile.read(path) }
                == .malformedFile(
                    path: path, row: 1, byteOffset: 12, reason: "dimension 3, expected 2 as in row 0"))

        write(row(2, [1, 2]) + row(2, [3, .nan]), path)
        #expect(
            error { _ = try EmbeddingFile.read(path) }
                == .malformedFile(
                    path: path, row: 1, byteOffset: 20, reason: "non-finite value (NaN or infinity) at column 1"))

        write(row(-5, []), path)
        #expect(
            error { _ = try EmbeddingFile.read(path) }
                == .malformedFile(
                    path: path, row: 0, byteOffset: 0, reason: "bad header: dimension -5 (is this really a .fvecs/ivecs file?)"))

        write([], path)
        #expect(
            error { _ = try EmbeddingFile.read(path) }
                == .malformedFile(
                    path: path, row: nil, byteOffset: nil, reason: "empty file (no rows, so no dimension)"))

        write([1, 0], path)
        #expect(
            error { _ = try EmbeddingFile.read(path) }
                == .malformedFile(
                    path: path, row: 0, byteOffset: 0, reason: "truncated: 2 bytes, too short for a dimension header"))

        #expect(
            error { _ = try EmbeddingFile.read("\(directory)/missing.fvecs") }
                == .io(
                    path: "\(directory)/missing.fvecs", reason: "No such file or directory"))
        #expect(error { _ = try EmbeddingFile.read("\(directory)/data.xyz") } != nil)
        #expect(error { _ = try EmbeddingFile.read(directory, format: .fvecs) } == .io(path: directory, reason: "not a regular file (a directory)"))
    }

    @Test("malformed fbin and npy files")
    func malformedBinary() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let fbin = "\(directory)/bad.fbin"
        let header = littleEndianBytes(UInt32(3)) + littleEndianBytes(UInt32(2))
        let floats: [Float] = [1, 2, 3, 4, 5, 6]
        let body = floats.flatMap { littleEndianBytes($0.bitPattern) }
        write(header + body.prefix(20), fbin)
        #expect(
            error { _ = try EmbeddingFile.read(fbin) }
                == .malformedFile(
                    path: fbin, row: 2, byteOffset: 24, reason: "truncated: header says 3 rows of dimension 2 (32 bytes), file has 28"))
        write(header + body + [0], fbin)
        #expect(
            error { _ = try EmbeddingFile.read(fbin) }
                == .malformedFile(
                    path: fbin, row: nil, byteOffset: 32, reason: "1 unexpected bytes after 3 rows"))
        write([1, 2, 3], fbin)
        #expect(
            error { _ = try EmbeddingFile.read(fbin) }
                == .malformedFile(
                    path: fbin, row: nil, byteOffset: 0, reason: "bad header: 3 bytes, too short for the 8-byte header"))
        write(header + Array(body.prefix(16)) + littleEndianBytes(Float.infinity.bitPattern) + Array(body.suffix(4)), fbin)
        #expect(
            error { _ = try EmbeddingFile.read(fbin) }
                == .malformedFile(
                    path: fbin, row: 2, byteOffset: 24, reason: "non-finite value (NaN or infinity) at column 0"))

        let npy = "\(directory)/bad.npy"
        write(Array("not numpy at all".utf8), npy)
        #expect(
            error { _ = try EmbeddingFile.read(npy) }
                == .malformedFile(
                    path: npy, row: nil, byteOffset: 0, reason: "bad header: not a .npy file (magic \\x93NUMPY missing)"))
        func npyFile(_ dict: String, _ payload: [UInt8]) -> [UInt8] {
            [0x93] + Array("NUMPY".utf8) + [1, 0] + littleEndianBytes(UInt16(dict.utf8.count)) + Array(dict.utf8) + payload
        }
        write(npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }", body), npy)
        #expect(
            error { _ = try EmbeddingFile.read(npy) }
                == .malformedFile(
                    path: npy, row: nil, byteOffset: 10, reason: "bad header: Fortran-order arrays are not supported; save with C order"))
        write(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2, 1), }", body), npy)
        #expect(
            error { _ = try EmbeddingFile.read(npy) }
                == .malformedFile(
                    path: npy, row: nil, byteOffset: 10, reason: "bad header: shape (3, 2, 1) is not a 2-D (rows, dimension) array"))
        write(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", body + body), npy)
        #expect(
            error { _ = try EmbeddingFile.read(npy) }
                == .malformedFile(
                    path: npy, row: nil, byteOffset: nil,
                    reason: "unsupported dtype '<f8'; vectors must be little-endian float32 ('<f4') or float16 ('<f2')"))
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }"
        write(npyFile(dict, Array(body.prefix(12))), npy)
        #expect(
            error { _ = try EmbeddingFile.read(npy) }
                == .malformedFile(
                    path: npy, row: 1, byteOffset: 10 + dict.utf8.count + 8,
                    reason: "truncated: shape (3, 2) needs \(10 + dict.utf8.count + 24) bytes, file has \(10 + dict.utf8.count + 12)"))
    }

    @Test("malformed JSONL lines")
    func malformedJSONL() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let path = "\(directory)/bad.jsonl"
        func check(_ text: String, row: Int, offset: Int, _ reason: String) throws {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(error { _ = try EmbeddingFile.read(path) } == .malformedFile(path: path, row: row, byteOffset: offset, reason: reason))
        }
        try check("{\"embedding\": [1, 2]}\n{\"embedding\": [1, 2, 3]}\n", row: 1, offset: 22, "line 2: dimension 3, expected 2 as in the first row")
        try check(
            "{\"embedding\": [1, 2]}\n{\"embedding\": [1, 2\n", row: 1, offset: 22,
            "line 2: not valid JSON: unexpected end of JSON, expected ',' or ']' at byte 19")
        try check("[1, 2]\n", row: 0, offset: 0, "line 1: not a JSON object")
        try check("{\"text\": \"no vector\"}\n", row: 0, offset: 0, "line 1: no \"embedding\" array")
        try check("{\"embedding\": [1, \"x\"]}\n", row: 0, offset: 0, "line 1: embedding[1] is not a number: \"x\"")
        try check("{\"embedding\": [1, true]}\n", row: 0, offset: 0, "line 1: embedding[1] is not a number: true")
        try check("{\"id\": -1, \"embedding\": [1]}\n", row: 0, offset: 0, "line 1: \"id\" must be a non-negative integer, got -1")
        try check("{\"id\": 1, \"embedding\": [1]}\n{\"embedding\": [2]}\n", row: 1, offset: 28, "line 2: some rows have an \"id\" and some do not")
        try check("{\"embedding\": [1e39]}\n", row: 0, offset: 0, "line 1: embedding[0] = 1e+39 is outside the float32 range")
        try check("{\"id\": 2.5, \"embedding\": [1]}\n", row: 0, offset: 0, "line 1: \"id\" must be a non-negative integer, got 2.5")
        try check("{\"id\": 3, \"embedding\": [1]}\n{\"id\": 3.0, \"embedding\": [2]}\n", row: 1, offset: 28, "line 2: id 3 appears twice")
        // One rule for ids in every JSON Lines file: 7 and 7.0 are the same id, here and in metadata.
        try "{\"id\": 7.0, \"embedding\": [1]}\n{\"id\": 9, \"embedding\": [2]}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try EmbeddingFile.read(path).ids == [7, 9])
        try "{\"id\": 9, \"lang\": \"en\"}\n{\"id\": 7.0, \"lang\": \"de\"}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try MetadataFile.read(path, ids: [7, 9]) == [["lang": "de"], ["lang": "en"]])
        try "\n\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(error { _ = try EmbeddingFile.read(path) } == .malformedFile(path: path, row: nil, byteOffset: nil, reason: "no rows"))
    }

    @Test("writers refuse formats of the other kind")
    func wrongWriter() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        #expect(throws: VectorSearchError.self) { try EmbeddingFile.write(vectors, to: "\(directory)/x.ivecs") }
        #expect(throws: VectorSearchError.self) { try EmbeddingFile.write(IntegerMatrix(dimension: 1, values: [1]), to: "\(directory)/x.fvecs") }
        #expect(throws: VectorSearchError.self) { _ = try EmbeddingFile.readIntegers("\(directory)/x.fvecs") }
    }

    @Test("synthetic data is reproducible from its seed")
    func synthetic() throws {
        let a = try SyntheticData.clustered(count: 50, queries: 5, dimension: 8, clusters: 3, seed: 9)
        let b = try SyntheticData.clustered(count: 50, queries: 5, dimension: 8, clusters: 3, seed: 9)
        let c = try SyntheticData.clustered(count: 50, queries: 5, dimension: 8, clusters: 3, seed: 10)
        #expect(a.base == b.base && a.queries == b.queries)
        #expect(a.base != c.base)
        #expect(a.base.firstNonFinite() == nil)
    }
}
