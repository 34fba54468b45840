import Dispatch
import Testing
import TestSupport
@testable import VectorSearch

@Suite("FlatIndex")
struct FlatIndexTests {
    /// Checks results against the brute-force reference: same ids in the same order, scores close.
    func expectMatchesReference(
        _ got: some Collection<Neighbor>, base: VectorMatrix, ids: [VectorID], query: [Float], metric: Metric, k: Int,
        _ context: String
    ) {
        let expected = referenceSearch(base: base, ids: ids, query: query, metric: metric, k: k)
        #expect(got.map(\.id) == expected.map(\.id), "\(context)")
        for (g, e) in zip(got, expected) {
            #expect(abs(Double(g.score) - e.score) <= 1e-4 * max(1, abs(e.score)), "\(context): score \(g.score) vs \(e.score)")
        }
    }

    @Test("single and batch search equal brute force", arguments: Metric.allCases, [3, 16, 17, 100])
    func bruteForce(metric: Metric, dimension: Int) throws {
        let base = randomMatrix(rows: 300, dimension: dimension, seed: UInt64(dimension))
        let queries = randomMatrix(rows: 20, dimension: dimension, seed: 1000 + UInt64(dimension))  // ≥ 16: BLAS path
        let ids = (0..<300).map { VectorID($0 * 7 + 3) }
        let index = try FlatIndex(dimension: dimension, metric: metric)
        try index.add(base, ids: ids)
        #expect(index.count == 300)
        let batch = try index.search(batch: queries, k: 10)
        let fewQueries = try VectorMatrix(dimension: dimension, values: Array(queries.values.prefix(3 * dimension)))
        let smallBatch = try index.search(batch: fewQueries, k: 10)  // < 16: SIMD path
        for q in 0..<queries.count {
            let single = try index.search(queries[q], k: 10)
            expectMatchesReference(single, base: base, ids: ids, query: queries[q], metric: metric, k: 10, "single q\(q)")
            expectMatchesReference(batch[q], base: base, ids: ids, query: queries[q], metric: metric, k: 10, "batch q\(q)")
            #expect(batch[q].map(\.id) == single.map(\.id))
            if q < 3 { #expect(Array(smallBatch[q]) == single) }
        }
    }

    @Test("batch results do not depend on the thread count")
    func threadCounts() throws {
        let base = randomMatrix(rows: 5000, dimension: 24, seed: 5)
        let queries = randomMatrix(rows: 100, dimension: 24, seed: 6)
        let index = try FlatIndex(dimension: 24, metric: .l2)
        try index.add(base)
        let one = try index.search(batch: queries, k: 5, threads: 1)
        let two = try index.search(batch: queries, k: 5, threads: 2)
        let many = try index.search(batch: queries, k: 5, threads: 7)
        for q in 0..<queries.count {
            #expect(one[q].map(\.id) == two[q].map(\.id))
            #expect(one[q].map(\.id) == many[q].map(\.id))
        }
    }

    @Test("equal distances are ordered by smaller id, whatever the insertion order")
    func ties() throws {
        let index = try FlatIndex(dimension: 2, metric: .l2)
        try index.add(VectorMatrix([[1, 0], [1, 0], [1, 0], [5, 5]]), ids: [30, 10, 20, 1])
        #expect(try index.search([1, 0], k: 3).map(\.id) == [10, 20, 30])
        let batch = try index.search(
            batch: VectorMatrix(dimension: 2, values: [Float](repeating: 1, count: 40).enumerated().map { $0.offset % 2 == 0 ? 1 : 0 }), k: 3)
        #expect(batch.allSatisfy { $0.map(\.id) == [10, 20, 30] })
    }

    @Test("empty index, k = 0 and k larger than the count")
    func edgeCases() throws {
        let index = try FlatIndex(dimension: 4, metric: .cosine)
        #expect(try index.search([1, 2, 3, 4], k: 5).isEmpty)
        #expect(try index.search(batch: VectorMatrix([[1, 2, 3, 4]]), k: 5)[0].isEmpty)
        try index.add(VectorMatrix([[1, 0, 0, 0], [0, 1, 0, 0]]), ids: [1, 2])
        #expect(try index.search([1, 0, 0, 0], k: 0).isEmpty)
        let all = try index.search([1, 0, 0, 0], k: 10)
        #expect(all.map(\.id) == [1, 2])
        #expect(abs(all[0].score - 1) < 1e-6)
        let batch = try index.search(batch: randomMatrix(rows: 20, dimension: 4, seed: 1), k: 10)
        #expect(batch.count == 20 && batch.allSatisfy { $0.count == 2 })
        #expect(try index.search(batch: VectorMatrix(dimension: 4), k: 3).isEmpty)
    }

    @Test("bad input is refused with a clear error and changes nothing")
    func badInput() throws {
        let index = try FlatIndex(dimension: 3, metric: .cosine)
        try index.add(VectorMatrix([[1, 2, 3]]), ids: [1])
        #expect(throws: VectorSearchError.dimensionMismatch(expected: 3, actual: 2, row: nil)) {
            try index.add(VectorMatrix([[1, 2]]), ids: [2])
        }
        #expect(throws: VectorSearchError.nonFiniteValue(row: 1, column: 2)) {
            try index.add(VectorMatrix([[1, 1, 1], [1, 1, .nan]]), ids: [2, 3])
        }
        #expect(throws: VectorSearchError.nonFiniteValue(row: 0, column: 0)) {
            try index.add(VectorMatrix([[.infinity, 1, 1]]), ids: [2])
        }
        #expect(throws: VectorSearchError.duplicateID(1)) { try index.add(VectorMatrix([[1, 1, 1]]), ids: [1]) }
        #expect(throws: VectorSearchError.duplicateID(5)) { try index.add(VectorMatrix([[1, 1, 1], [2, 2, 2]]), ids: [5, 5]) }
        #expect(throws: VectorSearchError.zeroVector(row: 0)) { try index.add(VectorMatrix([[0, 0, 0]]), ids: [9]) }
        #expect(throws: VectorSearchError.invalidArgument("1 vectors but 2 ids")) { try index.add(VectorMatrix([[1, 1, 1]]), ids: [7, 8]) }
        #expect(index.count == 1, "a refused batch adds nothing")
        #expect(throws: VectorSearchError.dimensionMismatch(expected: 3, actual: 4, row: nil)) { try index.search([1, 2, 3, 4], k: 1) }
        #expect(throws: VectorSearchError.nonFiniteValue(row: 0, column: 1)) { try index.search([1, .nan, 3], k: 1) }
        #expect(throws: VectorSearchError.zeroVector(row: nil)) { try index.search([0, 0, 0], k: 1) }
        #expect(throws: VectorSearchError.invalidParameter(name: "k", value: "-1", requirement: "at least 0")) { try index.search([1, 2, 3], k: -1) }
        #expect(throws: VectorSearchError.nonFiniteValue(row: 1, column: 0)) {
            try index.search(batch: VectorMatrix([[1, 2, 3], [.nan, 1, 1]]), k: 1)
        }
        #expect(throws: VectorSearchError.invalidParameter(name: "threads", value: "0", requirement: "between 1 and 4096")) {
            try index.search(batch: VectorMatrix([[1, 2, 3]]), k: 1, threads: 0)
        }
        #expect(throws: VectorSearchError.invalidParameter(name: "dimension", value: "0", requirement: "between 1 and 1048576")) {
            try FlatIndex(dimension: 0, metric: .l2)
        }
    }

    @Test("removal: removed ids never come back, others stay findable, ids can be reused")
    func removal() throws {
        let base = randomMatrix(rows: 200, dimension: 9, seed: 3)
        let index = try FlatIndex(dimension: 9, metric: .l2)
        try index.add(base)
        let removedIDs = Set((0..<200).filter { $0 % 3 == 0 }.map(VectorID.init))
        #expect(index.remove(ids: Array(removedIDs) + [9999]) == removedIDs.count)
        #expect(index.count == 200 - removedIDs.count)
        let keptRows = (0..<200).filter { !removedIDs.contains(VectorID($0)) }
        let keptBase = try VectorMatrix(dimension: 9, values: keptRows.flatMap { base[$0] })
        let queries = randomMatrix(rows: 20, dimension: 9, seed: 4)
        let batch = try index.search(batch: queries, k: 15)
        for q in 0..<queries.count {
            let single = try index.search(queries[q], k: 15)
            #expect(single.allSatisfy { !removedIDs.contains($0.id) })
            let expected = referenceSearch(base: keptBase, ids: keptRows.map(VectorID.init), query: queries[q], metric: .l2, k: 15)
            #expect(single.map(\.id) == expected.map(\.id))
            #expect(batch[q].map(\.id) == expected.map(\.id))
        }
        for row in keptRows { #expect(try index.search(base[row], k: 1).first?.id == VectorID(row)) }
        // A removed id may be added again; its new vector is what is found.
        try index.add([100, 100, 100, 100, 100, 100, 100, 100, 100], id: 0)
        #expect(try index.search([100, 100, 100, 100, 100, 100, 100, 100, 100], k: 1).first?.id == 0)
        #expect(index.vector(for: 0) == [Float](repeating: 100, count: 9))
        #expect(index.vector(for: 3) == nil)
    }

    @Test("a store past the huge-page threshold keeps its rows through growth")
    func largeStore() throws {
        let store = VectorStore(dimension: 64)
        // 3 MB, 6 MB, 12 MB: both allocation paths, and growth by copy and (past 4 MB) by realloc.
        let rows = randomMatrix(rows: 12_000, dimension: 64, seed: 31)
        for _ in 0..<3 {
            rows.withUnsafeBufferPointer { _ = store.append($0.baseAddress!, rows: 12_000) }
            #expect(Int(bitPattern: store.base) % 64 == 0)
        }
        #expect(store.count == 36_000)
        for slot in [0, 11_999, 12_000, 23_999, 24_000, 35_999] {
            #expect(Array(UnsafeBufferPointer(start: store.row(slot), count: 64)) == rows[slot % 12_000])
        }
    }

    @Test("add without ids numbers rows after the largest id")
    func sequentialIDs() throws {
        let index = try FlatIndex(dimension: 2, metric: .innerProduct)
        #expect(try index.add(VectorMatrix([[1, 0], [0, 1]])) == 0..<2)
        try index.add(VectorMatrix([[1, 1]]), ids: [10])
        #expect(try index.add(VectorMatrix([[2, 2]])) == 11..<12)
        #expect(index.ids == [0, 1, 10, 11])
    }

    @Test("save and load give identical results; the file is replaced atomically")
    func persistence() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        for metric in Metric.allCases {
            let base = randomMatrix(rows: 150, dimension: 17, seed: 11)
            let index = try FlatIndex(dimension: 17, metric: metric)
            try index.add(base, ids: (0..<150).map { VectorID($0) * 1_000_000_007 })
            index.remove(ids: [0, 5_000_000_035])
            let path = directory + "/index-\(metric.rawValue).vsidx"
            try index.save(to: path)
            try index.save(to: path)  // overwrite
            let loaded = try FlatIndex.load(from: path)
            #expect(loaded.count == index.count && loaded.metric == metric && loaded.dimension == 17)
            #expect(loaded.ids == index.ids)
            let queries = randomMatrix(rows: 20, dimension: 17, seed: 12)
            let before = try index.search(batch: queries, k: 10), after = try loaded.search(batch: queries, k: 10)
            for q in 0..<queries.count {
                #expect(Array(before[q]) == Array(after[q]))
                #expect(try index.search(queries[q], k: 10) == loaded.search(queries[q], k: 10))
            }
            guard case .flat(let any) = try AnyIndex.load(from: path) else { Issue.record("not flat"); return }
            #expect(any.count == index.count)
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("concurrent searches while a writer adds and removes")
    func concurrency() throws {
        let index = try FlatIndex(dimension: 8, metric: .l2)
        try index.add(randomMatrix(rows: 500, dimension: 8, seed: 1))
        let queries = randomMatrix(rows: 16, dimension: 8, seed: 2)
        let failures = searchFailuresDuringWrites(index, queries: queries, parameters: FlatSearchParameters(), writes: 50, searches: 30)
        #expect(failures == 0)
        #expect(index.count == 525)
    }
}

import Foundation
