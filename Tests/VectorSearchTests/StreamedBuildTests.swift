import Foundation
import Testing
import TestSupport
@testable import VectorSearch

@Suite("Streamed reading and building")
struct StreamedBuildTests {
    @Test("a stream reads the rows EmbeddingFile.read reads, in batches of any size", arguments: ["fvecs", "fbin", "bvecs"])
    func batches(ext: String) throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let path = "\(directory)/v.\(ext)"
        var values = randomMatrix(rows: 23, dimension: 5, seed: 8).values
        if ext == "bvecs" {
            // bvecs holds bytes: write rows of small integers by hand.
            values = values.indices.map { Float($0 % 251) }
            var bytes: [UInt8] = []
            for row in 0..<23 {
                bytes += littleEndianBytes(Int32(5))
                bytes += (0..<5).map { UInt8(values[row * 5 + $0]) }
            }
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        } else {
            try EmbeddingFile.write(try VectorMatrix(dimension: 5, values: values), to: path)
        }
        let whole = try EmbeddingFile.read(path).vectors
        #expect(whole.values == values)
        #expect(EmbeddingStream.supports(path))
        for size in [1, 4, 23, 100] {
            let stream = try EmbeddingStream(path)
            #expect(stream.count == 23 && stream.dimension == 5)
            var read: [Float] = []
            while let batch = try stream.next(rows: size) {
                #expect(batch.count == min(size, 23 - (stream.position - batch.count)))
                read += batch.values
            }
            #expect(read == values, "batches of \(size)")
            #expect(try stream.next(rows: size) == nil)
        }
        // Skipping rows, from the start or between reads, lands on the row that follows.
        for (skips, reads) in [([0], 3), ([1], 2), ([5, 3], 4), ([22], 5), ([10, 0, 12], 1), ([30], 1)] {
            let stream = try EmbeddingStream(path)
            var row = 0
            for skip in skips {
                try stream.skip(rows: skip)
                row = min(row + skip, 23)
                #expect(stream.position == row)
                let batch = try stream.next(rows: reads)
                let expected = row < 23 ? Array(values[(row * 5)..<(min(row + reads, 23) * 5)]) : nil
                #expect(batch?.values == expected, "skip \(skips), read \(reads)")
                row = stream.position
            }
        }
        #expect(throws: VectorSearchError.self) { try EmbeddingStream(path).skip(rows: -1) }
    }

    @Test("bad files are refused with the file, the row and the reason; other formats are not streamed")
    func refusals() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let path = "\(directory)/bad.fvecs"
        try EmbeddingFile.write(randomMatrix(rows: 4, dimension: 3, seed: 1), to: path)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        // Row 2's dimension header says 4; row 3 holds a NaN.
        bytes.replaceSubrange(32..<36, with: littleEndianBytes(Int32(4)))
        bytes.replaceSubrange(60..<64, with: littleEndianBytes(Float.nan.bitPattern))
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let stream = try EmbeddingStream(path)
        #expect(try stream.next(rows: 2)?.count == 2)
        #expect(throws: EmbeddingFile.malformed(path, 2, 32, "dimension 4, expected 3 as in row 0")) { try stream.next(rows: 2) }
        bytes.replaceSubrange(32..<36, with: littleEndianBytes(Int32(3)))
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let again = try EmbeddingStream(path)
        #expect(throws: EmbeddingFile.malformed(path, 3, 60, "non-finite value (NaN or infinity) at column 2")) { try again.next(rows: 10) }
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes.dropLast(3)))
        #expect(throws: VectorSearchError.self) { try EmbeddingStream(path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        #expect(throws: EmbeddingFile.malformed(path, nil, nil, "empty file (no rows, so no dimension)")) { try EmbeddingStream(path) }
        let jsonl = "\(directory)/v.jsonl"
        try EmbeddingFile.write(randomMatrix(rows: 2, dimension: 3, seed: 1), to: jsonl)
        #expect(!EmbeddingStream.supports(jsonl))
        #expect(throws: VectorSearchError.self) { try EmbeddingStream(jsonl) }
        #expect(throws: VectorSearchError.self) { try EmbeddingStream(path + ".missing") }
    }

    @Test("training on the rows trainingRows names, then adding in batches after reserveCapacity, gives the in-memory index's answers")
    func streamedIndexMatches() throws {
        let base = randomMatrix(rows: 3000, dimension: 16, seed: 31)
        for codec in [nil, try IVFCodec(.pq4fs, subquantizers: 8)] {
            let parameters = try IVFParameters(nlist: 12, trainingSize: 1000, codec: codec)
            let whole = try IVFIndex(dimension: 16, metric: .cosine, parameters: parameters)
            try whole.train(base)
            try whole.add(base)
            let streamed = try IVFIndex(dimension: 16, metric: .cosine, parameters: parameters)
            let rows = streamed.trainingRows(count: base.count)
            #expect(rows.count == 1000 && rows == rows.sorted() && Set(rows).count == 1000)
            try streamed.train(VectorMatrix(dimension: 16, values: rows.flatMap { base[$0] }))
            streamed.reserveCapacity(base.count)
            for start in stride(from: 0, to: base.count, by: 700) {
                let end = min(start + 700, base.count)
                try streamed.add(VectorMatrix(dimension: 16, values: (start..<end).flatMap { base[$0] }), ids: (start..<end).map { VectorID($0) })
            }
            #expect(streamed.listSizes == whole.listSizes)
            let queries = randomMatrix(rows: 5, dimension: 16, seed: 32)
            for q in 0..<queries.count {
                for rerank in [0, 3] {
                    let options = SearchOptions(nprobe: 4, rerank: rerank)
                    #expect(try streamed.search(queries[q], k: 10, options: options) == whole.search(queries[q], k: 10, options: options))
                }
            }
            // Sized for the whole build: at most a tenth more than needed, plus lists that grew.
            #expect(streamed.memoryBytes < whole.memoryBytes * 3 / 2)
        }
    }
}
