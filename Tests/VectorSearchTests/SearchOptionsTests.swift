import Foundation
import Testing
import TestSupport
@testable import VectorSearch

/// One way to configure a search: the kind-independent ``SearchOptions``, each kind's parameters
/// checked at every use, and forced filter strategies on every kind.
@Suite("Search settings")
struct SearchOptionsTests {
    static let base = randomMatrix(rows: 600, dimension: 12, seed: 71)
    static let queries = randomMatrix(rows: 20, dimension: 12, seed: 72)
    static let attributes: [Attributes] = (0..<600).map { ["n": .int(Int64($0 % 10))] }
    static let ids = (0..<600).map { VectorID($0) }

    static func indexes(metric: Metric = .l2) throws -> (flat: AnyIndex, ivf: AnyIndex, hnsw: AnyIndex) {
        let flat = try AnyIndex(kind: .flat, dimension: 12, metric: metric)
        let ivf = try AnyIndex(kind: .ivf, dimension: 12, metric: metric, ivf: IVFParameters(nlist: 16))
        let hnsw = try AnyIndex(kind: .hnsw, dimension: 12, metric: metric, hnsw: HNSWParameters(m: 8, efConstruction: 64))
        if case let .ivf(index) = ivf { try index.train(base) }
        for index in [flat, ivf] { try index.add(base, ids: ids, attributes: attributes) }
        // One thread: the same graph every run (a parallel build's depends on the interleaving,
        // and with it whether ef = N reaches every node).
        if case let .hnsw(index) = hnsw { try index.add(base, ids: ids, attributes: attributes, threads: 1, progress: nil) }
        return (flat, ivf, hnsw)
    }

    @Test("a parameter set after init is checked by the search: nprobe 0 with a filter is an error, not a hang")
    func nprobeZero() throws {
        let (_, ivf, _) = try Self.indexes()
        guard case let .ivf(index) = ivf else { return }
        var parameters = IVFSearchParameters.default
        parameters.nprobe = 0
        let expected = VectorSearchError.invalidParameter(name: "IVF nprobe", value: "0", requirement: "at least 1")
        #expect(throws: expected) { try index.search(Self.queries[0], k: 5, parameters: parameters, filter: .field("n") < 5) }
        #expect(throws: expected) { try index.search(Self.queries[0], k: 5, parameters: parameters) }
        #expect(throws: expected) { try index.search(batch: Self.queries, k: 5, parameters: parameters, filter: .field("n") < 5) }
        #expect(throws: expected) { try index.plan(filter: .field("n") < 5, parameters: parameters) }
        #expect(throws: expected) { try ivf.search(Self.queries[0], k: 5, options: SearchOptions(nprobe: 0), filter: .field("n") < 5) }
        var hnsw = HNSWSearchParameters.default
        hnsw.ef = 0
        let graph = try HNSWIndex(dimension: 12, metric: .l2)
        #expect(throws: VectorSearchError.invalidParameter(name: "HNSW ef", value: "0", requirement: "at least 1")) {
            try graph.search(Self.queries[0], k: 1, parameters: hnsw)
        }
    }

    @Test("a build parameter set after init is checked when the index is made: m = 1 is an error, not a trap")
    func hnswMOne() throws {
        var parameters = HNSWParameters.default
        parameters.m = 1
        let expected = VectorSearchError.invalidParameter(name: "HNSW m", value: "1", requirement: "between 2 and 256")
        #expect(throws: expected) { try HNSWIndex(dimension: 4, metric: .l2, parameters: parameters) }
        #expect(throws: expected) { try AnyIndex(kind: .hnsw, dimension: 4, metric: .l2, hnsw: parameters) }
        var ivf = IVFParameters.default
        ivf.iterations = 0
        #expect(throws: VectorSearchError.invalidParameter(name: "IVF iterations", value: "0", requirement: "at least 1")) {
            try IVFIndex(dimension: 4, metric: .l2, parameters: ivf)
        }
    }

    @Test("SearchOptions reach each kind: nprobe = nlist and a large ef equal flat search; single equals batch")
    func optionsReachEveryKind() throws {
        let (flat, ivf, hnsw) = try Self.indexes()
        let exhaustive = SearchOptions(ef: 600, nprobe: 16)
        let truth = try flat.search(batch: Self.queries, k: 10)
        for (name, index) in [("ivf", ivf), ("hnsw", hnsw)] {
            let batch = try index.search(batch: Self.queries, k: 10, options: exhaustive)
            for q in 0..<Self.queries.count {
                #expect(batch[q].map(\.id) == truth[q].map(\.id), "\(name) query \(q)")
                #expect(try index.search(Self.queries[q], k: 10, options: exhaustive).map(\.id) == Array(batch[q].map(\.id)))
            }
        }
        // The defaults (nprobe 8 of 16 lists) give a different, approximate answer on some query.
        let approximate = try ivf.search(batch: Self.queries, k: 10, options: SearchOptions(nprobe: 1))
        #expect((0..<Self.queries.count).contains { approximate[$0].map(\.id) != truth[$0].map(\.id) })
    }

    @Test("a forced filter strategy is honoured by every kind and gives the exact filtered answer where it is exact")
    func forcedStrategy() throws {
        let (flat, ivf, hnsw) = try Self.indexes()
        let filter = Filter.field("n") < 5  // 300 of 600 match: on so few the planner scans them exactly
        let truth = try flat.search(batch: Self.queries, k: 10, filter: filter)
        #expect(try flat.plan(filter: filter, options: SearchOptions(filterStrategy: .index)).strategy == .exact)
        for (name, index) in [("ivf", ivf), ("hnsw", hnsw)] {
            #expect(try index.plan(filter: filter).strategy == .exact, "\(name)")
            for strategy in [FilterPlan.Strategy.exact, .index] {
                let options = SearchOptions(filterStrategy: strategy)
                #expect(try index.plan(filter: filter, options: options).strategy == strategy, "\(name) \(strategy)")
                let found = try index.search(batch: Self.queries, k: 10, options: options, filter: filter)
                for q in 0..<Self.queries.count {
                    #expect(found[q].allSatisfy { $0.id % 10 < 5 }, "\(name) \(strategy)")
                    if strategy == .exact { #expect(found[q].map(\.id) == truth[q].map(\.id), "\(name) exact, query \(q)") }
                }
            }
        }
        #expect(throws: VectorSearchError.self) { try ivf.search(Self.queries[0], k: 1, options: SearchOptions(filterStrategy: .unfiltered)) }
    }

    @Test("automatic ids continue after the largest id, also after a reload, and refuse to wrap")
    func automaticIDs() throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        let hnsw = try HNSWIndex(dimension: 2, metric: .l2)
        try hnsw.add(VectorMatrix([[1, 0]]), ids: [41])
        #expect(try hnsw.add(VectorMatrix([[0, 1], [1, 1]])) == 42..<44)
        hnsw.remove(ids: [43])
        try hnsw.save(to: dir + "/h.vsidx")
        #expect(try HNSWIndex.load(from: dir + "/h.vsidx").add(VectorMatrix([[2, 2]])) == 44..<45)
        let flat = try FlatIndex(dimension: 2, metric: .l2)
        try flat.add(VectorMatrix([[1, 0]]), ids: [.max - 1])
        #expect(try flat.add(VectorMatrix(dimension: 2)) == (.max)..<(.max))
        #expect(throws: VectorSearchError.self) { try flat.add(VectorMatrix([[0, 1]])) }
        #expect(flat.count == 1)
    }
}
