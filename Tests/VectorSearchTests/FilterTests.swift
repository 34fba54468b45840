import Foundation
import Testing
import TestSupport
@testable import VectorSearch

/// Metadata for `n` rows: a keyword, an integer, a number (some given as integers), a bool and
/// tags, each missing now and then; `row` is unique.
func sampleAttributes(_ n: Int, seed: UInt64) -> [Attributes] {
    var random = SplitMix64(seed: seed)
    func pick(_ m: Int) -> Int { Int(random.next() % UInt64(m)) }
    return (0..<n).map { row in
        var a: Attributes = ["row": .int(Int64(row))]
        if pick(10) > 0 { a["lang"] = .string(["en", "de", "fr", "ja"][pick(4)]) }
        if pick(10) > 0 { a["year"] = .int(Int64(2000 + pick(26))) }
        if pick(10) > 0 { a["score"] = pick(5) == 0 ? .int(Int64(pick(2))) : .double(Double(pick(1000)) / 1000) }
        if pick(10) > 0 { a["ok"] = .bool(pick(2) == 0) }
        if pick(10) > 0 { a["tags"] = .strings(["a", "b", "c", "d"].filter { _ in pick(3) == 0 }) }
        return a
    }
}

/// Equal attributes, where a number stored in a field that also holds fractions comes back as
/// a Double.
func sameAttributes(_ a: Attributes, _ b: Attributes) -> Bool {
    a.keys.sorted() == b.keys.sorted()
        && a.allSatisfy { key, value in
            if let x = value.numeric, let y = b[key]?.numeric { return x == y }
            return value == b[key]
        }
}

/// Filters that use every operator, alone and combined. (A function, not a global: pointers that
/// Swift packs into enum payloads hide a global's boxes from LeakSanitizer, which then reports them.)
func sampleFilters() -> [Filter] {
    [
        .equals("lang", "en"), .notEquals("lang", "en"), .in("lang", ["en", "ja"]), .notIn("lang", ["en", "ja"]),
        .in("lang", []), .contains("lang", "de"),
        .equals("year", 2010), .notEquals("year", 2010), .lessThan("year", 2010), .lessThanOrEqual("year", 2010),
        .greaterThan("year", 2010), .greaterThanOrEqual("year", 2010), .lessThan("year", 2010.5), .equals("year", 2010.5),
        .in("year", [2001, 2002, 2024]), .notIn("year", [2001]),
        .greaterThan("score", 0.5), .lessThanOrEqual("score", 1), .equals("score", 1), .equals("score", 0),
        .equals("ok", true), .notEquals("ok", true), .equals("ok", false),
        .contains("tags", "b"), .equals("tags", "b"), .in("tags", ["a", "d"]), .notIn("tags", ["a"]), .contains("tags", "zz"),
        .exists("year"), .not(.exists("lang")), .exists("tags"),
        .field("year") >= 2020 && .field("lang") == "en", .field("year") < 2003 || .field("ok") == true,
        !(.field("score") > 0.25 && .field("tags").contains("c")), .all, .or([]), .equals("row", 777), .equals("lang", "xx"),
    ]
}

@Suite("Metadata filters")
struct FilterTests {
    @Test("the scalar evaluation on hand-picked cases")
    func scalarEvaluation() {
        let a: Attributes = ["lang": "en", "year": 2021, "score": 0.5, "ok": false, "tags": ["swift", "linux"]]
        let holds: [Filter] = [
            .equals("lang", "en"), .equals("year", 2021.0), .equals("score", 0.5), .equals("ok", false),
            .equals("tags", "swift"), .contains("tags", "linux"), .notEquals("lang", "de"), .notEquals("missing", 1),
            .lessThan("year", 2022), .lessThanOrEqual("year", 2021), .greaterThan("score", 0.25), .greaterThanOrEqual("score", 0.5),
            .in("lang", ["de", "en"]), .in("tags", ["go", "linux"]), .notIn("lang", ["de"]), .notIn("missing", ["x"]),
            .exists("ok"), .not(.exists("missing")), .all, .field("year") > 2020 && .field("lang") == "en",
        ]
        let fails: [Filter] = [
            .equals("lang", "de"), .equals("year", 2020), .equals("ok", true), .equals("year", "2021"), .equals("ok", 0),
            .equals("missing", 1), .contains("tags", "go"), .notEquals("lang", "en"), .lessThan("year", 2021),
            .greaterThan("lang", 1), .lessThan("missing", 5), .in("lang", []), .notIn("tags", ["swift"]),
            .exists("missing"), .or([]), .field("year") > 2021 || .field("lang") == "fr",
        ]
        for filter in holds { #expect(filter.matches(a), "\(filter)") }
        for filter in fails { #expect(!filter.matches(a), "\(filter)") }
    }

    @Test("every operator's bitset equals the scalar evaluation, also after removals")
    func operators() throws {
        let n = 1500
        let attributes = sampleAttributes(n, seed: 7)
        let index = try FlatIndex(dimension: 3, metric: .l2)
        try index.add(randomMatrix(rows: n, dimension: 3, seed: 8), ids: (0..<n).map(VectorID.init), attributes: attributes)
        func check(_ note: String) throws {
            let ids = index.ids
            for filter in sampleFilters() {
                let bits = try index.attributeStore.matching(filter, live: { nil })
                let expected = ids.indices.filter { filter.matches(attributes[Int(ids[$0])]) }
                let found = ids.indices.filter { bits.contains($0) }
                #expect(found == expected, "\(note): \(filter.json)")
                #expect(bits.matchCount == expected.count)
                #expect(try index.plan(filter: filter, parameters: .init()).matchCount == expected.count)
            }
        }
        try check("fresh")
        index.remove(ids: (0..<VectorID(n)).filter { $0 % 3 == 0 })  // slots move: attributes must follow
        try check("after removals")
        for id: VectorID in [1, 2, 500, 1499] { #expect(sameAttributes(index.attributes(for: id)!, attributes[Int(id)])) }
        #expect(index.attributes(for: 3) == nil)
    }

    @Test("the JSON form parses to the same filters and round-trips")
    func json() throws {
        #expect(try Filter(json: #"{"section": "python"}"#) == .equals("section", "python"))
        #expect(try Filter(json: #"{"year": {"$gte": 2020}}"#) == .greaterThanOrEqual("year", 2020))
        #expect(
            try Filter(json: #"{"year": {"$gte": 2020, "$lt": 2024.5}}"#)
                == .and([.greaterThanOrEqual("year", 2020), .lessThan("year", 2024.5)]))
        #expect(
            try Filter(json: #"{"$and": [{"a": 1}, {"$or": [{"b": true}, {"c": {"$ne": "x"}}]}]}"#)
                == .and([.equals("a", 1), .or([.equals("b", true), .notEquals("c", "x")])]))
        #expect(
            try Filter(json: #"{"a": {"$in": ["x", "y"]}, "b": {"$nin": [1, 2]}}"#)
                == .and([.in("a", ["x", "y"]), .notIn("b", [1, 2])]))
        #expect(
            try Filter(json: #"{"t": {"$contains": "x"}, "u": {"$exists": false}, "$not": {"v": {"$lte": -1e3}}}"#)
                == .and([.contains("t", "x"), .not(.exists("u")), .not(.lessThanOrEqual("v", -1000.0))]))
        #expect(try Filter(json: "{}") == .all)
        for filter in sampleFilters() {
            #expect(try Filter(json: filter.json) == filter, "\(filter.json)")
        }
    }

    @Test("declared fields with no values are known to filters and survive save and load", arguments: IndexKind.allCases)
    func declaredFields(kind: IndexKind) throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        let index = try AnyIndex(kind: kind, dimension: 3, metric: .l2, ivf: IVFParameters(nlist: 1))
        if case let .ivf(ivf) = index { try ivf.train(VectorMatrix([[0, 0, 0], [1, 1, 1]])) }
        try index.add(VectorMatrix([[0, 0, 1], [0, 1, 0]]), ids: [1, 2], attributes: [["year": 2020], [:]])
        index.declareFields(["lang": .keyword, "tags": .tags, "ok": .bool, "score": .float, "year": .integer])
        #expect(try index.search([0, 0, 1], k: 2, filter: .field("lang") == "en").isEmpty)
        #expect(try index.search([0, 0, 1], k: 2, filter: .not(.exists("tags"))).count == 2)
        try index.save(to: dir + "/i.vsidx")
        let loaded = try AnyIndex.load(from: dir + "/i.vsidx")
        #expect(try loaded.search([0, 0, 1], k: 2, filter: .field("lang") == "en" || .field("ok") == true).isEmpty)
        #expect(try loaded.search([0, 0, 1], k: 2, filter: .field("year") == 2020).map(\.id) == [1])
        #expect(loaded.attributes(for: 1) == ["year": 2020] && loaded.attributes(for: 2) == [:])
    }

    @Test("bad filters name the part that is wrong")
    func errors() throws {
        func message(_ body: () throws -> Void) -> String {
            do {
                try body()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(message { _ = try Filter(json: #"{"year": {"$gte": 20"#) }.contains("not valid JSON"))
        #expect(message { _ = try Filter(json: #"{"year": {"$gte": "abc"}}"#) }.contains("'$gte' on field 'year' needs a number"))
        #expect(message { _ = try Filter(json: #"{"year": {"$near": 3}}"#) }.contains("unknown operator '$near' on field 'year'"))
        #expect(message { _ = try Filter(json: #"{"$nor": []}"#) }.contains("unknown operator '$nor'"))
        #expect(message { _ = try Filter(json: #"{"$and": {"a": 1}}"#) }.contains("'$and' in filter needs an array"))
        #expect(message { _ = try Filter(json: #"[1]"#) }.contains("must be a JSON object"))
        #expect(message { _ = try Filter(json: #"{"a": {"$in": 3}}"#) }.contains("'$in' on field 'a' needs an array"))

        let index = try FlatIndex(dimension: 2, metric: .l2)
        try index.add(rows([[1, 0], [0, 1]]), ids: [1, 2], attributes: [["year": 2020, "lang": "en"], ["year": 2021]])
        let unknown = message { _ = try index.search([1, 0], k: 1, filter: .equals("yaer", 2020)) }
        #expect(unknown.contains("unknown field 'yaer'") && unknown.contains("lang, year"))
        #expect(
            message { _ = try index.search([1, 0], k: 1, filter: .equals("year", "abc")) }
                .contains("'$eq' on field 'year': the field holds integers, the filter gives a keyword \"abc\""))
        #expect(
            message { _ = try index.search([1, 0], k: 1, filter: .greaterThan("lang", 3)) }
                .contains("'$gt' on field 'lang' compares numbers"))

        // A value of another type than its field holds: nothing is added.
        #expect(
            message { try index.add(rows([[1, 1], [2, 2]]), ids: [3, 4], attributes: [["year": 1], ["year": "x"]]) }
                .contains("row 1: field 'year' holds integers, this row gives a keyword \"x\""))
        #expect(message { try index.add(rows([[1, 1]]), ids: [3], attributes: [[:], [:]]) }.contains("1 vectors but 2 attribute sets"))
        #expect(message { try index.add([1, 1], id: 3, attributes: ["$x": 1]) }.contains("starts with '$'"))
        #expect(message { try index.add([1, 1], id: 3, attributes: ["s": .double(.nan)]) }.contains("not a finite number"))
        #expect(index.count == 2)
        // Integers then numbers: the field widens.
        try index.add([1, 1], id: 5, attributes: ["year": 2020.5])
        #expect(try index.search([1, 0], k: 3, filter: .greaterThan("year", 2020.25)).map(\.id).sorted() == [2, 5])
    }

    /// Brute-force filtered search: the reference for every index.
    func filteredReference(
        base: VectorMatrix, attributes: [Attributes], query: [Float], metric: Metric, filter: Filter, k: Int
    ) -> [VectorID] {
        let rowsKept = (0..<base.count).filter { filter.matches(attributes[$0]) }
        guard !rowsKept.isEmpty else { return [] }
        let kept = try! VectorMatrix(dimension: base.dimension, values: rowsKept.flatMap { base[$0] })
        return referenceSearch(base: kept, ids: rowsKept.map(VectorID.init), query: query, metric: metric, k: k).map(\.id)
    }

    /// Selectivities from all to one match and none, on one data set.
    let selective: [Filter] = [
        .all, .equals("ok", true), .lessThan("year", 2003), .equals("lang", "ja") && .lessThan("year", 2001),
        .equals("row", 777), .equals("lang", "xx"),
    ]

    @Test("filtered flat and IVF search equal brute force; IVF probes further until k match", arguments: Metric.allCases)
    func flatAndIVF(metric: Metric) throws {
        let n = 2000, k = 10
        let base = randomMatrix(rows: n, dimension: 19, seed: 31)
        let attributes = sampleAttributes(n, seed: 32)
        let ids = (0..<n).map(VectorID.init)
        let flat = try FlatIndex(dimension: 19, metric: metric)
        try flat.add(base, ids: ids, attributes: attributes)
        let ivf = try IVFIndex(dimension: 19, metric: metric, parameters: IVFParameters(nlist: 20))
        try ivf.train(base)
        try ivf.add(base, ids: ids, attributes: attributes)
        let queries = randomMatrix(rows: 12, dimension: 19, seed: 33)
        for filter in selective {
            let flatBatch = try flat.search(batch: queries, k: k, filter: filter)
            let ivfBatch = try ivf.search(batch: queries, k: k, parameters: IVFSearchParameters(nprobe: 1), filter: filter)
            for q in 0..<queries.count {
                let truth = filteredReference(base: base, attributes: attributes, query: queries[q], metric: metric, filter: filter, k: k)
                #expect(try flat.search(queries[q], k: k, filter: filter).map(\.id) == truth, "flat \(filter.json)")
                #expect(flatBatch[q].map(\.id) == truth)
                // Every list scanned: exact. One list: still k results when k match.
                #expect(try ivf.search(queries[q], k: k, nprobe: 20, filter: filter).map(\.id) == truth, "ivf \(filter.json)")
                let probed = try ivf.search(queries[q], k: k, nprobe: 1, filter: filter)
                #expect(probed.count == truth.count, "ivf nprobe 1 \(filter.json)")
                #expect(Set(probed.map(\.id)).count == probed.count, "no list scanned twice")
                #expect(probed.allSatisfy { filter.matches(attributes[Int($0.id)]) })
                #expect(Array(ivfBatch[q]).map(\.id) == probed.map(\.id))
            }
        }
        #expect(try ivf.plan(filter: .equals("row", 777), parameters: IVFSearchParameters(nprobe: 1)).strategy == .exact)
        #expect(try ivf.plan(filter: .equals("ok", true), parameters: IVFSearchParameters(nprobe: 1)).strategy == .index)
        #expect(try ivf.plan(filter: .all, parameters: IVFSearchParameters(nprobe: 1)).strategy == .unfiltered)
    }

    @Test("filtered HNSW: k results whenever k match, high recall at every selectivity, removed nodes never return")
    func hnsw() throws {
        let n = 3000, k = 10
        let base = randomMatrix(rows: n, dimension: 23, seed: 41)
        let attributes = sampleAttributes(n, seed: 42)
        let index = try HNSWIndex(dimension: 23, metric: .cosine, parameters: HNSWParameters(m: 12, efConstruction: 100))
        try index.add(base, ids: (0..<n).map(VectorID.init), attributes: attributes)
        let queries = randomMatrix(rows: 20, dimension: 23, seed: 43)
        var strategies = Set<FilterPlan.Strategy>()
        for filter in selective + [.notEquals("lang", "de"), .greaterThan("score", 0.9), .notEquals("row", 5)] {
            strategies.insert(try index.plan(filter: filter, parameters: HNSWSearchParameters(ef: 40)).strategy)
            var hits = 0, total = 0
            let batch = try index.search(batch: queries, k: k, parameters: HNSWSearchParameters(ef: 40), filter: filter)
            for q in 0..<queries.count {
                let truth = filteredReference(base: base, attributes: attributes, query: queries[q], metric: .cosine, filter: filter, k: k)
                let found = try index.search(queries[q], k: k, ef: 40, filter: filter)
                #expect(found.count == truth.count, "\(filter.json)")
                #expect(found.allSatisfy { filter.matches(attributes[Int($0.id)]) })
                #expect(Array(batch[q]).map(\.id) == found.map(\.id))
                hits += Set(found.map(\.id)).intersection(truth).count
                total += truth.count
            }
            #expect(total == 0 || Double(hits) / Double(total) >= 0.9, "recall \(Double(hits) / Double(max(total, 1))) for \(filter.json)")
        }
        #expect(strategies == [.unfiltered, .exact, .index])

        // Removed vectors are never returned, and a reused slot takes its new attributes.
        let removed = (0..<VectorID(n)).filter { $0 % 2 == 0 }
        index.remove(ids: removed)
        for q in 0..<5 {
            let found = try index.search(queries[q], k: k, ef: 40, filter: .exists("row"))
            #expect(found.count == k && found.allSatisfy { $0.id % 2 == 1 })
        }
        try index.add(base[0], id: 100_000, attributes: ["lang": "xx"])
        #expect(try index.search(base[0], k: 5, filter: .equals("lang", "xx")).map(\.id) == [100_000])
        #expect(index.attributes(for: 100_000) == ["lang": "xx"])
    }

    @Test("attributes survive save and load in every index kind; a damaged ATTR section is refused")
    func persistence() throws {
        let n = 600
        let base = randomMatrix(rows: n, dimension: 9, seed: 51)
        let attributes = sampleAttributes(n, seed: 52)
        let ids = (0..<n).map { VectorID($0) }
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        let flat = try FlatIndex(dimension: 9, metric: .l2)
        try flat.add(base, ids: ids, attributes: attributes)
        let ivf = try IVFIndex(dimension: 9, metric: .l2, parameters: IVFParameters(nlist: 8))
        try ivf.train(base)
        try ivf.add(base, ids: ids, attributes: attributes)
        let hnsw = try HNSWIndex(dimension: 9, metric: .l2)
        try hnsw.add(base, ids: ids, attributes: attributes)
        for index in [flat, ivf, hnsw] as [any VectorIndex] { index.remove(ids: [5, 6, 7]) }
        let filter: Filter = .greaterThanOrEqual("year", 2012) && .in("lang", ["en", "fr"])
        let query = base[3]
        for (name, index) in [("flat", flat), ("ivf", ivf), ("hnsw", hnsw)] as [(String, any VectorIndex)] {
            let path = dir + "/\(name).vsi"
            try index.save(to: path)
            let loaded: any VectorIndex
            switch try AnyIndex.load(from: path) {
            case .flat(let i): loaded = i
            case .ivf(let i): loaded = i
            case .hnsw(let i): loaded = i
            }
            for id in [0, 4, 5, 599] as [VectorID] { #expect(loaded.attributes(for: id) == index.attributes(for: id), "\(name)") }
            #expect(try anySearch(loaded, query, filter) == anySearch(index, query, filter), "\(name)")
            #expect(try anySearch(loaded, query, filter).count == 10)
            try expectDamagedCopiesRefused(of: path, lastSection: "ATTR") { _ = try AnyIndex.load(from: $0) }
        }
        // An index without metadata writes no ATTR section and loads with none.
        let plain = try FlatIndex(dimension: 9, metric: .l2)
        try plain.add(base, ids: ids)
        try plain.save(to: dir + "/plain.vsi")
        #expect(try FlatIndex.load(from: dir + "/plain.vsi").attributes(for: 3) == [:])
    }

    func anySearch(_ index: any VectorIndex, _ query: [Float], _ filter: Filter) throws -> [VectorID] {
        switch index {
        case let flat as FlatIndex: try flat.search(query, k: 10, filter: filter).map(\.id)
        case let ivf as IVFIndex: try ivf.search(query, k: 10, filter: filter).map(\.id)
        case let hnsw as HNSWIndex: try hnsw.search(query, k: 10, filter: filter).map(\.id)
        default: []
        }
    }
}
