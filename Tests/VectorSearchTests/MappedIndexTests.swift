import Foundation
import Testing
import TestSupport
@testable import VectorSearch

@Suite("memory-mapped indexes")
struct MappedIndexTests {
    static let storages: [VectorStorage] = [.float32, .int8, .float16]

    /// Where section `tag` lies in an index file: its header's offset and its payload's.
    static func section(_ tag: String, in bytes: [UInt8]) -> (header: Int, payload: Int, length: Int)? {
        var offset = 48
        while offset + 24 <= bytes.count {
            let (padding, length) = bytes.withUnsafeBytes {
                (Int($0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)), Int($0.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)))
            }
            if String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self) == tag { return (offset, offset + 24 + padding, length) }
            offset += 24 + padding + length
        }
        return nil
    }

    /// Makes the checksum of `section` match its (changed) payload: a file written wrongly
    /// rather than damaged.
    static func reseal(_ bytes: inout [UInt8], _ section: (header: Int, payload: Int, length: Int)) {
        let crc = bytes.withUnsafeBytes {
            IndexFile.crc32(UnsafeRawBufferPointer(rebasing: $0[section.payload..<(section.payload + section.length)]))
        }
        bytes.replaceSubrange((section.header + 16)..<(section.header + 20), with: littleEndianBytes(crc))
    }

    static func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
    static func write(_ bytes: [UInt8], to path: String) { _ = FileManager.default.createFile(atPath: path, contents: Data(bytes)) }

    /// An HNSW index with removed slots and attributes, a flat one and an IVF one over the same
    /// rows, and with float32 storage an IVF index on pq4fs codes.
    static func indexes(storage: VectorStorage, metric: Metric) throws -> [AnyIndex] {
        let d = 37, n = 300
        let base = randomMatrix(rows: n, dimension: d, seed: 3100)
        let attributes: [Attributes] = (0..<n).map { ["even": .bool($0 % 2 == 0)] }
        let hnsw = try HNSWIndex(dimension: d, metric: metric, parameters: HNSWParameters(m: 6, efConstruction: 40), storage: storage)
        try hnsw.add(base, attributes: attributes)
        hnsw.remove(ids: [3, 50, 299])
        let flat = try FlatIndex(dimension: d, metric: metric, storage: storage)
        try flat.add(base, ids: (0..<n).map { VectorID($0 * 7 + 1) }, attributes: attributes)
        let ivf = try IVFIndex(dimension: d, metric: metric, parameters: IVFParameters(nlist: 7), storage: storage)
        try ivf.train(base)
        try ivf.add(base, attributes: attributes)
        ivf.remove(ids: [3, 50, 299])
        guard storage == .float32 else { return [.hnsw(hnsw), .flat(flat), .ivf(ivf)] }
        let codec = try IVFCodec(.pq4fs, subquantizers: 37)
        let coded = try IVFIndex(dimension: d, metric: metric, parameters: IVFParameters(nlist: 7, codec: codec))
        try coded.train(base)
        try coded.add(base, attributes: attributes)
        coded.remove(ids: [3, 50, 299])
        return [.hnsw(hnsw), .flat(flat), .ivf(ivf), .ivf(coded)]
    }

    static func answers(_ index: AnyIndex) throws -> [[Neighbor]] {
        let even = try Filter(json: #"{"even": true}"#)
        return try (0..<6).flatMap { q -> [[Neighbor]] in
            let query = randomMatrix(rows: 1, dimension: 37, seed: 3200 + UInt64(q))[0]
            return try [0, 1, 3].flatMap { rerank -> [[Neighbor]] in
                var options = SearchOptions(ef: 24)
                options.rerank = rerank
                return [try index.search(query, k: 9, options: options), try index.search(query, k: 5, options: options, filter: even)]
            }
        }
    }

    @Test("a mapped index answers exactly as the copied one, for every kind, storage and metric", arguments: storages, Metric.allCases)
    func sameAnswers(storage: VectorStorage, metric: Metric) throws {
        let path = temporaryPath("mapped.vsidx")
        defer { cleanup(path) }
        for index in try Self.indexes(storage: storage, metric: metric) {
            try index.save(to: path)
            let copied = try AnyIndex.load(from: path)
            #expect(try Self.answers(copied) == Self.answers(index), "\(index.kind)")
            for mode in [IndexLoadMode.mapped, .mappedVectors] {
                let mapped = try AnyIndex.load(from: path, mode: mode)
                #expect(mapped.count == index.count && mapped.storage == storage)
                #expect(try Self.answers(mapped) == Self.answers(copied), "\(index.kind) \(mode)")
                let parts = mapped.memoryParts
                #expect(parts.first { $0.part == "float32 vectors" }?.mapped == true)
                // IVF lists hold their codes in memory.
                if index.kind != .ivf {
                    #expect(parts.first { $0.part == "codes" }.map { $0.mapped == (mode == .mapped) } ?? (storage == .float32))
                }
                // Saving a mapped index writes the same file again.
                let bytes = try Self.read(path)
                try mapped.save(to: path)
                #expect(try Self.read(path) == bytes, "\(index.kind) \(mode)")
            }
        }
    }

    @Test("writes to a mapped index change memory, never the file; its contents survive the path being saved over", arguments: storages)
    func writes(storage: VectorStorage) throws {
        let path = temporaryPath("mapped-writes.vsidx")
        defer { cleanup(path) }
        for index in try Self.indexes(storage: storage, metric: .l2) {
            try index.save(to: path)
            let bytes = try Self.read(path)
            let copied = try AnyIndex.load(from: path)
            let mapped = try AnyIndex.load(from: path, mode: .mapped)
            let vectorsMapped = try AnyIndex.load(from: path, mode: .mappedVectors)
            let fresh = randomMatrix(rows: 20, dimension: 37, seed: 3300)
            let ids = (0..<20).map { VectorID(50_000 + $0) }
            for target in [copied, mapped, vectorsMapped] {
                #expect(target.remove(ids: [1, 8, 22, 100, 43]) > 0)
                try target.add(fresh, ids: ids)
            }
            #expect(try Self.read(path) == bytes, "the file is unchanged")
            #expect(try Self.answers(mapped) == Self.answers(copied), "\(index.kind)")
            #expect(try Self.answers(vectorsMapped) == Self.answers(copied), "\(index.kind)")
            // A save over the mapped path renames a new file in: the mapping keeps the old one.
            let other = try AnyIndex.load(from: path, mode: .mapped)
            let before = try Self.answers(other)
            try copied.save(to: path)
            #expect(try Self.answers(other) == before)
        }
    }

    @Test("files the mapped mode cannot take are refused with a reason")
    func refused() throws {
        let path = temporaryPath("mapped-refused.vsidx")
        defer { cleanup(path) }
        let index = try FlatIndex(dimension: 4, metric: .l2)
        try index.add(rows([[1, 2, 3, 4], [0, 1, 0, 1]]))
        try index.save(to: path)
        Self.write(IndexFileTests.unpadded(try Self.read(path), version: 2), to: path)
        #expect(try FlatIndex.load(from: path).count == 2)
        #expect(throws: VectorSearchError.self) { try FlatIndex.load(from: path, mode: .mapped) }
        #expect(throws: VectorSearchError.self) { try FlatIndex.load(from: path, mode: .mappedVectors) }
        #expect(throws: VectorSearchError.self) { try FlatIndex.load(from: "/nonexistent/x.vsidx", mode: .mapped) }
        // Special files are refused at once, not waited on or mapped.
        let fifo = temporaryPath("mapped.fifo")
        defer { cleanup(fifo) }
        #expect(mkfifo(fifo, 0o600) == 0)
        for target in [fifo, "/dev/zero", NSTemporaryDirectory()] {
            #expect(throws: VectorSearchError.self, "\(target)") { try AnyIndex.load(from: target, mode: .mapped) }
        }
    }

    @Test("damaged mapped sections: searches never leave the graph, the first add and a copied load refuse them")
    func damagedLinks() throws {
        let path = temporaryPath("mapped-damaged.vsidx")
        defer { cleanup(path) }
        guard case let .hnsw(index) = try Self.indexes(storage: .int8, metric: .cosine)[0] else { return }
        try index.save(to: path)
        var bytes = try Self.read(path)
        let level0 = try #require(Self.section("LNK0", in: bytes))
        let stride = (1 + 2 * index.parameters.m) * 4
        // Every list claims too many links, and every link points past the graph.
        for slot in 0..<(level0.length / stride) {
            let list = level0.payload + slot * stride
            bytes.replaceSubrange(list..<(list + 4), with: littleEndianBytes(UInt32.max))
            for j in 1...(2 * index.parameters.m) where slot % 2 == 0 {
                bytes.replaceSubrange((list + 4 * j)..<(list + 4 * j + 4), with: littleEndianBytes(UInt32(1_000_000 + j)))
            }
        }
        Self.write(bytes, to: path)
        #expect(throws: VectorSearchError.self) { try HNSWIndex.load(from: path) }
        let mapped = try HNSWIndex.load(from: path, mode: .mapped)
        let query = randomMatrix(rows: 1, dimension: 37, seed: 3400)[0]
        let hits = try mapped.search(query, k: 5, parameters: .init(ef: 50))
        #expect(hits.allSatisfy { $0.id < 300 })
        #expect(throws: VectorSearchError.self) { try mapped.add(randomMatrix(rows: 1, dimension: 37, seed: 3401)) }
    }

    @Test("an upper-level link to a node below that level is refused, copied or mapped (a walk would read lists it lacks)")
    func upperLinkBelowItsLevel() throws {
        let path = temporaryPath("upper-link.vsidx")
        defer { cleanup(path) }
        guard case let .hnsw(index) = try Self.indexes(storage: .float32, metric: .l2)[0] else { return }
        try index.save(to: path)
        var bytes = try Self.read(path)
        let levels = try #require(Self.section("LVLS", in: bytes)), upper = try #require(Self.section("LNKU", in: bytes))
        let groundSlot = try #require((0..<levels.length).first { bytes[levels.payload + $0] == 0 })
        let count = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: upper.payload, as: UInt32.self) }
        try #require(count > 0, "the first upper list has links")
        bytes.replaceSubrange((upper.payload + 4)..<(upper.payload + 8), with: littleEndianBytes(UInt32(groundSlot)))
        Self.reseal(&bytes, upper)
        Self.write(bytes, to: path)
        for mode in IndexLoadMode.allCases {
            #expect(throws: VectorSearchError.corruptIndex(path: path, reason: "a link list is out of range"), "\(mode)") {
                try HNSWIndex.load(from: path, mode: mode)
            }
        }
    }

    @Test("stored codes that do not match the vectors are refused by a copied load", arguments: [VectorStorage.int8, .float16, .bfloat16])
    func damagedCodes(storage: VectorStorage) throws {
        let path = temporaryPath("codes-damaged.vsidx")
        defer { cleanup(path) }
        // IVF stores no scalar codes (its lists encode them again at load).
        for index in try Self.indexes(storage: storage, metric: .innerProduct) where index.kind != .ivf {
            try index.save(to: path)
            for tag in ["CODE", "CSCL", "CNRM"] {
                var bytes = try Self.read(path)
                let section = try #require(Self.section(tag, in: bytes))
                bytes[section.payload + 5] ^= 0x01
                Self.reseal(&bytes, section)
                Self.write(bytes, to: path + ".bad")
                defer { cleanup(path + ".bad") }
                #expect(
                    throws: VectorSearchError.corruptIndex(
                        path: path + ".bad", reason: "section '\(tag)' does not match section 'VECS' (damaged or written wrongly)")
                ) { try AnyIndex.load(from: path + ".bad") }
                #expect(try AnyIndex.load(from: path + ".bad", mode: .mapped).count == index.count)
                #expect(try AnyIndex.load(from: path + ".bad", mode: .mappedVectors).count == index.count)
            }
            // Read into memory, stored codes are checked for values no encoder writes.
            var bytes = try Self.read(path)
            let code = try #require(Self.section("CODE", in: bytes))
            bytes.replaceSubrange(code.payload..<(code.payload + 2), with: storage == .int8 ? [0x80, 0x80] : [0xFF, 0x7F])
            Self.reseal(&bytes, code)
            Self.write(bytes, to: path + ".nan")
            defer { cleanup(path + ".nan") }
            #expect(
                throws: VectorSearchError.corruptIndex(
                    path: path + ".nan", reason: "section 'CODE', 'CSCL' or 'CNRM' holds values no encoder writes")
            ) { try AnyIndex.load(from: path + ".nan", mode: .mappedVectors) }
        }
    }
}
