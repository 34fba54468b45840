import Foundation
import Testing
import TestSupport
@testable import VectorSearch

#if canImport(Glibc)
import Glibc
#endif

/// Inputs that used to crash or hang the engine, and outputs that used to replace what they
/// should not: each now gives a clear error (or does the right thing), tested here.
@Suite("Reliability")
struct ReliabilityTests {
    static func index() throws -> FlatIndex {
        let index = try FlatIndex(dimension: 4, metric: .l2)
        try index.add(randomMatrix(rows: 20, dimension: 4, seed: 3))
        return index
    }

    @Test("saving refuses a target that is not a regular file, and leaves it alone")
    func outputsNotRegular() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let index = try Self.index()
        let fifo = directory + "/fifo", folder = directory + "/folder"
        #expect(mkfifo(fifo, 0o600) == 0)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        for target in [fifo, folder] {
            let error = try #require(throws: VectorSearchError.self) { try index.save(to: target) }
            #expect("\(error)".contains("is not a regular file"), "\(error)")
        }
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO is still a FIFO")
        #expect(lstat(folder, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["fifo", "folder"], "no temporary file left")
        #expect(throws: VectorSearchError.self) { try EmbeddingFile.write(randomMatrix(rows: 2, dimension: 4, seed: 1), to: fifo) }
    }

    @Test("saving through a symbolic link replaces the file it points to and keeps the link")
    func outputsThroughSymlink() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let target = directory + "/real.vsidx", link = directory + "/link.vsidx"
        try "old".write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.vsidx")
        try Self.index().save(to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real.vsidx")
        #expect(try FlatIndex.load(from: target).count == 20, "the link's target holds the new index")
        try FileManager.default.removeItem(atPath: target)
        let error = try #require(throws: VectorSearchError.self) { try Self.index().save(to: link) }
        #expect("\(error)".contains("symbolic link to a missing file"))
    }

    @Test("a save removes temporary files that a killed save left, and only those")
    func strayTemporaryFiles() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead -= 1 }
        let stray = directory + "/x.vsidx.tmp-\(dead)-7", live = directory + "/x.vsidx.tmp-\(getpid())-7"
        let other = directory + "/y.vsidx.tmp-\(dead)-7"
        for path in [stray, live, other] { try "partial".write(toFile: path, atomically: false, encoding: .utf8) }
        try Self.index().save(to: directory + "/x.vsidx")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
                == ["x.vsidx", "x.vsidx.tmp-\(getpid())-7", "y.vsidx.tmp-\(dead)-7"])
    }

    @Test("a FIFO or a directory given as input is refused at once, not waited on")
    func inputsNotRegular() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let fifo = directory + "/input.fvecs"
        #expect(mkfifo(fifo, 0o600) == 0)
        let jsonl = directory + "/input.jsonl"
        #expect(mkfifo(jsonl, 0o600) == 0)
        for attempt in [
            { _ = try EmbeddingFile.read(fifo) }, { _ = try EmbeddingFile.read(jsonl) }, { _ = try AnyIndex.load(from: fifo) },
            { _ = try MetadataFile.read(jsonl, ids: [1]) }, { _ = try EmbeddingFile.read(directory, format: .fvecs) },
        ] as [() throws -> Void] {
            let error = try #require(throws: VectorSearchError.self) { try attempt() }
            #expect("\(error)".contains("not a regular file"), "\(error)")
        }
    }

    @Test("crafted headers with valid checksums: huge counts and dimensions are errors, not crashes")
    func craftedHeaders() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let path = directory + "/index.vsidx"
        try Self.index().save(to: path)
        let good = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        func seal(_ bytes: inout [UInt8]) {
            let crc = bytes.withUnsafeBytes { IndexFile.crc32(UnsafeRawBufferPointer(rebasing: $0[0..<44])) }
            bytes.replaceSubrange(44..<48, with: littleEndianBytes(crc))
        }
        let variants: [(offset: Int, bytes: [UInt8])] = [
            (24, littleEndianBytes(UInt64(1) << 63)), (24, littleEndianBytes(UInt64.max)), (24, littleEndianBytes(UInt64(1) << 39)),
            (20, littleEndianBytes(UInt32(1) << 31)), (20, littleEndianBytes(UInt32.max)), (8, littleEndianBytes(UInt32(0))),
            // No vectors but a dimension of 3.7e9: found by fuzzing (a 14.7 GB store sized from the header).
            (20, littleEndianBytes(UInt32(3_674_734_592)) + littleEndianBytes(UInt64(0))),
        ]
        for kind in ["FLAT", "IVFF", "HNSW"] {
            for variant in variants {
                var bytes = good
                bytes.replaceSubrange(12..<16, with: Array(kind.utf8))
                bytes.replaceSubrange(variant.offset..<(variant.offset + variant.bytes.count), with: variant.bytes)
                seal(&bytes)
                _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
                let error = try #require(throws: VectorSearchError.self) { try AnyIndex.load(from: path) }
                guard case .corruptIndex = error else {
                    Issue.record("\(kind) at \(variant.offset): \(error)")
                    continue
                }
            }
        }
    }

    @Test("finite vectors whose norm overflows float32 are refused like NaN, for every kind and metric")
    func normOverflow() throws {
        let huge = [Float](repeating: 1e19, count: 8)
        for metric in Metric.allCases {
            for kind in IndexKind.allCases {
                let index = try AnyIndex(kind: kind, dimension: 8, metric: metric, ivf: IVFParameters(nlist: 2))
                let base = randomMatrix(rows: 50, dimension: 8, seed: 5)
                if case let .ivf(ivf) = index { try ivf.train(base) }
                try index.add(base, ids: (0..<50).map { VectorID($0) })
                #expect(throws: VectorSearchError.normOverflow(row: nil)) { try index.search(huge, k: 3) }
                #expect(throws: VectorSearchError.normOverflow(row: 1)) {
                    try index.add(VectorMatrix([[Float](repeating: 1, count: 8), huge]), ids: [100, 101])
                }
                #expect(index.count == 50)
                // Large but safe values still give finite scores.
                let large = [Float](repeating: 1e17, count: 8)
                #expect(try index.search(large, k: 3).allSatisfy { $0.score.isFinite })
            }
        }
    }

    @Test("k-means stops once no point changes its centroid, and says so")
    func kmeansConverges() throws {
        let data = try SyntheticData.clustered(count: 500, queries: 0, dimension: 6, clusters: 5, seed: 2).base
        let result = try KMeans.train(data, parameters: KMeansParameters(k: 5, iterations: 1_000_000, seed: 1))
        #expect(result.converged && result.inertia.count < 100)
        let fixed = try KMeans.refine(data, from: result.centroids, iterations: 3)
        #expect(fixed.converged)
        #expect(zip(fixed.centroids.values, result.centroids.values).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test("counts that overflow or exhaust memory are refused before anything is allocated")
    func sizes() throws {
        let index = try Self.index()
        #expect(throws: VectorSearchError.self) {
            try index.search(batch: randomMatrix(rows: 2, dimension: 4, seed: 1), k: 5, threads: Int.max)
        }
        let results = try index.search(batch: randomMatrix(rows: 2, dimension: 4, seed: 1), k: Int.max)
        #expect(results.k == 20 && results.allSatisfy { $0.count == 20 })
        #expect(try index.search([1, 2, 3, 4], k: Int.max).count == 20)
        #expect(throws: VectorSearchError.self) {
            _ = try SyntheticData.clustered(count: 1_000_000_000, queries: 1, dimension: 128, clusters: 1, seed: 1)
        }
        #expect(throws: VectorSearchError.self) {
            _ = try SyntheticData.clustered(count: Int.max, queries: 1, dimension: 128, clusters: 1, seed: 1)
        }
        let kmeans = try KMeansParameters(k: 3, maxPointsPerCentroid: Int.max)
        #expect(try KMeans.train(randomMatrix(rows: 30, dimension: 4, seed: 2), parameters: kmeans).trainingCount == 30)
    }
}
