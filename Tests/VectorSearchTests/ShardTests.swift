import Foundation
import Testing
import TestSupport

@testable import VectorSearch

/// Splitting an index: the rows each shard holds, the manifest that names a build, and the
/// merge of per-shard results, against brute force over the whole.
@Suite("Shards")
struct ShardTests {
    @Test("shard row ranges cover every row once, as evenly as integers allow")
    func rowRanges() {
        for count in [1, 2, 7, 10, 1000, 1001] {
            for shards in 1...min(count, 12) {
                let ranges = (0..<shards).map { ShardManifest.rows(shard: $0, of: shards, count: count) }
                #expect(ranges.first?.first == 0 && ranges.last?.end == count)
                #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.end == $1.first })
                let sizes = ranges.map { $0.end - $0.first }
                #expect(sizes.max()! - sizes.min()! <= 1, "\(count) rows in \(shards)")
            }
        }
        #expect(ShardManifest.fingerprintRows(count: 0).isEmpty)
        #expect(ShardManifest.fingerprintRows(count: 1) == [0])
        let rows = ShardManifest.fingerprintRows(count: 1000)
        #expect(rows.count == 64 && rows.first == 0 && rows.last == 999 && rows == rows.sorted())
    }

    @Test("merged per-shard top k equals the top k of the whole, for each metric, with ties to the smaller id")
    func mergeMatchesBruteForce() {
        var random = SplitMix64(seed: 7)
        for metric in [Metric.l2, .innerProduct, .cosine] {
            for trial in 0..<50 {
                // Scores drawn from few values, so ties are common.
                let all = (0..<Int(random.next() % 60)).map { Neighbor(id: VectorID($0), score: Float(Int(random.next() % 7)) / 2) }
                let shards = Int(random.next() % 4) + 1
                let k = Int(random.next() % 15)
                let better: (Neighbor, Neighbor) -> Bool = { a, b in
                    a.score != b.score ? (metric.higherIsCloser ? a.score > b.score : a.score < b.score) : a.id < b.id
                }
                let lists = (0..<shards).map { shard in
                    Array(all.filter { Int($0.id) % shards == shard }.sorted(by: better).prefix(k))
                }
                let expected = Array(all.sorted(by: better).prefix(k))
                #expect(Neighbor.merge(lists, k: k, metric: metric) == expected, "\(metric) trial \(trial)")
            }
        }
        // An id given by two lists is kept once, with its best score; k beyond the total and empty lists are fine.
        let merged = Neighbor.merge([[Neighbor(id: 3, score: 0.5)], [], [Neighbor(id: 3, score: 0.2), Neighbor(id: 1, score: 0.9)]], k: 5, metric: .l2)
        #expect(merged == [Neighbor(id: 3, score: 0.2), Neighbor(id: 1, score: 0.9)])
        #expect(Neighbor.merge([[Neighbor(id: 1, score: 1)]], k: 0, metric: .l2).isEmpty)
    }

    static func manifest(_ shard: Int, of shards: Int, fingerprint: String = "ab", parameters: String = "m=16") throws -> ShardManifest {
        try ShardManifest(
            shard: shard, of: shards, dataset: .init(file: "base.fvecs", rows: 100, dimension: 8, fingerprint: fingerprint),
            kind: .hnsw, metric: .l2, parameters: parameters)
    }

    @Test("a manifest names its build; shards of other builds, or a shard twice, are told apart; files round-trip")
    func manifests() throws {
        let a0 = try Self.manifest(0, of: 3), a1 = try Self.manifest(1, of: 3)
        #expect(a0.build == a1.build && a0.first == 0 && a0.end == 33 && a1.first == 33 && a1.end == 66)
        #expect(a0.incompatibility(with: a1) == nil)
        #expect(a0.incompatibility(with: a0)?.contains("given twice") == true)
        for other in [try Self.manifest(1, of: 3, fingerprint: "cd"), try Self.manifest(1, of: 3, parameters: "m=32"), try Self.manifest(1, of: 4)] {
            #expect(a0.incompatibility(with: other)?.contains("build") == true)
        }
        #expect(throws: VectorSearchError.self) { try Self.manifest(3, of: 3) }
        #expect(throws: VectorSearchError.self) { try Self.manifest(0, of: 0) }
        #expect(throws: VectorSearchError.self) { try Self.manifest(0, of: 101) }

        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        #expect(try ShardManifest.read(besideIndex: dir + "/none.vsidx") == nil)
        try a1.write(besideIndex: dir + "/s.vsidx")
        #expect(try ShardManifest.read(besideIndex: dir + "/s.vsidx") == a1)
        for damaged in ["{", "[]", #"{"shard": 5, "shards": 2}"#] {
            try Data(damaged.utf8).write(to: URL(fileURLWithPath: dir + "/bad.vsidx.shard.json"))
            #expect(throws: VectorSearchError.self) { try ShardManifest.read(besideIndex: dir + "/bad.vsidx") }
        }
    }
}
