import Dispatch
import Foundation
import Testing
import TestSupport
@testable import VectorSearch

@Suite("IVFIndex")
struct IVFIndexTests {
    /// An IVF and a flat index over the same rows and ids.
    func pair(_ base: VectorMatrix, metric: Metric, nlist: Int, ids: [VectorID]? = nil) throws -> (IVFIndex, FlatIndex) {
        let ids = ids ?? (0..<base.count).map { VectorID($0) }
        let ivf = try IVFIndex(dimension: base.dimension, metric: metric, parameters: IVFParameters(nlist: nlist))
        try ivf.train(base)
        try ivf.add(base, ids: ids)
        let flat = try FlatIndex(dimension: base.dimension, metric: metric)
        try flat.add(base, ids: ids)
        return (ivf, flat)
    }

    func recall(_ index: IVFIndex, _ exact: FlatIndex, queries: VectorMatrix, k: Int, nprobe: Int) throws -> Double {
        let truth = try exact.search(batch: queries, k: k)
        let found = try index.search(batch: queries, k: k, parameters: IVFSearchParameters(nprobe: nprobe))
        var hits = 0
        for q in 0..<queries.count { hits += Set(found[q].map(\.id)).intersection(truth[q].map(\.id)).count }
        return Double(hits) / Double(queries.count * k)
    }

    func expectClose(_ a: ArraySlice<Neighbor>, _ b: ArraySlice<Neighbor>, _ note: String) {
        #expect(a.map(\.id) == b.map(\.id), "\(note)")
        for (x, y) in zip(a, b) { #expect(abs(x.score - y.score) <= 1e-4 * max(1, abs(y.score)), "\(note)") }
    }

    @Test("nprobe = nlist equals flat search exactly", arguments: Metric.allCases)
    func exhaustive(metric: Metric) throws {
        // 1200 rows in 3 lists: lists longer than one 256-row scan chunk. d = 17: not a SIMD width.
        let base = randomMatrix(rows: 1200, dimension: 17, seed: 21)
        let (ivf, flat) = try pair(base, metric: metric, nlist: 3, ids: (0..<1200).map { VectorID(5 * $0 + 3) })
        let queries = randomMatrix(rows: 40, dimension: 17, seed: 22)
        for q in 0..<queries.count {
            let found = try ivf.search(queries[q], k: 10, nprobe: 3)
            let truth = try flat.search(queries[q], k: 10)
            #expect(found == truth, "query \(q), \(metric)")  // same kernel on the same rows: bit-identical
        }
        // Batches: 40 queries per list go through sgemm, 5 through the SIMD scan.
        for count in [40, 5] {
            let some = try VectorMatrix(dimension: 17, values: Array(queries.values.prefix(count * 17)))
            let found = try ivf.search(batch: some, k: 10, parameters: IVFSearchParameters(nprobe: 3))
            let truth = try flat.search(batch: some, k: 10)
            for q in 0..<count { expectClose(found[q], truth[q], "batch of \(count), query \(q), \(metric)") }
        }
    }

    @Test("recall rises with nprobe and batch results equal single-query results", arguments: Metric.allCases)
    func recallAndBatch(metric: Metric) throws {
        let data = try SyntheticData.clustered(count: 4000, queries: 60, dimension: 24, clusters: 40, seed: 5)
        let (ivf, flat) = try pair(data.base, metric: metric, nlist: 64)
        #expect(ivf.listCount == 64 && ivf.listSizes.reduce(0, +) == 4000)
        var recalls: [Double] = []
        for nprobe in [1, 4, 16, 64] {
            recalls.append(try recall(ivf, flat, queries: data.queries, k: 10, nprobe: nprobe))
            let batch = try ivf.search(batch: data.queries, k: 10, parameters: IVFSearchParameters(nprobe: nprobe))
            for q in 0..<data.queries.count {
                expectClose(batch[q], try ivf.search(data.queries[q], k: 10, nprobe: nprobe)[...], "nprobe \(nprobe), query \(q)")
            }
        }
        #expect(recalls == recalls.sorted(), "recall by nprobe: \(recalls)")
        #expect(recalls[2] >= 0.9 && recalls[3] == 1, "recall by nprobe: \(recalls)")
    }

    @Test("the default nlist is about 4·√N; training is seeded; cosine lists come from spherical k-means")
    func training() throws {
        let base = randomMatrix(rows: 2500, dimension: 8, seed: 3)
        let a = try IVFIndex(dimension: 8, metric: .cosine)
        try a.train(base)
        #expect(a.listCount == 200)
        #expect(IVFParameters.defaultListCount(for: 2500) == 200 && IVFParameters.defaultListCount(for: 3) == 3)
        for c in 0..<a.listCount {
            let row = UnsafeBufferPointer(start: a.centroids.row(c), count: 8)
            #expect(abs(row.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
        }
        let b = try IVFIndex(dimension: 8, metric: .cosine)
        try b.train(base)
        #expect(
            Array(UnsafeBufferPointer(start: a.centroids.base, count: 200 * 8))
                == Array(UnsafeBufferPointer(start: b.centroids.base, count: 200 * 8)))
        // A training sample smaller than the data still gives nlist lists.
        let sampled = try IVFIndex(dimension: 8, metric: .l2, parameters: IVFParameters(nlist: 10, trainingSize: 100))
        try sampled.train(base)
        try sampled.add(base)
        #expect(sampled.listCount == 10 && sampled.count == 2500)
    }

    @Test("adds after training land in their nearest list; removed ids never come back")
    func updates() throws {
        let data = try SyntheticData.clustered(count: 2000, queries: 30, dimension: 12, clusters: 10, seed: 4)
        let first = try VectorMatrix(dimension: 12, values: Array(data.base.values.prefix(1000 * 12)))
        let second = try VectorMatrix(dimension: 12, values: Array(data.base.values.suffix(1000 * 12)))
        let ivf = try IVFIndex(dimension: 12, metric: .l2, parameters: IVFParameters(nlist: 16))
        try ivf.train(first)
        try ivf.add(first)
        #expect(try ivf.add(second) == 1000..<2000)
        let flat = try FlatIndex(dimension: 12, metric: .l2)
        try flat.add(data.base)
        #expect(try recall(ivf, flat, queries: data.queries, k: 10, nprobe: 16) == 1)
        for row in stride(from: 1000, to: 2000, by: 97) {
            #expect(try ivf.search(data.base[row], k: 1, nprobe: 1).first?.id == VectorID(row))
        }
        // Remove every third id: searches never return them, and the rest is still exact.
        let removed = (0..<2000).filter { $0 % 3 == 0 }.map { VectorID($0) }
        #expect(ivf.remove(ids: removed + [99_999]) == removed.count)
        flat.remove(ids: removed)
        #expect(ivf.count == 2000 - removed.count && ivf.listSizes.reduce(0, +) == ivf.count)
        #expect(!ivf.contains(id: 0) && ivf.contains(id: 1) && ivf.vector(for: 1) == flat.vector(for: 1))
        let gone = Set(removed)
        let batch = try ivf.search(batch: data.queries, k: 10, parameters: IVFSearchParameters(nprobe: 16))
        let truth = try flat.search(batch: data.queries, k: 10)
        for q in 0..<data.queries.count {
            #expect(!batch[q].contains { gone.contains($0.id) })
            expectClose(batch[q], truth[q], "query \(q) after removal")
        }
        // Every stored vector is found under its id.
        for id in [1, 2, 1999].map(VectorID.init) {
            #expect(try ivf.search(ivf.vector(for: id)!, k: 1, nprobe: 16).first?.id == id)
        }
        // Removed ids may be added again.
        try ivf.add(data.base[0], id: 0)
        #expect(try ivf.search(data.base[0], k: 1, nprobe: 16).first?.id == 0)
    }

    @Test("bad parameters, untrained use and bad input give clear errors")
    func errors() throws {
        let base = randomMatrix(rows: 50, dimension: 4, seed: 1)
        let untrained = try IVFIndex(dimension: 4, metric: .l2, parameters: IVFParameters(nlist: 8))
        #expect(!untrained.isTrained && untrained.listCount == 0)
        #expect(throws: VectorSearchError.notTrained) { try untrained.add(base) }
        #expect(throws: VectorSearchError.notTrained) { try untrained.search([1, 2, 3, 4], k: 1) }
        #expect(throws: VectorSearchError.notTrained) { try untrained.search(batch: base, k: 1) }
        #expect(VectorSearchError.notTrained.description.contains("train"))
        let tooMany = try IVFIndex(dimension: 4, metric: .l2, parameters: IVFParameters(nlist: 51))
        #expect(throws: VectorSearchError.invalidArgument("IVF nlist 51 needs at least 51 training vectors, got 50")) {
            try tooMany.train(base)
        }
        let smallSample = try IVFIndex(dimension: 4, metric: .l2, parameters: IVFParameters(nlist: 8, trainingSize: 5))
        #expect(throws: VectorSearchError.invalidArgument("IVF training size 5 is smaller than nlist 8")) { try smallSample.train(base) }
        #expect(throws: VectorSearchError.invalidParameter(name: "IVF nlist", value: "0", requirement: "at least 1")) { try IVFParameters(nlist: 0) }
        #expect(throws: VectorSearchError.invalidParameter(name: "IVF nprobe", value: "0", requirement: "at least 1")) { try IVFSearchParameters(nprobe: 0) }
        #expect(throws: VectorSearchError.dimensionMismatch(expected: 4, actual: 3, row: nil)) {
            try untrained.train(randomMatrix(rows: 20, dimension: 3, seed: 1))
        }
        var withNaN = base.values
        withNaN[13] = .nan
        #expect(throws: VectorSearchError.nonFiniteValue(row: 3, column: 1)) {
            try untrained.train(VectorMatrix(dimension: 4, values: withNaN))
        }

        try untrained.train(base)
        #expect(untrained.isTrained && untrained.listCount == 8)
        #expect(try untrained.search([1, 2, 3, 4], k: 3).isEmpty)  // trained, empty
        try untrained.add(base)
        #expect(throws: VectorSearchError.invalidArgument("the IVF index holds vectors; retrain only an empty index")) {
            try untrained.train(base)
        }
        #expect(throws: VectorSearchError.duplicateID(3)) { try untrained.add(base[0], id: 3) }
        #expect(throws: VectorSearchError.dimensionMismatch(expected: 4, actual: 2, row: nil)) { try untrained.search([1, 2], k: 1) }
        #expect(throws: VectorSearchError.nonFiniteValue(row: 0, column: 1)) { try untrained.search([1, .infinity, 0, 0], k: 1) }
        #expect(try untrained.search([1, 2, 3, 4], k: 100, nprobe: 1000).count == 50)  // k > count, nprobe > nlist
        #expect(try untrained.search([1, 2, 3, 4], k: 0).isEmpty)
        let cosine = try IVFIndex(dimension: 2, metric: .cosine, parameters: IVFParameters(nlist: 1))
        try cosine.train(VectorMatrix([[1, 0], [0, 1]]))
        #expect(throws: VectorSearchError.zeroVector(row: 0)) { try cosine.add([0, 0], id: 1) }
    }

    @Test("ties are ordered by id")
    func ties() throws {
        let index = try IVFIndex(dimension: 2, metric: .l2, parameters: IVFParameters(nlist: 2))
        let base = try VectorMatrix([[1, 1], [1, 1], [1, 1], [9, 9]])
        try index.train(base)
        try index.add(base, ids: [30, 10, 20, 40])
        #expect(try index.search([1, 1], k: 3, nprobe: 2).map(\.id) == [10, 20, 30])
    }

    @Test("save and load give identical results; damaged files are refused")
    func persistence() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let data = try SyntheticData.clustered(count: 900, queries: 20, dimension: 10, clusters: 8, seed: 6)
        let index = try IVFIndex(dimension: 10, metric: .innerProduct, parameters: IVFParameters(nlist: 12, iterations: 5, seed: 9))
        try index.train(data.base)
        try index.add(data.base)
        index.remove(ids: [1, 2, 3])
        let path = directory + "/i.vsidx"
        try index.save(to: path)
        let loaded = try IVFIndex.load(from: path)
        #expect(loaded.count == index.count && loaded.parameters == index.parameters && loaded.listSizes == index.listSizes)
        for nprobe in [1, 12] {
            let parameters = try IVFSearchParameters(nprobe: nprobe)
            let a = try index.search(batch: data.queries, k: 10, parameters: parameters)
            let b = try loaded.search(batch: data.queries, k: 10, parameters: parameters)
            for q in 0..<data.queries.count { #expect(Array(a[q]) == Array(b[q])) }
        }
        // The loaded index takes adds (ids continue after the largest) and removals.
        #expect(try loaded.add(data.queries) == 900..<920)
        #expect(loaded.remove(ids: [900, 4]) == 2 && loaded.count == 915)
        guard case .ivf = try AnyIndex.load(from: path) else { Issue.record("not ivf"); return }
        #expect(throws: VectorSearchError.wrongIndexKind(path: path, expected: "flat", found: "ivf")) { try FlatIndex.load(from: path) }

        // Fewer vectors than lists (removed since training) save and load.
        let sparse = try IVFIndex(dimension: 10, metric: .l2, parameters: IVFParameters(nlist: 12))
        try sparse.train(data.base)
        try sparse.add(try VectorMatrix(dimension: 10, values: Array(data.base.values.prefix(50))), ids: [1, 2, 3, 4, 5])
        sparse.remove(ids: [1, 2, 3])
        let sparsePath = directory + "/s.vsidx"
        try sparse.save(to: sparsePath)
        let sparseLoaded = try IVFIndex.load(from: sparsePath)
        #expect(sparseLoaded.count == 2 && sparseLoaded.listCount == 12)
        #expect(try sparseLoaded.search(data.base[4], k: 5, nprobe: 12).map(\.id) == [5, 4])

        // An untrained index saves and loads as untrained.
        let emptyPath = directory + "/e.vsidx"
        try IVFIndex(dimension: 3, metric: .cosine, parameters: IVFParameters(nlist: 4)).save(to: emptyPath)
        let empty = try IVFIndex.load(from: emptyPath)
        #expect(!empty.isTrained && empty.parameters.nlist == 4 && empty.metric == .cosine)

        try expectDamagedCopiesRefused(of: path, lastSection: "IDS ") { _ = try IVFIndex.load(from: $0) }
    }

    @Test("lists whose slots do not hold together are refused even with valid checksums")
    func invalidLists() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let index = try IVFIndex(dimension: 2, metric: .l2, parameters: IVFParameters(nlist: 1))
        let base = try VectorMatrix([[0, 0], [1, 1], [2, 2]])
        try index.train(base)
        try index.add(base, ids: [1, 2, 3])
        index.lists.slots[0]![1] = 0  // slot 0 twice, slot 1 never
        let path = directory + "/bad.vsidx"
        try index.save(to: path)
        #expect(throws: VectorSearchError.corruptIndex(path: path, reason: "list slots are not a permutation of 0..<3")) {
            try IVFIndex.load(from: path)
        }
    }

    @Test("concurrent searches while a writer adds and removes")
    func concurrency() throws {
        let data = try SyntheticData.clustered(count: 600, queries: 16, dimension: 8, clusters: 6, seed: 2)
        let index = try IVFIndex(dimension: 8, metric: .l2, parameters: IVFParameters(nlist: 8))
        try index.train(data.base)
        try index.add(data.base)
        let failures = searchFailuresDuringWrites(
            index, queries: data.queries, parameters: try IVFSearchParameters(nprobe: 2), writes: 40, searches: 25)
        #expect(failures == 0)
        #expect(index.count == 620)
    }
}

/// Sketch pruning (``ListSketch``): where the data's variance lies in few directions, list
/// scans skip rows by a bound from their sketches; results must equal an unpruned scan's.
@Suite("IVF sketch pruning")
struct IVFSketchTests {
    static let dimension = 150  // sketch width 80: neither is a multiple of the bf16 kernel's 32

    /// Rows near a 12-dimensional subspace of `dimension` (off the origin), as text embeddings
    /// hold most of their variance in few directions.
    static func lowRank(rows: Int, dimension: Int = dimension, seed: UInt64) -> VectorMatrix {
        var random = SplitMix64(seed: 77)
        let mixing = (0..<(12 * dimension)).map { _ in random.nextGaussian() }
        let offset = (0..<dimension).map { _ in random.nextGaussian() }
        random = SplitMix64(seed: seed)
        var values = [Float]()
        for _ in 0..<rows {
            let latent = (0..<12).map { _ in random.nextGaussian() }
            for j in 0..<dimension {
                var v = offset[j] + 0.05 * random.nextGaussian()
                for t in 0..<12 { v += latent[t] * mixing[t * dimension + j] }
                values.append(v)
            }
        }
        return try! VectorMatrix(dimension: dimension, values: values)
    }

    /// An index over the same lists as `index`, without sketches.
    static func unpruned(like index: IVFIndex, _ base: VectorMatrix, ids: [VectorID]) throws -> IVFIndex {
        let plain = try IVFIndex(dimension: index.dimension, metric: index.metric, parameters: index.parameters)
        let centroids = try VectorMatrix(
            dimension: index.dimension, values: Array(UnsafeBufferPointer(start: index.centroids.base, count: index.listCount * index.dimension)))
        plain.install(centroids: centroids, sketch: nil)
        try plain.add(base, ids: ids)
        return plain
    }

    static func expectSameResults(_ a: IVFIndex, _ b: IVFIndex, _ queries: VectorMatrix, _ note: String) throws {
        for nprobe in [1, 3, 16] {
            for q in 0..<queries.count {
                let found = try a.search(queries[q], k: 10, nprobe: nprobe), expected = try b.search(queries[q], k: 10, nprobe: nprobe)
                #expect(found == expected, "\(note), nprobe \(nprobe), query \(q)")
            }
        }
    }

    @Test("the coarse step through centroid sketches ranks the lists exactly as the full one", arguments: Metric.allCases)
    func ranking(metric: Metric) throws {
        let base = Self.lowRank(rows: 3000, seed: 21), queries = Self.lowRank(rows: 20, seed: 22)
        let index = try IVFIndex(dimension: Self.dimension, metric: metric, parameters: IVFParameters(nlist: 40))
        try index.train(base)
        try index.add(base)
        let sketch = try #require(index.lists.sketch)
        #expect(index.centroidTerms.count == 40 && index.centroidSketches.count == 40 * sketch.width)
        var scratch = [Float](repeating: 0, count: 256), projected = [Float](repeating: 0, count: sketch.width)
        for q in 0..<queries.count {
            for nprobe in [1, 5, 17, 40] {
                var full = [Scored](repeating: Scored(id: 0, distance: 0), count: nprobe), pruned = full
                var candidates = [Scored](repeating: Scored(id: 0, distance: 0), count: 40)
                let fullCount = index.rankLists(queries[q], nprobe: nprobe, scratch: &scratch, into: &full)
                let prunedCount = projected.withUnsafeMutableBufferPointer { projected in
                    let prepared = sketch.prepare(queries[q], into: projected.baseAddress!, kernels: index.kernels)
                    return index.rankListsPruned(
                        queries[q], prepared, nprobe: nprobe, scratch: &scratch, candidates: &candidates, into: &pruned)
                }
                #expect(fullCount == nprobe && prunedCount == nprobe)
                #expect(full == pruned, "query \(q), nprobe \(nprobe), \(metric)")
            }
        }
    }

    @Test("the bound never falls below the true distance, and prunes most rows of a near query", arguments: Metric.allCases)
    func bound(metric: Metric) throws {
        let base = Self.lowRank(rows: 2000, seed: 1)
        let query = Self.lowRank(rows: 1, seed: 2)[0]
        let d = Self.dimension, kernels = DistanceKernels.best
        let sketch = try #require(base.withUnsafeBufferPointer { ListSketch.fit($0.baseAddress!, count: 2000, dimension: d, seed: 3) })
        #expect(sketch.width == 80)
        var projected = [Float](repeating: 0, count: sketch.width), stored = [UInt16](repeating: 0, count: sketch.width)
        var distances: [Float] = [], bounds: [Float] = []
        try projected.withUnsafeMutableBufferPointer { projected in
            let q = sketch.prepare(query, into: projected.baseAddress!, kernels: kernels)
            for r in 0..<base.count {
                let row = base[r]
                var rowProjection = [Float](repeating: 0, count: sketch.width)
                sketch.basis.withUnsafeBufferPointer { kernels.dotMany(row, $0.baseAddress!, sketch.width, d, &rowProjection) }
                var terms = ListSketch.Terms(error: 0, perpendicular: 0, normSquared: 0)
                sketch.store(rowProjection, of: row, into: &stored, terms: &terms, kernels: kernels)
                var dot: Float = 0
                kernels.sketchDotMany(q.projected, stored, 1, sketch.width, &dot)
                let bound = q.distanceBound(sketchDot: dot, terms, l2: metric == .l2)
                let exact = try #require(referenceSearch(base: rows([row]), ids: [0], query: query, metric: metric == .l2 ? .l2 : .innerProduct, k: 1).first)
                let distance = Float(metric == .l2 ? exact.score : -exact.score)
                #expect(bound <= distance, "row \(r): bound \(bound) above distance \(distance)")
                distances.append(distance)
                bounds.append(bound)
            }
        }
        let tenth = distances.sorted()[9]
        let kept = bounds.filter { $0 <= tenth }.count
        #expect(kept < base.count / 2, "a tenth-nearest threshold keeps \(kept) of \(base.count) rows")
    }

    @Test("data without few dominant directions, or of low dimension, gets no sketch")
    func notUsed() {
        let isotropic = randomMatrix(rows: 2000, dimension: Self.dimension, seed: 4)
        #expect(isotropic.withUnsafeBufferPointer { ListSketch.fit($0.baseAddress!, count: 2000, dimension: Self.dimension, seed: 1) } == nil)
        let narrow = Self.lowRank(rows: 2000, dimension: 100, seed: 5)
        #expect(narrow.withUnsafeBufferPointer { ListSketch.fit($0.baseAddress!, count: 2000, dimension: 100, seed: 1) } == nil)
    }

    @Test("degenerate data: exactly low rank still gets an orthonormal sketch and exact results; constant rows get none")
    func degenerate() throws {
        // Rank 12 with no noise: most of the 80 directions vanish under the covariance and are
        // replaced; the basis must still be orthonormal, so the bound stays exact.
        var random = SplitMix64(seed: 9)
        let mixing = (0..<(12 * Self.dimension)).map { _ in random.nextGaussian() }
        var values = [Float]()
        for _ in 0..<1500 {
            let latent = (0..<12).map { _ in random.nextGaussian() }
            for j in 0..<Self.dimension { values.append((0..<12).reduce(0) { $0 + latent[$1] * mixing[$1 * Self.dimension + j] }) }
        }
        let base = try VectorMatrix(dimension: Self.dimension, values: values)
        let sketch = try #require(base.withUnsafeBufferPointer { ListSketch.fit($0.baseAddress!, count: 1500, dimension: Self.dimension, seed: 1) })
        for i in 0..<sketch.width {
            for j in 0...i {
                let dot = (0..<Self.dimension).reduce(0.0) {
                    $0 + Double(sketch.basis[i * Self.dimension + $1]) * Double(sketch.basis[j * Self.dimension + $1])
                }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-5, "basis rows \(i), \(j)")
            }
        }
        let index = try IVFIndex(dimension: Self.dimension, metric: .l2, parameters: IVFParameters(nlist: 8))
        try index.train(base)
        try index.add(base)
        let plain = try Self.unpruned(like: index, base, ids: (0..<1500).map { VectorID($0) })
        let queries = try VectorMatrix(dimension: Self.dimension, values: Array(values.prefix(10 * Self.dimension)))
        try Self.expectSameResults(index, plain, queries, "rank 12")

        let constant = try VectorMatrix(dimension: Self.dimension, values: [Float](repeating: 0.5, count: 500 * Self.dimension))
        #expect(constant.withUnsafeBufferPointer { ListSketch.fit($0.baseAddress!, count: 500, dimension: Self.dimension, seed: 1) } == nil)
    }

    @Test("k larger than the probed rows: the heap never fills, every row is scored", arguments: Metric.allCases)
    func largeK(metric: Metric) throws {
        let base = Self.lowRank(rows: 1000, seed: 31), queries = Self.lowRank(rows: 5, seed: 32)
        let index = try IVFIndex(dimension: Self.dimension, metric: metric, parameters: IVFParameters(nlist: 16))
        try index.train(base)
        try index.add(base)
        #expect(index.lists.sketch != nil)
        let plain = try Self.unpruned(like: index, base, ids: (0..<1000).map { VectorID($0) })
        for q in 0..<queries.count {
            let found = try index.search(queries[q], k: 1000, nprobe: 1), expected = try plain.search(queries[q], k: 1000, nprobe: 1)
            var scratch = [Float](repeating: 0, count: 256), nearest = [Scored](repeating: Scored(id: 0, distance: 0), count: 1)
            _ = index.rankLists(queries[q], nprobe: 1, scratch: &scratch, into: &nearest)
            #expect(found == expected && found.count == index.listSizes[Int(nearest[0].id)], "every row of the probed list")
            #expect(try index.search(queries[q], k: 2000, nprobe: 16).count == 1000)
        }
    }

    @Test("pruned scans equal unpruned ones, and flat search at nprobe = nlist; after removals, adds and a reload", arguments: Metric.allCases)
    func pruning(metric: Metric) throws {
        let base = Self.lowRank(rows: 3000, seed: 11), queries = Self.lowRank(rows: 30, seed: 12)
        let ids = (0..<3000).map { VectorID(3 * $0 + 1) }
        let index = try IVFIndex(dimension: Self.dimension, metric: metric, parameters: IVFParameters(nlist: 16))
        try index.train(base)
        try index.add(base, ids: ids)
        #expect(index.lists.sketch != nil, "low-rank data gets sketches")
        let plain = try Self.unpruned(like: index, base, ids: ids)
        #expect(plain.lists.sketch == nil)
        try Self.expectSameResults(index, plain, queries, "\(metric)")
        let flat = try FlatIndex(dimension: Self.dimension, metric: metric)
        try flat.add(base, ids: ids)
        for q in 0..<queries.count { #expect(try index.search(queries[q], k: 10, nprobe: 16) == flat.search(queries[q], k: 10)) }

        // Removal moves a list's last row, sketch and all, into the gap; later adds extend lists.
        let removed = ids.enumerated().filter { $0.offset % 4 == 0 }.map(\.element)
        #expect(index.remove(ids: removed) == removed.count && plain.remove(ids: removed) == removed.count)
        let more = Self.lowRank(rows: 300, seed: 13), moreIDs = (0..<300).map { VectorID(100_000 + $0) }
        try index.add(more, ids: moreIDs)
        try plain.add(more, ids: moreIDs)
        try Self.expectSameResults(index, plain, queries, "\(metric) after removals and adds")

        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        try index.save(to: directory + "/index.vsidx")
        let loaded = try IVFIndex.load(from: directory + "/index.vsidx")
        #expect(loaded.lists.sketch != nil, "a loaded index finds its sketch basis again")
        try Self.expectSameResults(loaded, plain, queries, "\(metric) after a reload")
    }
}
