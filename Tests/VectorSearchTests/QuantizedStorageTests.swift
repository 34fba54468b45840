import Foundation
import Testing
import TestSupport
@testable import VectorSearch

@Suite("Quantized storage: codecs, code kernels and flat indexes on codes")
struct QuantizedStorageTests {
    static let quantized: [VectorStorage] = [.float16, .bfloat16, .int8]
    static let dimensions = [1, 3, 7, 8, 15, 16, 17, 31, 33, 100, 384]

    /// Encodes one row through the codec; returns the codes' bytes and the row's scale.
    static func encode(_ storage: VectorStorage, _ row: [Float]) -> (codes: [UInt8], scale: Float) {
        var codes = [UInt8](repeating: 0, count: row.count * storage.bytesPerComponent)
        let scale = codes.withUnsafeMutableBytes { VectorCodec.encode(storage, row, row.count, into: $0.baseAddress!) }
        return (codes, scale)
    }

    static func decode(_ storage: VectorStorage, _ encoded: (codes: [UInt8], scale: Float), _ d: Int) -> [Float] {
        encoded.codes.withUnsafeBytes { VectorCodec.decode(storage, $0.baseAddress!, d, scale: encoded.scale) }
    }

    /// Every row of `matrix` coded back to back, each row's scale, and what each row decodes to.
    static func encodeRows(_ storage: VectorStorage, _ matrix: VectorMatrix) -> (codes: [UInt8], scales: [Float], decoded: [[Float]]) {
        var codes: [UInt8] = [], scales: [Float] = [], decoded: [[Float]] = []
        for r in 0..<matrix.count {
            let encoded = encode(storage, matrix[r])
            codes += encoded.codes
            scales.append(encoded.scale)
            decoded.append(decode(storage, encoded, matrix.dimension))
        }
        return (codes, scales, decoded)
    }

    @Test("codecs round each component as their format says")
    func codecs() {
        let row: [Float] = [0, 1, -1, 0.1, 3.14159, -2.5e-3, 100, -65504, 1e-8]
        let f16 = Self.decode(.float16, Self.encode(.float16, row), row.count)
        #expect(f16 == row.map { Float(Float16($0)) })
        let bf16 = Self.decode(.bfloat16, Self.encode(.bfloat16, row), row.count)
        for (x, y) in zip(row, bf16) { #expect(abs(x - y) <= abs(x) / 256, "bfloat16 \(x) -> \(y)") }
        let encoded = Self.encode(.int8, row)
        #expect(encoded.scale == Float(65504) / 127)
        let int8 = Self.decode(.int8, encoded, row.count)
        for (x, y) in zip(row, int8) { #expect(abs(x - y) <= encoded.scale / 2 * 1.0001, "int8 \(x) -> \(y)") }
        #expect(encoded.codes.allSatisfy { Int8(bitPattern: $0) >= -127 }, "codes stay in -127...127")
        // The largest component maps to ±127 exactly; a zero row has scale 0 and decodes to zeros.
        #expect(Int8(bitPattern: encoded.codes[7]) == -127)
        let zero = Self.encode(.int8, [0, 0, 0])
        #expect(zero.scale == 0 && Self.decode(.int8, zero, 3) == [0, 0, 0])
    }

    @Test(
        "code kernels equal a scalar reference over the decoded rows",
        arguments: SIMDLevel.supported, QuantizedStorageTests.quantized)
    func kernels(level: SIMDLevel, storage: VectorStorage) throws {
        let kernels = try #require(CodeKernels(storage: storage, level: level))
        for d in Self.dimensions {
            let rows = 21  // not a multiple of the gather kernels' 4 or 8 rows
            let base = randomMatrix(rows: rows, dimension: d, seed: 700 + UInt64(d))
            let query = randomMatrix(rows: 1, dimension: d, seed: 800 + UInt64(d))[0]
            let (codes, scales, decoded) = Self.encodeRows(storage, base)
            let slots: [UInt32] = [20, 0, 3, 3, 19, 7, 1, 11, 12, 5, 6, 2, 20]  // repeats, any order
            var many = [Float](repeating: .nan, count: rows), gathered = [Float](repeating: .nan, count: slots.count)
            let scalePointer = storage == .int8 ? scales : nil
            codes.withUnsafeBytes { c in
                scales.withUnsafeBufferPointer { s in
                    let s = scalePointer == nil ? nil : s.baseAddress
                    kernels.dotMany(query, c.baseAddress, s, rows, d, &many)
                    kernels.dotGather(query, c.baseAddress, s, slots, slots.count, d, &gathered)
                    kernels.dotMany(query, c.baseAddress, s, 0, d, &gathered)  // n = 0 writes nothing
                }
            }
            func expectClose(_ got: Float, _ row: [Float], _ context: String) {
                let ref = KernelTests.reference(query, row)
                #expect(abs(Double(got) - ref.dot) <= 1e-5 * ref.magnitude + 1e-6, "\(context) d=\(d) \(storage) \(level)")
            }
            for r in 0..<rows { expectClose(many[r], decoded[r], "many row \(r)") }
            for (i, slot) in slots.enumerated() { expectClose(gathered[i], decoded[Int(slot)], "gather \(i)") }
            expectCandidateKernel(kernels, query: query, codes: codes, scales: scalePointer, decoded: decoded, d: d)
        }
    }

    /// The candidate kernel may quantize the query (int8 on AVX512-VNNI): each product may be off
    /// by the query's rounding, ½ · max|q|/127 · Σ|x|, and by no more.
    func expectCandidateKernel(
        _ kernels: CodeKernels, query: [Float], codes: [UInt8], scales: [Float]?, decoded: [[Float]], d: Int
    ) {
        var out = [Float](repeating: .nan, count: decoded.count)
        codes.withUnsafeBytes { c in kernels.candidateMany(query, c.baseAddress, scales, decoded.count, d, &out) }
        let step = Double(query.map { abs($0) }.max()!) / 127
        func expectBound(_ got: Float, _ row: [Float], _ context: String) {
            let ref = KernelTests.reference(query, row)
            let rounding = 0.5 * step * row.reduce(0) { $0 + Double(abs($1)) }
            #expect(abs(Double(got) - ref.dot) <= rounding * 1.001 + 1e-5 * ref.magnitude + 1e-6, "\(context) d=\(d) \(kernels.level)")
        }
        for (r, row) in decoded.enumerated() { expectBound(out[r], row, "candidates row \(r)") }
        #if arch(x86_64)
        // The graph walk's gather from a query quantized once (int8 on AVX512-VNNI only).
        if let gather = kernels.quantizedGather, d <= QuantizedQuery.maximumDimension {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: QuantizedQuery.bufferSize(d), alignment: 64)
                .bindMemory(to: Int8.self, capacity: QuantizedQuery.bufferSize(d))
            defer { buffer.deallocate() }
            let quantized = query.withUnsafeBufferPointer { QuantizedQuery($0.baseAddress!, dimension: d, into: buffer) }
            let slots = (0..<UInt32(decoded.count)).reversed().map { $0 }
            var gathered = [Float](repeating: .nan, count: slots.count)
            codes.withUnsafeBytes { c in
                gather(quantized.codes, quantized.scale, quantized.sum, c.baseAddress, scales, slots, slots.count, d, &gathered)
            }
            for (i, slot) in slots.enumerated() { expectBound(gathered[i], decoded[Int(slot)], "quantized gather \(i)") }
        }
        #endif
    }

    @Test("the int8 candidate kernel above the quantized query's size limit falls back to the float-query kernel")
    func candidateKernelLargeDimension() throws {
        let d = 8200, rows = 5
        let base = randomMatrix(rows: rows, dimension: d, seed: 1500)
        let query = randomMatrix(rows: 1, dimension: d, seed: 1501)[0]
        let (codes, scales, decoded) = Self.encodeRows(.int8, base)
        for level in SIMDLevel.supported {
            expectCandidateKernel(try #require(CodeKernels(storage: .int8, level: level)), query: query, codes: codes, scales: scales, decoded: decoded, d: d)
        }
    }

    /// The exact search over what the codes decode to, as a flat index on codes without
    /// re-ranking must find it (cosine: the rows are normalised first, then coded).
    func referenceOnCodes(
        storage: VectorStorage, base: VectorMatrix, ids: [VectorID], query: [Float], metric: Metric, k: Int
    ) -> [(id: VectorID, score: Double)] {
        let normalize = { (row: [Float]) -> [Float] in
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return row.map { $0 / norm }
        }
        let decoded = (0..<base.count).map { r in
            Self.decode(storage, Self.encode(storage, metric == .cosine ? normalize(base[r]) : base[r]), base.dimension)
        }
        let matrix = try! VectorMatrix(decoded)
        return referenceSearch(
            base: matrix, ids: ids, query: metric == .cosine ? normalize(query) : query,
            metric: metric == .cosine ? .innerProduct : metric, k: k)
    }

    @Test(
        "flat index on codes: without re-ranking it ranks by the codes; re-ranking all candidates gives the float32 results",
        arguments: QuantizedStorageTests.quantized, Metric.allCases)
    func flatOnCodes(storage: VectorStorage, metric: Metric) throws {
        let d = 33, n = 240, k = 10
        let base = randomMatrix(rows: n, dimension: d, seed: 900)
        let queries = randomMatrix(rows: 6, dimension: d, seed: 901)
        let ids = (0..<n).map { VectorID($0 * 5 + 1) }
        let exact = try FlatIndex(dimension: d, metric: metric)
        let coded = try FlatIndex(dimension: d, metric: metric, storage: storage)
        try exact.add(base, ids: ids)
        try coded.add(base, ids: ids)
        #expect(coded.storage == storage && coded.count == n)
        #expect(coded.memoryBytes > exact.memoryBytes, "codes are held beside the float32 vectors")
        let all = FlatSearchParameters(rerank: n)  // every row a candidate: the float32 answer
        let none = FlatSearchParameters(rerank: 0)
        let batchAll = try coded.search(batch: queries, k: k, parameters: all)
        for q in 0..<queries.count {
            let want = try exact.search(queries[q], k: k)
            let got = try coded.search(queries[q], k: k, parameters: all)
            #expect(got.map(\.id) == want.map(\.id), "q\(q)")
            for (g, w) in zip(got, want) { #expect(abs(g.score - w.score) <= 1e-5 * max(1, abs(w.score))) }
            #expect(Array(batchAll[q]) == got, "batch q\(q)")
            let onCodes = try coded.search(queries[q], k: k, parameters: none)
            let reference = referenceOnCodes(storage: storage, base: base, ids: ids, query: queries[q], metric: metric, k: k)
            #expect(onCodes.map(\.id) == reference.map(\.id), "rerank 0 q\(q)")
            for (g, r) in zip(onCodes, reference) {
                #expect(abs(Double(g.score) - r.score) <= 1e-4 * max(1, abs(r.score)), "rerank 0 score q\(q)")
            }
            // The default (rerank 1) re-scores the k found: exact scores, whatever the codes' order.
            for hit in try coded.search(queries[q], k: k) {
                let want = referenceSearch(base: base, ids: ids, query: queries[q], metric: metric, k: n).first { $0.id == hit.id }!
                #expect(abs(Double(hit.score) - want.score) <= 1e-4 * max(1, abs(want.score)), "exact score of \(hit.id)")
            }
        }
    }

    @Test("flat index on codes: filters, removals, k beyond the count, save and load", arguments: QuantizedStorageTests.quantized)
    func flatLifecycle(storage: VectorStorage) throws {
        let d = 17, n = 150
        let base = randomMatrix(rows: n, dimension: d, seed: 950)
        let attributes: [Attributes] = (0..<n).map { ["even": .bool($0 % 2 == 0)] }
        let exact = try FlatIndex(dimension: d, metric: .l2)
        let coded = try FlatIndex(dimension: d, metric: .l2, storage: storage)
        try exact.add(base, attributes: attributes)
        try coded.add(base, attributes: attributes)
        let all = FlatSearchParameters(rerank: n)
        let query = randomMatrix(rows: 1, dimension: d, seed: 951)[0]
        let even = try Filter(json: #"{"even": true}"#)
        #expect(agree(try coded.search(query, k: 8, parameters: all, filter: even), try exact.search(query, k: 8, filter: even)))
        #expect(try coded.search(query, k: 8, parameters: all, filter: even).allSatisfy { $0.id % 2 == 0 })
        // Removing swaps the last row into the hole: codes must move with the float32 rows.
        let removed = (0..<n).filter { $0 % 3 == 1 }.map(VectorID.init)
        #expect(coded.remove(ids: removed) == removed.count)
        exact.remove(ids: removed)
        for q in 0..<5 {
            let query = randomMatrix(rows: 1, dimension: d, seed: 960 + UInt64(q))[0]
            #expect(agree(try coded.search(query, k: 5, parameters: all), try exact.search(query, k: 5)))
            #expect(try coded.search(query, k: 5, parameters: .init(rerank: 0)).allSatisfy { $0.id % 3 != 1 })
        }
        #expect(try coded.search(query, k: 1000, parameters: .init(rerank: 3)).count == coded.count)
        #expect(try coded.search(query, k: 0).isEmpty)
        let path = temporaryPath("coded.vsidx")
        defer { cleanup(path) }
        try coded.save(to: path)
        let loaded = try FlatIndex.load(from: path)
        #expect(loaded.storage == storage && loaded.count == coded.count)
        #expect(try AnyIndex.load(from: path).storage == storage)
        for rerank in [0, 1, 4] {
            #expect(try loaded.search(query, k: 7, parameters: .init(rerank: rerank)) == coded.search(query, k: 7, parameters: .init(rerank: rerank)))
        }
        let empty = try FlatIndex(dimension: d, metric: .cosine, storage: storage)
        #expect(try empty.search(query, k: 3).isEmpty)
    }

    @Test(
        "HNSW on codes: a walk as wide as the index ranks by the codes, re-ranking gives the float32 answer; reused slots are re-coded",
        arguments: QuantizedStorageTests.quantized, Metric.allCases)
    func hnswOnCodes(storage: VectorStorage, metric: Metric) throws {
        let d = 19, n = 200, k = 8
        let base = randomMatrix(rows: n, dimension: d, seed: 1100)
        let ids = (0..<n).map { VectorID($0 + 40) }
        let exact = try FlatIndex(dimension: d, metric: metric)
        let coded = try HNSWIndex(dimension: d, metric: metric, parameters: HNSWParameters(m: 8, efConstruction: 64), storage: storage)
        try exact.add(base, ids: ids)
        try coded.add(base, ids: ids, threads: 1, progress: nil)
        #expect(coded.storage == storage)
        let wide = try HNSWSearchParameters(ef: n, rerank: 0)
        let all = try HNSWSearchParameters(ef: n, rerank: n)
        for q in 0..<5 {
            let query = randomMatrix(rows: 1, dimension: d, seed: 1200 + UInt64(q))[0]
            #expect(try coded.search(query, k: k, parameters: all).map(\.id) == exact.search(query, k: k).map(\.id), "q\(q)")
            let onCodes = try coded.search(query, k: k, parameters: wide)
            let reference = referenceOnCodes(storage: storage, base: base, ids: ids, query: query, metric: metric, k: k)
            #expect(onCodes.map(\.id) == reference.map(\.id), "rerank 0 q\(q)")
        }
        // Remove, then add other vectors: they reuse the freed slots, whose codes must follow.
        let removed = ids.prefix(30)
        #expect(coded.remove(ids: Array(removed)) == 30)
        exact.remove(ids: Array(removed))
        let fresh = randomMatrix(rows: 30, dimension: d, seed: 1300)
        let freshIDs = (0..<30).map { VectorID(10_000 + $0) }
        try coded.add(fresh, ids: freshIDs, threads: 1, progress: nil)
        try exact.add(fresh, ids: freshIDs)
        for r in 0..<30 {
            #expect(try coded.search(fresh[r], k: 1, parameters: wide).first?.id == freshIDs[r], "re-added row \(r) finds itself on codes")
        }
        let path = temporaryPath("coded-hnsw.vsidx")
        defer { cleanup(path) }
        try coded.save(to: path)
        let loaded = try HNSWIndex.load(from: path)
        #expect(loaded.storage == storage)
        let query = randomMatrix(rows: 1, dimension: d, seed: 1400)[0]
        for parameters in [wide, all, try HNSWSearchParameters(ef: 16, rerank: 2)] {
            #expect(try loaded.search(query, k: k, parameters: parameters) == coded.search(query, k: k, parameters: parameters))
        }
        #expect(try loaded.search(query, k: k, parameters: all).map(\.id) == exact.search(query, k: k).map(\.id))
    }

    @Test(
        "IVF on codes: all lists without re-ranking rank by the codes, re-ranking all gives the float32 answer; removals, batches, filters, save and load",
        arguments: QuantizedStorageTests.quantized, Metric.allCases)
    func ivfOnCodes(storage: VectorStorage, metric: Metric) throws {
        let d = 19, n = 400, k = 8, nlist = 6
        let base = randomMatrix(rows: n, dimension: d, seed: 1500)
        let ids = (0..<n).map { VectorID($0 * 3 + 5) }
        let attributes: [Attributes] = (0..<n).map { ["even": .bool($0 % 2 == 0)] }
        let exact = try FlatIndex(dimension: d, metric: metric)
        let coded = try IVFIndex(dimension: d, metric: metric, parameters: IVFParameters(nlist: nlist), storage: storage)
        try exact.add(base, ids: ids, attributes: attributes)
        try coded.train(base)
        try coded.add(base, ids: ids, attributes: attributes)
        #expect(coded.storage == storage && coded.count == n)
        let onCodes = try IVFSearchParameters(nprobe: nlist, rerank: 0)
        let all = try IVFSearchParameters(nprobe: nlist, rerank: n)
        let queries = randomMatrix(rows: 5, dimension: d, seed: 1600)
        for q in 0..<5 {
            let query = queries[q]
            #expect(try coded.search(query, k: k, parameters: all).map(\.id) == exact.search(query, k: k).map(\.id), "q\(q)")
            let reference = referenceOnCodes(storage: storage, base: base, ids: ids, query: query, metric: metric, k: k)
            #expect(try coded.search(query, k: k, parameters: onCodes).map(\.id) == reference.map(\.id), "rerank 0 q\(q)")
        }
        // A batch answers as its queries one by one; a filter keeps to its matches.
        let batch = try coded.search(batch: queries, k: k, parameters: .init(nprobe: 3, rerank: 2))
        for q in 0..<5 { #expect(Array(batch[q]) == (try coded.search(queries[q], k: k, parameters: .init(nprobe: 3, rerank: 2)))) }
        let even = try Filter(json: #"{"even": true}"#)
        #expect(agree(try coded.search(queries[0], k: k, parameters: all, filter: even), try exact.search(queries[0], k: k, filter: even)))
        // Removing moves a list's last row into the hole: its codes must move with it.
        let removed = ids.enumerated().filter { $0.offset % 3 == 1 }.map(\.element)
        #expect(coded.remove(ids: removed) == removed.count)
        exact.remove(ids: removed)
        let fresh = randomMatrix(rows: 30, dimension: d, seed: 1700)
        let freshIDs = (0..<30).map { VectorID(100_000 + $0) }
        try coded.add(fresh, ids: freshIDs)
        try exact.add(fresh, ids: freshIDs)
        for q in 0..<5 { #expect(agree(try coded.search(queries[q], k: k, parameters: all), try exact.search(queries[q], k: k)), "after changes q\(q)") }
        for r in 0..<30 where metric != .innerProduct {
            #expect(try coded.search(fresh[r], k: 1, parameters: onCodes).first?.id == freshIDs[r], "added row \(r) finds itself on codes")
        }
        let path = temporaryPath("coded-ivf.vsidx")
        defer { cleanup(path) }
        try coded.save(to: path)
        let loaded = try AnyIndex.load(from: path)
        #expect(loaded.storage == storage)
        for parameters in [onCodes, all, try IVFSearchParameters(nprobe: 2, rerank: 3)] {
            var options = SearchOptions(nprobe: parameters.nprobe)
            options.rerank = parameters.rerank
            #expect(try loaded.search(queries[1], k: k, options: options) == coded.search(queries[1], k: k, parameters: parameters))
        }
    }

    @Test("bad input on codes: float16's range, re-ranking factors, kinds without codes")
    func badInput() throws {
        let index = try FlatIndex(dimension: 2, metric: .l2, storage: .float16)
        #expect(throws: VectorSearchError.self) { try index.add(rows([[1, 2], [70000, 0]])) }
        #expect(index.count == 0, "a refused batch adds nothing")
        try index.add(rows([[65504, -65504]]))
        let cosine = try FlatIndex(dimension: 2, metric: .cosine, storage: .float16)
        try cosine.add(rows([[1e15, 1]]))  // normalised before coding: fits
        #expect(try cosine.search([1, 0], k: 1).first?.score ?? 0 > 0.99)
        for rerank in [-1, ParameterCheck.maximumRerank + 1] {
            #expect(throws: VectorSearchError.self) { try index.search([1, 1], k: 1, parameters: .init(rerank: rerank)) }
        }
        let ivf = try IVFIndex(dimension: 2, metric: .l2, parameters: IVFParameters(nlist: 1), storage: .float16)
        try ivf.train(rows([[1, 2], [3, 4]]))
        #expect(throws: VectorSearchError.self) { try ivf.add(rows([[70000, 0]])) }
        #expect(throws: VectorSearchError.self) { try ivf.search([1, 1], k: 1, parameters: .init(rerank: -1)) }
        // k × rerank beyond Int's range is capped, not an overflow.
        #expect(try index.search([1, 1], k: Int.max / 2, parameters: .init(rerank: 1000)).count == 1)
    }
}

/// The same neighbours in the same order, with scores equal but for rounding: re-ranked and
/// exact scores come from kernels that may sum in different orders (one unit in the last place
/// was seen between a filtered flat scan and IVF's re-ranking, for cosine).
func agree(_ a: [Neighbor], _ b: [Neighbor]) -> Bool {
    a.map(\.id) == b.map(\.id) && zip(a, b).allSatisfy { abs($0.score - $1.score) <= 1e-5 * max(1, abs($1.score)) }
}
