import CVectorKernels
import Foundation
import Testing
import TestSupport
@testable import VectorSearch

@Suite("IVF on product-quantization codes (pq, pq4fs)")
struct IVFCodecTests {
    /// Bytes from a seeded generator.
    func bytes(_ count: Int, seed: UInt64, below bound: UInt64 = 256) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(random.next() % bound) }
    }

    @Test("fast-scan block sums equal a plain loop on every kernel, up to 256 slices of 255 (16-bit sums still exact)")
    func fastScanKernels() {
        var kernels = [IVFProductCodes.fastScanKernels(.portable)]
        for level in SIMDLevel.supported where level != .portable { kernels.append(IVFProductCodes.fastScanKernels(level)) }
        for (m, blocks) in [(4, 1), (8, 3), (12, 2), (96, 2), (256, 1), (20, 4)] {
            for (variant, saturated) in [(0, false), (1, true)] {
                let codes = bytes(blocks * m * 16, seed: UInt64(m * 10 + variant))
                let lut = saturated ? [UInt8](repeating: 255, count: m * 16) : bytes(m * 16, seed: UInt64(m))
                var expected = [UInt16](repeating: 0, count: blocks * 32)
                for b in 0..<blocks {
                    for r in 0..<32 {
                        var sum = 0
                        for s in 0..<m {
                            let byte = codes[b * m * 16 + s * 16 + r % 16]
                            sum += Int(lut[s * 16 + Int(r < 16 ? byte & 15 : byte >> 4)])
                        }
                        expected[b * 32 + r] = UInt16(sum)
                    }
                }
                for (sums, _) in kernels {
                    var out = [UInt16](repeating: 0, count: blocks * 32)
                    sums(codes, blocks, lut, m, &out)
                    #expect(out == expected, "m \(m) blocks \(blocks) saturated \(saturated)")
                }
            }
        }
    }

    @Test("selecting the rows at or under a limit agrees with a plain filter on every kernel, at lengths that are not multiples of 32")
    func selectKernels() {
        var kernels = [IVFProductCodes.fastScanKernels(.portable)]
        for level in SIMDLevel.supported where level != .portable { kernels.append(IVFProductCodes.fastScanKernels(level)) }
        for n in [0, 1, 31, 32, 33, 100, 256] {
            var random = SplitMix64(seed: UInt64(n))
            let sums = (0..<n).map { _ in UInt16(random.next() % 1000) }
            for limit: UInt16 in [0, 400, 999, 65535] {
                let expected = (0..<n).filter { sums[$0] <= limit }.map(UInt32.init)
                for (_, select) in kernels {
                    var positions = [UInt32](repeating: 0, count: max(n, 1))
                    let count = select(sums, n, limit, &positions)
                    #expect(Array(positions.prefix(count)) == expected, "n \(n) limit \(limit)")
                }
            }
        }
    }

    @Test("8-bit code distances are the bias plus one table entry per slice, for row counts around the kernel's groups of four")
    func pq8Kernel() {
        for (n, m) in [(0, 3), (1, 1), (3, 5), (4, 2), (7, 48)] {
            let codes = bytes(n * m, seed: UInt64(n + 100 * m))
            var random = SplitMix64(seed: 5)
            let table = (0..<(m * 256)).map { _ in Float(random.next() % 1000) / 100 }
            var out = [Float](repeating: -1, count: n)
            vs_pq8_distances(codes, n, m, table, 1.5, &out)
            for i in 0..<n {
                let expected = (0..<m).reduce(Float(1.5)) { $0 + table[$1 * 256 + Int(codes[i * m + $1])] }
                #expect(abs(out[i] - expected) <= 1e-4 * max(1, abs(expected)), "n \(n) m \(m) row \(i)")
            }
        }
    }

    @Test("the fast-scan table quantizes to the same bytes, offset and step on every kernel, padding zeroed")
    func quantizeTableKernels() {
        var random = SplitMix64(seed: 41)
        for (m, padded) in [(1, 2), (2, 2), (5, 6), (96, 96), (15, 16)] {
            let table = (0..<(m * 16)).map { _ in random.nextGaussian() * 3 }
            var expected = [UInt8](repeating: 7, count: padded * 16), offset: Float = 0, delta: Float = 0
            vs_fastscan_quantize_table(table, m, padded, &expected, &offset, &delta)
            #expect(expected[(m * 16)...].allSatisfy { $0 == 0 } && delta > 0)
            for level in SIMDLevel.supported {
                let quantize = IVFProductCodes.quantizeTableKernel(level)
                var bytes = [UInt8](repeating: 7, count: padded * 16), levelOffset: Float = 0, levelDelta: Float = 0
                quantize(table, m, padded, &bytes, &levelOffset, &levelDelta)
                #expect(bytes == expected && levelOffset == offset && levelDelta == delta, "\(level) m \(m)")
            }
        }
    }

    @Test(
        "a query times an int8 matrix in paired panels (OPQ's rotation and the centroids) equals a plain loop in integers, on every kernel, at odd row counts and column counts around the blocks"
    )
    func queryMatrixKernel() {
        for (rows, columns) in [(1, 1), (3, 17), (7, 64), (20, 300), (5, 257), (384, 640), (2, 15), (4, 400), (6, 128), (9, 200), (3, 112), (2, 40)] {
            var random = SplitMix64(seed: UInt64(rows * 1000 + columns))
            let x = (0..<rows).map { _ in random.nextGaussian() }
            let matrix = (0..<columns).map { _ in (0..<rows).map { _ in random.nextGaussian() } }
            let coded = matrix.map { IVFProductCodes.int8Column($0) }
            let laidOut = IVFProductCodes.pairedPanels(coded.map(\.codes), rows: rows)
            var q = [Int16](repeating: 7, count: rows + 1), error: Float = 0
            let queryScale = vs_quantize_query_i16(x, rows, &q, &error)
            #expect(rows % 2 == 0 || q[rows] == 0)
            // The rounding error is what it says, and small.
            let lost = zip(x, q).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1) * Double(queryScale), 2) }.squareRoot()
            #expect(abs(Double(error) - lost) <= 1e-6 && lost <= 1e-3 * Double(Distance.norm(x)))
            let scales = coded.map(\.scale)
            for level in SIMDLevel.supported {
                var y = [Float](repeating: .nan, count: columns)
                IVFProductCodes.queryMatrixKernel(level)(q, laidOut, rows, columns, scales, queryScale, &y)
                for j in 0..<columns {
                    let sum = (0..<rows).reduce(0) { $0 + Int(q[$1]) * Int(coded[j].codes[$1]) }
                    #expect(y[j] == Float(Int32(sum)) * scales[j] * queryScale, "\(level) rows \(rows) columns \(columns) column \(j)")
                    // And near the float product.
                    let exact = zip(x, matrix[j]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                    #expect(abs(Double(y[j]) - exact) <= 0.02 * Double(Distance.norm(x)) * Double(Distance.norm(matrix[j])))
                }
            }
        }
    }

    static let codecs: [IVFCodec] = [
        try! IVFCodec(.pq, subquantizers: 5), try! IVFCodec(.pq4fs, subquantizers: 5), try! IVFCodec(.pq4fs, subquantizers: 15),
        try! IVFCodec(.pq4fs, subquantizers: 3, rotation: true), try! IVFCodec(.pq, subquantizers: 3, residual: false),
        try! IVFCodec(.pq4fs, subquantizers: 5, residual: false),
    ]

    /// An index of `n` random 15-d rows in 6 lists with `codec`.
    func index(_ codec: IVFCodec, metric: Metric, n: Int = 400, seed: UInt64 = 1) throws -> (IVFIndex, VectorMatrix) {
        let base = randomMatrix(rows: n, dimension: 15, seed: seed)
        let index = try IVFIndex(dimension: 15, metric: metric, parameters: IVFParameters(nlist: 6, codec: codec))
        try index.train(base, threads: 2)
        try index.add(base, threads: 2)
        return (index, base)
    }

    @Test("every row's stored code is its residual's code, through the block layout (rows 0–399 cross many 32-row blocks)", arguments: codecs)
    func storedCodes(codec: IVFCodec) throws {
        for metric in Metric.allCases {
            let (index, _) = try self.index(codec, metric: metric)
            let product = try #require(index.lists.product)
            for slot in 0..<index.count {
                let (list, position) = index.location(of: slot)
                let row = try VectorMatrix(dimension: 15, values: Array(UnsafeBufferPointer(start: index.lists.vectors[list]! + position * 15, count: 15)))
                let expected = try product.encode(row, lists: [list], centroids: index.centroids.base, threads: 1)
                var stored = [UInt8](repeating: 0, count: product.m)
                index.lists.productCode(list, position: position, into: &stored)
                #expect(stored == expected, "\(codec) \(metric) slot \(slot)")
            }
        }
    }

    @Test("all lists probed and every candidate re-ranked give the exact answer; batch equals single queries", arguments: codecs)
    func exactWithFullRerank(codec: IVFCodec) throws {
        for metric in Metric.allCases {
            let (index, base) = try self.index(codec, metric: metric)
            let ids = (0..<base.count).map(VectorID.init)
            let queries = randomMatrix(rows: 6, dimension: 15, seed: 77)
            let all = try IVFSearchParameters(nprobe: 6, rerank: base.count)
            for q in 0..<queries.count {
                let found = try index.search(queries[q], k: 10, parameters: all)
                let expected = referenceSearch(base: base, ids: ids, query: queries[q], metric: metric, k: 10)
                #expect(found.map(\.id) == expected.map(\.id), "\(codec) \(metric) query \(q)")
                for (hit, reference) in zip(found, expected) {
                    #expect(abs(Double(hit.score) - reference.score) <= 1e-4 * max(1, abs(reference.score)))
                }
            }
            let some = try IVFSearchParameters(nprobe: 3, rerank: 4)
            let batch = try index.search(batch: queries, k: 7, parameters: some)
            for q in 0..<queries.count {
                let single = try index.search(queries[q], k: 7, parameters: some)
                #expect(Array(batch[q]) == single)
            }
        }
    }

    @Test(
        "the coarse step from the int8 pass ranks the lists exactly as scoring every centroid; each estimate is within its slack",
        arguments: [try! IVFCodec(.pq4fs, subquantizers: 5), try! IVFCodec(.pq4fs, subquantizers: 3, rotation: true)])
    func estimatedCoarseStep(codec: IVFCodec) throws {
        for metric in Metric.allCases {
            let base = randomMatrix(rows: 1_200, dimension: 15, seed: 31)
            let index = try IVFIndex(dimension: 15, metric: metric, parameters: IVFParameters(nlist: 40, codec: codec))
            try index.train(base, threads: 2)
            try index.add(base, threads: 2)
            let product = try #require(index.lists.product)
            #expect(product.listCount == 40 && product.rotatedColumns == (codec.rotation ? 15 : 0))
            // Queries of several lengths, some near a centroid (many near ties).
            let random = randomMatrix(rows: 12, dimension: 15, seed: 32)
            func centroid(_ c: Int) -> [Float] { Array(UnsafeBufferPointer(start: index.centroids.row(c), count: 15)) }
            var queries = (0..<random.count).map { i in random[i].map { $0 * Float(1 + i % 3) } }
            queries += (0..<4).map { c in centroid(c * 9).map { $0 + 1e-3 } }
            for (q, raw) in queries.enumerated() {
                let query = metric == .cosine ? raw.map { $0 / Distance.norm(raw) } : raw
                var scratchFloats = [Float](repeating: 0, count: product.scratchFloats)
                scratchFloats.withUnsafeMutableBufferPointer { buffer in
                    let rotated = buffer.baseAddress!, estimates = rotated + 15
                    let queryError = Double(product.prepare(query, rotated: rotated, products: estimates + product.listCount))
                    let norm = Double(Distance.norm(query))
                    for c in 0..<40 {
                        let exact = zip(query, centroid(c)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                        let bound = norm * Double(product.centroidSlack[c]) + queryError * Double(product.centroidCodeNorms[c])
                        #expect(abs(exact - Double(estimates[c])) <= bound, "\(metric) query \(q) centroid \(c)")
                    }
                }
                for nprobe in [1, 5, 17, 40] {
                    var floats = [Float](repeating: 0, count: 256)
                    var full = [Scored](repeating: Scored(id: 0, distance: 0), count: nprobe)
                    let fullCount = index.rankLists(query, nprobe: nprobe, scratch: &floats, into: &full)
                    let estimated = index.withScratch { scratch in
                        let rotated = scratch.tables, estimates = rotated + 15
                        let queryError = product.prepare(query, rotated: rotated, products: estimates + product.listCount)
                        let count = index.rankListsEstimated(
                            query, product: product, estimates: estimates, queryError: queryError, nprobe: nprobe, scratch: scratch)
                        return Array(UnsafeBufferPointer(start: scratch.lists, count: count))
                    }
                    #expect(fullCount == nprobe && estimated == full, "\(codec) \(metric) query \(q) nprobe \(nprobe)")
                }
            }
        }
    }

    /// The distance a code stands for, in Double: the query against centroid + decoded residual
    /// (rotated back), as the metric's internal distance.
    func codeDistance(_ index: IVFIndex, slot: Int, query: [Float]) throws -> Double {
        let product = try #require(index.lists.product)
        let (list, position) = index.location(of: slot)
        var code = [UInt8](repeating: 0, count: product.m)
        index.lists.productCode(list, position: position, into: &code)
        var decoded = try product.quantizer.decode(code).values.map(Double.init)
        if let rotation = product.rotation {  // x·R was coded: x = y·Rᵀ
            decoded = (0..<15).map { i in (0..<15).reduce(0.0) { $0 + decoded[$1] * Double(rotation[i * 15 + $1]) } }
        }
        let x = (0..<15).map { decoded[$0] + (product.codec.residual ? Double(index.centroids.row(list)[$0]) : 0) }
        let q = query.map(Double.init)
        switch index.metric {
        case .l2: return zip(x, q).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        case .innerProduct, .cosine: return -zip(x, q).reduce(0) { $0 + $1.0 * $1.1 }
        }
    }

    @Test("without re-ranking, scores are the codes' distances: exact for pq, within half a table step per slice for pq4fs", arguments: codecs)
    func codeScores(codec: IVFCodec) throws {
        for metric in Metric.allCases {
            let (index, _) = try self.index(codec, metric: metric)
            let product = try #require(index.lists.product)
            let query = randomMatrix(rows: 1, dimension: 15, seed: 91)[0]
            let found = try index.search(query, k: 20, parameters: try IVFSearchParameters(nprobe: 6, rerank: 0))
            #expect(found.count == 20)
            // The widest table step of any list bounds pq4fs's rounding.
            var step: Float = 0
            var scratch = [Float](repeating: 0, count: product.scratchFloats), lut = [UInt8](repeating: 0, count: product.paddedM * 16)
            scratch.withUnsafeMutableBufferPointer { s in
                let rotated = s.baseAddress!, products = rotated + 15, table = products + product.m * product.centroidCount
                product.prepare(query, rotated: rotated, products: products)
                for list in 0..<6 {
                    product.table(list: list, products: products, into: table)
                    if codec.kind == .pq4fs { step = max(step, product.quantize(table, into: &lut).delta) }
                }
            }
            let queryNorm = Double(query.reduce(0) { $0 + $1 * $1 }.squareRoot())
            for hit in found {
                let slot = try #require(index.idMap.slot(of: hit.id))
                var expected = try codeDistance(index, slot: slot, query: query)
                expected = metric == .l2 ? expected : metric == .cosine ? expected / queryNorm : expected
                let distance = Double(metric.distance(fromScore: hit.score))
                let scale = metric == .cosine ? 1 / queryNorm : 1
                let tolerance = (codec.kind == .pq ? 0 : Double(product.m) * Double(step) / 2 * scale) + 1e-3 * max(1, abs(expected))
                #expect(abs(distance - expected) <= tolerance, "\(codec) \(metric) id \(hit.id): \(distance) vs \(expected)")
            }
        }
    }

    @Test("save and load keep the codec, the codes and every answer; removals move codes with their rows; filters stay exact")
    func lifecycle() throws {
        for codec in [try IVFCodec(.pq4fs, subquantizers: 5, rotation: true), try IVFCodec(.pq, subquantizers: 3)] {
            let d = 15, n = 300
            let base = randomMatrix(rows: n, dimension: d, seed: 3)
            let attributes: [Attributes] = (0..<n).map { ["even": .bool($0 % 2 == 0)] }
            let index = try IVFIndex(dimension: d, metric: .cosine, parameters: IVFParameters(nlist: 5, codec: codec))
            try index.train(base)
            try index.add(base, attributes: attributes)
            let query = randomMatrix(rows: 1, dimension: d, seed: 4)[0]
            let path = temporaryPath("codec.vsidx")
            defer { cleanup(path) }
            try index.save(to: path)
            let loaded = try IVFIndex.load(from: path)
            #expect(loaded.parameters.codec == codec)
            for rerank in [0, 1, 5] {
                let parameters = try IVFSearchParameters(nprobe: 3, rerank: rerank)
                #expect(try loaded.search(query, k: 10, parameters: parameters) == index.search(query, k: 10, parameters: parameters))
            }
            #expect(try AnyIndex.load(from: path).memoryParts.contains { $0.part == "codebooks" })
            try expectDamagedCopiesRefused(of: path, lastSection: "ATTR") { _ = try IVFIndex.load(from: $0) }

            let even = try Filter(json: #"{"even": true}"#)
            let ids = (0..<n).map(VectorID.init)
            let exactEven = referenceSearch(
                base: try VectorMatrix(dimension: d, values: (0..<n).filter { $0 % 2 == 0 }.flatMap { base[$0] }),
                ids: ids.filter { $0 % 2 == 0 }, query: query, metric: .cosine, k: 5)
            #expect(try index.search(query, k: 5, parameters: try IVFSearchParameters(nprobe: 5), filter: even).map(\.id) == exactEven.map(\.id))

            let removed = ids.filter { $0 % 3 == 1 }
            #expect(index.remove(ids: removed) == removed.count)
            let kept = ids.filter { $0 % 3 != 1 }
            let exact = referenceSearch(
                base: try VectorMatrix(dimension: d, values: kept.flatMap { base[Int($0)] }), ids: kept, query: query, metric: .cosine, k: 8)
            let all = try IVFSearchParameters(nprobe: 5, rerank: n)
            #expect(try index.search(query, k: 8, parameters: all).map(\.id) == exact.map(\.id))
            #expect(try index.search(query, k: 8, parameters: try IVFSearchParameters(nprobe: 5, rerank: 0)).allSatisfy { $0.id % 3 != 1 })
            // Added back (new positions at the ends of lists): still exact.
            try index.add(try VectorMatrix(dimension: d, values: removed.flatMap { base[Int($0)] }), ids: removed)
            let everything = referenceSearch(base: base, ids: ids, query: query, metric: .cosine, k: 8)
            #expect(try index.search(query, k: 8, parameters: all).map(\.id) == everything.map(\.id))
            #expect(try index.search(query, k: 1000, parameters: try IVFSearchParameters(nprobe: 5, rerank: 2)).count == n)
        }
    }

    @Test("centroids so large their norms overflow (finite, so the file loads) give an answer, not a trap, copied and mapped")
    func overflowingCentroids() throws {
        let path = temporaryPath("codec-overflow.vsidx")
        defer { cleanup(path) }
        let base = randomMatrix(rows: 60, dimension: 16, seed: 5)
        let index = try IVFIndex(dimension: 16, metric: .l2, parameters: IVFParameters(nlist: 2, codec: try IVFCodec(.pq4fs, subquantizers: 4)))
        try index.train(base)
        try index.add(base)
        try index.save(to: path)
        var bytes = try MappedIndexTests.read(path)
        let centroids = try #require(MappedIndexTests.section("CENT", in: bytes))
        for i in 0..<16 {
            bytes.replaceSubrange((centroids.payload + 4 * i)..<(centroids.payload + 4 * i + 4), with: littleEndianBytes(Float(1e30).bitPattern))
        }
        MappedIndexTests.reseal(&bytes, centroids)
        MappedIndexTests.write(bytes, to: path)
        for mode in [IndexLoadMode.copy, .mapped] {
            let loaded = try IVFIndex.load(from: path, mode: mode)
            // Every row a candidate: the list with the infinite bias is scanned while the heap is not full.
            let found = try loaded.search(base[0], k: 5, parameters: try IVFSearchParameters(nprobe: 2, rerank: 100))
            #expect(found.count <= 5)
        }
    }

    @Test("bad codecs are refused with a reason; an empty index answers nothing; too few training vectors say how many are needed")
    func refusals() throws {
        #expect(throws: VectorSearchError.self) { try IVFCodec(.pq, subquantizers: 0) }
        #expect(throws: VectorSearchError.self) { try IVFCodec(.pq4fs, subquantizers: 257) }
        let four = try IVFCodec(.pq4fs, subquantizers: 4)
        #expect(throws: VectorSearchError.invalidParameter(name: "PQ subquantizers", value: "4", requirement: "a divisor of the dimension 15")) {
            try IVFIndex(dimension: 15, metric: .l2, parameters: IVFParameters(nlist: 2, codec: four))
        }
        #expect(throws: VectorSearchError.self) {
            try IVFIndex(dimension: 16, metric: .l2, parameters: IVFParameters(nlist: 2, codec: four), storage: .int8)
        }
        let index = try IVFIndex(dimension: 16, metric: .l2, parameters: IVFParameters(nlist: 2, codec: try IVFCodec(.pq, subquantizers: 4)))
        #expect(throws: VectorSearchError.invalidArgument("training a pq codec needs at least 256 training vectors, got 100")) {
            try index.train(randomMatrix(rows: 100, dimension: 16, seed: 1))
        }
        #expect(!index.isTrained)
        let small = try IVFIndex(dimension: 16, metric: .l2, parameters: IVFParameters(nlist: 2, codec: four))
        try small.train(randomMatrix(rows: 40, dimension: 16, seed: 1))
        #expect(try small.search(randomMatrix(rows: 1, dimension: 16, seed: 2)[0], k: 5, parameters: .default).isEmpty)
    }
}
