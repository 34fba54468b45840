import Foundation
import Testing
import TestSupport
import VectorSearch
@testable import VectorSearchRAG

@Suite("Retrieval evaluation")
struct EvaluationTests {
    // pytrec_eval 0.5.11's values for this example (Benchmarks/peers/metric_fixtures.py prints them):
    // graded judgments, a document judged 0, ties in the run's scores, a query with no relevant
    // document, and every metric at cutoffs 1, 3, 5, 10.
    static let judgments: [String: [String: Int]] = [
        "q1": ["d1": 2, "d2": 1, "d3": 0, "d4": 1, "d7": 3],
        "q2": ["d5": 0],
        "q3": ["d6": 1],
    ]
    static let run: [String: [String: Double]] = [
        "q1": ["d3": 0.9, "d1": 0.8, "dX": 0.8, "d2": 0.5, "d9": 0.4, "d7": 0.4, "d4": 0.1],
        "q2": ["d5": 0.7, "d1": 0.2],
        "q3": ["d8": 0.3, "d6": 0.3, "d0": 0.3],
    ]
    static let trecRankings = [
        "q1": ["d3", "dX", "d1", "d2", "d9", "d7", "d4"], "q2": ["d5", "d1"], "q3": ["d8", "d6", "d0"],
    ]
    static let pytrecEval: [String: [String: Double]] = [
        "q1": [
            "hit_rate@1": 0, "hit_rate@3": 1, "hit_rate@5": 1, "hit_rate@10": 1,
            "recall@1": 0, "recall@3": 0.25, "recall@5": 0.5, "recall@10": 1,
            "precision@1": 0, "precision@3": 1.0 / 3, "precision@5": 0.4, "precision@10": 0.4,
            "mrr@1": 0, "mrr@3": 1.0 / 3, "mrr@5": 1.0 / 3, "mrr@10": 1.0 / 3,
            "ndcg@1": 0, "ndcg@3": 0.210001995754, "ndcg@5": 0.275525589058, "ndcg@10": 0.545519841779,
            "map@1": 0, "map@3": 0.083333333333, "map@5": 0.208333333333, "map@10": 0.47619047619,
        ],
        "q3": [
            "hit_rate@1": 0, "hit_rate@3": 1, "hit_rate@5": 1, "hit_rate@10": 1,
            "recall@1": 0, "recall@3": 1, "recall@5": 1, "recall@10": 1,
            "precision@1": 0, "precision@3": 1.0 / 3, "precision@5": 0.2, "precision@10": 0.1,
            "mrr@1": 0, "mrr@3": 0.5, "mrr@5": 0.5, "mrr@10": 0.5,
            "ndcg@1": 0, "ndcg@3": 0.630929753571, "ndcg@5": 0.630929753571, "ndcg@10": 0.630929753571,
            "map@1": 0, "map@3": 0.5, "map@5": 0.5, "map@10": 0.5,
        ],
    ]

    @Test("every metric equals pytrec_eval's on graded judgments with ties; no relevant document scores 0")
    func metricsAgainstPytrecEval() {
        let metrics = RetrievalMetric.all(cutoffs: [1, 3, 5, 10])
        for (query, scores) in Self.run {
            let ordered = RetrievalEvaluator.trecOrder(scores.map { RankedDocument(id: $0.key, score: $0.value) })
            #expect(ordered.map(\.id) == Self.trecRankings[query], "trec_eval's tie order for \(query)")
            let values = RetrievalMetric.values(metrics, ranking: ordered.map(\.id), judgments: Self.judgments[query]!)
            for (metric, value) in zip(metrics, values) {
                let expected = Self.pytrecEval[query]?[metric.description] ?? 0  // q2: nothing relevant
                #expect(abs(value - expected) < 1e-9, "\(query) \(metric): \(value) against \(expected)")
            }
        }
    }

    @Test("by hand: a repeated document counts once at its best rank; exponential gain; precision over k")
    func handComputed() {
        let judgments = ["a": 1, "b": 2]
        let ndcg = RetrievalMetric(.ndcg, at: 3), precision = RetrievalMetric(.precision, at: 5)
        let repeated = RetrievalMetric.values([ndcg, precision], ranking: ["x", "a", "a", "b"], judgments: judgments)
        let once = RetrievalMetric.values([ndcg, precision], ranking: ["x", "a", "b"], judgments: judgments)
        #expect(repeated == once)
        // DCG = 1/log2(3) + 2/log2(4); ideal = 2 + 1/log2(3).
        #expect(abs(once[0] - (1 / log2(3.0) + 1) / (2 + 1 / log2(3.0))) < 1e-12)
        #expect(once[1] == 2.0 / 5)
        // Exponential gain: (2^1-1)/log2(3) + (2^2-1)/2 over 3 + 1/log2(3).
        let exponential = RetrievalMetric.values([ndcg], ranking: ["x", "a", "b"], judgments: judgments, gain: .exponential)[0]
        #expect(abs(exponential - (1 / log2(3.0) + 1.5) / (3 + 1 / log2(3.0))) < 1e-12)
        #expect(RetrievalMetric.values([ndcg], ranking: [], judgments: judgments) == [0])
        #expect(RetrievalMetric("ndcg@10") == RetrievalMetric(.ndcg, at: 10))
        #expect(RetrievalMetric("ndcg@0") == nil && RetrievalMetric("dcg@10") == nil && RetrievalMetric("ndcg") == nil)
    }

    @Test("the paired randomization test: identical systems p = 1, a consistent gain a small p, symmetric")
    func randomizationTest() {
        let a = (0..<60).map { Double($0 % 7) / 7 }
        #expect(PairedRandomizationTest.pValue(a, a, permutations: 1000) == 1)
        let better = a.map { $0 + 0.1 }
        let p = PairedRandomizationTest.pValue(a, better, permutations: 1000)
        #expect(p == 1.0 / 1001, "every flip has a smaller total than a gain on every query")
        let noisy = a.enumerated().map { $0.offset % 2 == 0 ? $0.element + 0.05 : $0.element - 0.05 }
        #expect(PairedRandomizationTest.pValue(a, noisy, permutations: 1000) > 0.5)
        #expect(PairedRandomizationTest.pValue(a, better, permutations: 1000) == PairedRandomizationTest.pValue(better, a, permutations: 1000))
    }

    @Test("BEIR files: every refusal names the file and line")
    func beirErrors() throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        func refusal(_ body: () throws -> Void) -> String {
            do {
                try body()
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let corpus = "\(dir)/corpus.jsonl", queries = "\(dir)/queries.jsonl", qrels = "\(dir)/qrels.tsv"
        try #"""
        {"_id": "a", "title": "Alpha", "text": "first", "metadata": {"section": 2}}
        {"_id": "b", "text": "second"}
        """#.write(toFile: corpus, atomically: true, encoding: .utf8)
        let documents = try BEIRDataset.readCorpus(corpus)
        #expect(documents.map(\.text) == ["Alpha\nfirst", "second"] && documents[0].metadata["section"] == .int(2))
        try #"{"_id": "q1", "text": "which"}"#.write(toFile: queries, atomically: true, encoding: .utf8)
        #expect(try BEIRDataset.readQueries(queries) == [BEIRDataset.Query(id: "q1", text: "which")])

        for (text, expected) in [
            ("{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id\": \"a\", \"text\": \"y\"}", "line 2: document id \"a\" is also on line 1"),
            ("{\"text\": \"x\"}", "line 1: no \"_id\""),
            ("{\"_id\": \"a\"}", "line 1: document \"a\" has neither title nor text"),
            ("{\"_id\": \"a\", \"text\": 5}", "line 1: \"text\" is not a string"),
            ("\n{\"_id\": \"a\", \"text\": \"x\", \"metadata\": 3}", "line 2: \"metadata\" is not a JSON object"),
        ] {
            try text.write(toFile: corpus, atomically: true, encoding: .utf8)
            let message = refusal { _ = try BEIRDataset.readCorpus(corpus) }
            #expect(message.contains(corpus) && message.contains(expected), "\(message)")
        }
        try "{\"_id\": \"q\"}".write(toFile: queries, atomically: true, encoding: .utf8)
        #expect(refusal { _ = try BEIRDataset.readQueries(queries) }.contains("line 1: query \"q\" has no \"text\""))

        let known = (queries: Set(["q1"]), documents: Set(["a", "b"]))
        for (text, expected) in [
            ("query-id\tcorpus-id\tscore\nq1\ta\t1\nq1\tc\t1", "line 3: document \"c\" is not in the corpus"),
            ("q2\ta\t1", "line 1: query \"q2\" is not among the queries"),
            ("q1\ta\tx", "line 1: score \"x\" is not an integer"),
            ("q1\ta", "line 1: expected 3 tab-separated fields"),
            ("q1\ta\t1\nq1\ta\t2", "line 2: query \"q1\" and document \"a\" are also judged on line 1"),
        ] {
            try text.write(toFile: qrels, atomically: true, encoding: .utf8)
            let message = refusal { _ = try BEIRDataset.readQrels(qrels, queries: known.queries, documents: known.documents) }
            #expect(message.contains(qrels) && message.contains(expected), "\(message)")
        }
        try "query-id\tcorpus-id\tscore\r\nq1\ta\t2\r\nq1\tb\t0\r\n".write(toFile: qrels, atomically: true, encoding: .utf8)
        #expect(try BEIRDataset.readQrels(qrels, queries: known.queries, documents: known.documents).judgments == ["q1": ["a": 2, "b": 0]])
    }

    @Test("the bundled manpages-qa slice reads whole: 150 documents, 60 queries, every judgment naming both")
    func bundledSlice() throws {
        let slice = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data/manpages-qa-slice").path
        let documents = try BEIRDataset.readCorpus(slice + "/corpus.jsonl")
        let queries = try BEIRDataset.readQueries(slice + "/queries.jsonl")
        let judgments = try BEIRDataset.readQrels(
            slice + "/qrels/test.tsv", queries: Set(queries.map(\.id)), documents: Set(documents.map(\.id)))
        #expect(documents.count == 150 && queries.count == 60 && judgments.judgments.count == 60)
        let first = try #require(documents.first)
        #expect(first.id == "add_key.2" && first.text.hasPrefix("add_key\nadd_key() creates") && first.metadata["section"] != nil)
        #expect(judgments.judgments.values.allSatisfy { $0.count == 1 && $0.values.first == 1 })
    }

    @Test("configurations parse from their command-line form, bad ones are refused")
    func configurationParsing() throws {
        let hnsw = try EvaluationConfiguration(parsing: "name=h,index=hnsw,m=8,ef=32,hybrid,adapter")
        #expect(hnsw.name == "h" && hnsw.retrieval.search.ef == 32 && hnsw.retrieval.hybrid && hnsw.adapter)
        guard case .hnsw(let p) = hnsw.index else { Issue.record("not hnsw"); return }
        #expect(p.m == 8)
        let filtered = try EvaluationConfiguration(parsing: #"name=f,mmr=0.5,filter={"a": {"$in": [1, 2]}}"#)
        #expect(filtered.retrieval.filter != nil && filtered.retrieval.mmrLambda == 0.5 && filtered.index == .collection)
        for bad in ["index=annoy", "ef=x", "m=8", "mmr=2", "colour=red", "filter=", "filter={"] {
            #expect(throws: (any Error).self, "\(bad)") { try EvaluationConfiguration(parsing: bad) }
        }
    }

    /// A flat collection of `n` documents, each one chunk whose vector is a random unit vector,
    /// and queries that are noisy copies of document vectors (each judged relevant to its copy).
    func labelled(_ dir: String, index: IndexKind = .flat, n: Int = 200, d: Int = 16) throws
        -> (DocumentCollection, [BEIRDataset.Query], RelevanceJudgments, [[Float]])
    {
        var generator = SplitMix64(seed: 7)
        func random() -> Float { Float(generator.next() >> 40) / Float(1 << 24) - 0.5 }
        let vectors = (0..<n).map { _ in (0..<d).map { _ in random() } }
        let collection = try DocumentCollection.create(at: dir, dimension: d, index: index)
        let documents = (0..<n).map { Document(id: "doc\($0)", text: "document number \($0)", metadata: ["even": .bool($0 % 2 == 0)]) }
        try collection.add(documents, embeddings: try VectorMatrix(vectors))
        let queries = (0..<n).map { i in BEIRDataset.Query(id: "q\(i)", text: "number \(i)", embedding: vectors[i].map { $0 + 0.3 * random() }) }
        let judgments = RelevanceJudgments(Dictionary(uniqueKeysWithValues: (0..<n).map { ("q\($0)", ["doc\($0)": 1]) }))
        return (collection, queries, judgments, vectors)
    }

    @Test("the evaluator: exact, HNSW and IVF built over the chunks, hybrid, MMR, a filter; the run file and JSON; drift")
    func evaluator() throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        let (collection, queries, judgments, _) = try labelled(dir + "/kb")
        let evaluator = try RetrievalEvaluator(cutoffs: [1, 10], permutations: 500)
        let report = try evaluator.evaluate(
            collection, queries: queries, judgments: judgments,
            configurations: [
                EvaluationConfiguration(name: "exact", index: .exact),
                EvaluationConfiguration(name: "own"),
                try EvaluationConfiguration(parsing: "name=hnsw,index=hnsw,m=4,ef-construction=8,ef=1"),
                try EvaluationConfiguration(parsing: "name=ivf,index=ivf,nlist=8,nprobe=1"),
                try EvaluationConfiguration(parsing: "name=hybrid,index=exact,hybrid"),
                try EvaluationConfiguration(parsing: "name=mmr,index=exact,mmr=0.5"),
                try EvaluationConfiguration(parsing: #"name=even,filter={"even": {"$eq": true}}"#),
            ])
        let exact = report.configurations[0], own = report.configurations[1]
        #expect(exact.means["hit_rate@10"]! > 0.9, "noisy copies are found")
        #expect(exact.perQuery == own.perQuery && own.annRecall == nil, "a flat collection is exact")
        #expect(report.configurations[2].annRecall != nil && report.configurations[3].annRecall! < 1, "one list of eight misses some")
        #expect(report.comparisons.count == 6 && report.comparisons[0].pValues["ndcg@10"] == 1)
        // Half the queries' documents are odd: the filter can never find them.
        let even = report.configurations[6]
        #expect(even.means["hit_rate@10"]! <= 0.5 + 1e-9 && even.perQuery["q1"]!["hit_rate@10"] == 0)
        // Each ranking as metrics recomputed from it, and in trec_eval's order.
        for result in report.configurations {
            for (query, ranking) in result.rankings {
                #expect(ranking == RetrievalEvaluator.trecOrder(ranking) && ranking.count == 10)
                let values = RetrievalMetric.values(evaluator.metrics, ranking: ranking.map(\.id), judgments: judgments.judgments[query]!)
                #expect(values == evaluator.metrics.map { result.perQuery[query]![$0.description]! })
            }
        }
        let lines = report.runFile().split(separator: "\n")
        #expect(lines.count == 7 * 200 * 10 && lines.allSatisfy { $0.split(separator: " ").count == 6 })
        #expect(lines.first!.hasPrefix("q0 Q0 doc0 1 ") && lines.first!.hasSuffix(" exact"))

        let data = try JSONEncoder().encode(report)
        let decoded = try JSONDecoder().decode(EvaluationReport.self, from: data)
        #expect(decoded.schema == "vectorsearch-rag-eval/1" && decoded.configurations.map(\.perQuery) == report.configurations.map(\.perQuery))
        #expect(report.drift(from: decoded).allSatisfy { !$0.significant && $0.pValue == 1 })
        var worse = decoded
        for query in worse.configurations[0].perQuery.keys { worse.configurations[0].perQuery[query]!["hit_rate@10"] = 0 }
        let moved = report.drift(from: worse).filter(\.significant)
        #expect(moved.map(\.metric) == ["hit_rate@10"] && moved[0].configuration == "exact" && moved[0].before == 0)

        #expect(throws: (any Error).self) { try evaluator.evaluate(collection, queries: queries, judgments: judgments, configurations: []) }
        #expect(throws: (any Error).self) {
            try evaluator.evaluate(collection, queries: [], judgments: judgments, configurations: [EvaluationConfiguration(name: "x")])
        }
        #expect(throws: (any Error).self) {
            try evaluator.evaluate(
                collection, queries: queries, judgments: judgments, configurations: [EvaluationConfiguration(name: "x", adapter: true)])
        }
        #expect(throws: (any Error).self) { try RetrievalEvaluator(cutoffs: [0]) }
    }
}

@Suite("Query adapter")
struct QueryAdapterTests {
    func randomMatrix(_ rows: Int, _ columns: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<(rows * columns)).map { _ in Float(generator.next() >> 40) / Float(1 << 24) - 0.5 }
    }

    /// Gaussian elimination with partial pivoting in float64: X with A·X = B (A n×n, B n×m).
    func solve64(_ a: [Float], _ b: [Float], n: Int, m: Int) -> [Double] {
        var a = a.map(Double.init), b = b.map(Double.init)
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0 * n + column]) < abs(a[$1 * n + column]) }!
            for j in 0..<n { a.swapAt(column * n + j, pivot * n + j) }
            for j in 0..<m { b.swapAt(column * m + j, pivot * m + j) }
            for row in 0..<n where row != column {
                let factor = a[row * n + column] / a[column * n + column]
                for j in 0..<n { a[row * n + j] -= factor * a[column * n + j] }
                for j in 0..<m { b[row * m + j] -= factor * b[column * m + j] }
            }
        }
        return (0..<(n * m)).map { b[$0] / a[($0 / m) * n + $0 / m] }
    }

    @Test("LAPACK: sposv against a float64 solve, the SVD reconstructs its matrix, bad input refused")
    func linearAlgebra() throws {
        let n = 7, m = 3
        let r = randomMatrix(n, n, seed: 1)
        // A = RᵀR + I is symmetric positive definite.
        var a = [Float](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] = (0..<n).reduce(0) { $0 + r[$1 * n + i] * r[$1 * n + j] } + (i == j ? 1 : 0) } }
        let b = randomMatrix(n, m, seed: 2)
        let x = try LinearAlgebra.solveSymmetricPositiveDefinite(a, n: n, b, columns: m)
        for (got, want) in zip(x, solve64(a, b, n: n, m: m)) { #expect(abs(Double(got) - want) < 1e-4) }

        let rows = 9, columns = 5
        let c = randomMatrix(rows, columns, seed: 3)
        let (u, s, vt) = try LinearAlgebra.singularValueDecomposition(c, rows: rows, columns: columns)
        #expect(s.count == 5 && zip(s, s.dropFirst()).allSatisfy { $0 >= $1 } && s.last! >= 0)
        for i in 0..<rows {
            for j in 0..<columns {
                let value = (0..<columns).reduce(0.0) { $0 + Double(u[i * columns + $1]) * Double(s[$1]) * Double(vt[$1 * columns + j]) }
                #expect(abs(value - Double(c[i * columns + j])) < 1e-5)
            }
        }
        #expect(throws: (any Error).self) { try LinearAlgebra.solveSymmetricPositiveDefinite([1, 2, 2, 1], n: 2, [1, 1], columns: 1) }
        #expect(throws: (any Error).self) { try LinearAlgebra.solveSymmetricPositiveDefinite([1, 0, 0], n: 2, [1, 1], columns: 1) }
        #expect(throws: (any Error).self) { try LinearAlgebra.singularValueDecomposition([1, .nan], rows: 1, columns: 2) }
        #expect(throws: (any Error).self) { try LinearAlgebra.singularValueDecomposition([], rows: 0, columns: 2) }
    }

    @Test("fitting: identity on aligned pairs, Procrustes orthogonal and recovering a rotation, ridge equal to a float64 reference")
    func fitting() throws {
        let n = 40, d = 6
        let x = randomMatrix(n, d, seed: 4)
        let identity = try QueryAdapter.identity(dimension: d).matrix
        for w in [
            try QueryAdapterFitting.ridge(queries: x, targets: x, dimension: d, lambda: 1).matrix,
            try QueryAdapterFitting.procrustes(queries: x, targets: x, dimension: d).matrix,
        ] {
            #expect(zip(w, identity).allSatisfy { abs($0 - $1) < 1e-4 })
        }
        // Y = X·R for an orthogonal R: Procrustes finds R, and R is orthogonal.
        let rotation = try QueryAdapterFitting.procrustes(queries: x, targets: randomMatrix(n, d, seed: 5), dimension: d)
        for i in 0..<d {
            for j in 0..<d {
                let dot = (0..<d).reduce(Float(0)) { $0 + rotation.matrix[$1 * d + i] * rotation.matrix[$1 * d + j] }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-4)
            }
        }
        let rotated = try QueryAdapter(dimension: d, matrix: rotation.matrix, method: "test").apply(rows: x, count: n)
        let recovered = try QueryAdapterFitting.procrustes(queries: x, targets: rotated, dimension: d)
        #expect(zip(recovered.matrix, rotation.matrix).allSatisfy { abs($0 - $1) < 1e-4 })
        // Ridge: (XᵀX + λI)⁻¹(XᵀY + λI) in float64.
        let y = randomMatrix(n, d, seed: 6), lambda = 0.5
        var gram = [Float](repeating: 0, count: d * d), cross = [Float](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0..<d {
                gram[i * d + j] = (0..<n).reduce(0) { $0 + x[$1 * d + i] * x[$1 * d + j] } + (i == j ? Float(lambda) : 0)
                cross[i * d + j] = (0..<n).reduce(0) { $0 + x[$1 * d + i] * y[$1 * d + j] } + (i == j ? Float(lambda) : 0)
            }
        }
        let ridge = try QueryAdapterFitting.ridge(queries: x, targets: y, dimension: d, lambda: lambda)
        for (got, want) in zip(ridge.matrix, solve64(gram, cross, n: d, m: d)) { #expect(abs(Double(got) - want) < 1e-4) }
        let one = try ridge.apply(Array(x[0..<d]))
        #expect(zip(one, ridge.apply(rows: Array(x[0..<d]), count: 1)).allSatisfy { abs($0 - $1) < 1e-6 }, "sgemv and sgemm agree")
        #expect(throws: VectorSearchError.dimensionMismatch(expected: d, actual: 2, row: nil)) { try ridge.apply([1, 2]) }
        #expect(throws: (any Error).self) { try QueryAdapterFitting.ridge(queries: x, targets: y, dimension: d, lambda: 0) }
        #expect(throws: (any Error).self) { try QueryAdapterFitting.procrustes(queries: x, targets: Array(y.dropLast()), dimension: d) }
        #expect(throws: (any Error).self) { try QueryAdapter(dimension: 2, matrix: [1, 0, 0], method: "x") }
    }

    @Test("contrastive training lowers the loss it follows and stays near I with a large λ")
    func contrastive() throws {
        let n = 64, d = 8
        let x = randomMatrix(n, d, seed: 8)
        let rotation = try QueryAdapterFitting.procrustes(queries: x, targets: randomMatrix(n, d, seed: 9), dimension: d)
        let y = rotation.apply(rows: x, count: n)
        func loss(_ adapter: QueryAdapter) -> Double {
            let q = adapter.apply(rows: x, count: n)
            var total = 0.0
            for i in 0..<n {
                let scores = (0..<n).map { j in Double((0..<d).reduce(Float(0)) { $0 + q[i * d + $1] * y[j * d + $1] }) / 0.05 }
                let top = scores.max()!
                total += -(scores[i] - top - log(scores.reduce(0) { $0 + exp($1 - top) }))
            }
            return total / Double(n)
        }
        let start = try QueryAdapter.identity(dimension: d)
        let trained = try QueryAdapterFitting.contrastive(
            queries: x, targets: y, dimension: d, settings: .init(temperature: 0.05, epochs: 20, batchSize: 64))
        #expect(loss(trained) < 0.5 * loss(start), "\(loss(trained)) against \(loss(start))")
        let held = try QueryAdapterFitting.contrastive(queries: x, targets: y, dimension: d, settings: .init(lambda: 1000, epochs: 5))
        #expect(zip(held.matrix, start.matrix).allSatisfy { abs($0 - $1) < 0.05 })
    }

    @Test("a collection's adapter changes query vectors only, survives reopening, is checked, and can be removed; tuning picks one")
    func collectionAdapter() throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        let d = 4
        let collection = try DocumentCollection.create(at: dir + "/kb", dimension: d, metric: .innerProduct, index: .flat)
        let vectors: [[Float]] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
        try collection.add((0..<3).map { Document(id: "d\($0)", text: "doc \($0)") }, embeddings: try VectorMatrix(vectors))
        #expect(try collection.queryAdapter == nil)
        // W swaps the first two axes: a query along x now finds d1.
        let swap = try QueryAdapter(dimension: d, matrix: [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], method: "swap")
        try collection.setQueryAdapter(swap)
        #expect(try collection.retrieve(vector: [1, 0, 0, 0], options: RetrievalOptions(k: 1)).first?.chunk.documentID == "d1")
        #expect(try collection.retrieve(vector: [1, 0, 0, 0], options: RetrievalOptions(k: 1, adapter: false)).first?.chunk.documentID == "d0")
        #expect(try collection.vector(forChunk: 1) == [1, 0, 0, 0], "stored vectors untouched")
        let reopened = try DocumentCollection.open(at: dir + "/kb")
        #expect(try reopened.queryAdapter == swap && (try reopened.info().queryAdapter?.hasPrefix("swap") == true))
        #expect(throws: (any Error).self) { try reopened.setQueryAdapter(try QueryAdapter.identity(dimension: 3)) }

        // A damaged matrix is refused by its checksum.
        let database = try SQLiteDatabase(path: dir + "/kb/collection.sqlite", create: false, busyTimeout: 5)
        try database.execute("UPDATE query_adapter SET matrix = zeroblob(64), version = version + 1")
        #expect(throws: CollectionError.self) { try DocumentCollection.open(at: dir + "/kb").queryAdapter }
        #expect(throws: CollectionError.self) { try DocumentCollection.open(at: dir + "/kb").check() }
        try reopened.setQueryAdapter(nil)
        #expect(try reopened.queryAdapter == nil)
        #expect(try collection.retrieve(vector: [1, 0, 0, 0], options: RetrievalOptions(k: 1)).first?.chunk.documentID == "d0")
    }

    @Test("tuning on labelled pairs beats the plain queries on held-out questions")
    func tuning() throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        // Queries are documents turned by a fixed rotation plus noise: an adapter can undo the turn.
        let n = 300, d = 16
        var generator = SplitMix64(seed: 11)
        func random() -> Float { Float(generator.next() >> 40) / Float(1 << 24) - 0.5 }
        let documents = (0..<n).map { _ in (0..<d).map { _ in random() } }
        let collection = try DocumentCollection.create(at: dir + "/kb", dimension: d, index: .flat)
        try collection.add((0..<n).map { Document(id: "d\($0)", text: "doc") }, embeddings: try VectorMatrix(documents))
        let turn = try QueryAdapterFitting.procrustes(
            queries: randomMatrix(n, d, seed: 12), targets: randomMatrix(n, d, seed: 13), dimension: d)
        let queries = try (0..<n).map { i in
            BEIRDataset.Query(id: "q\(i)", text: "q", embedding: try turn.apply(documents[i]).map { $0 + 0.05 * random() })
        }
        let split = { (range: Range<Int>) in RelevanceJudgments(Dictionary(uniqueKeysWithValues: range.map { ("q\($0)", ["d\($0)": 1]) })) }
        let result = try AdapterTuning().tune(collection, train: split(0..<200), validation: split(200..<250), queries: queries)
        #expect(result.pairs == 200 && result.candidates.count == 12)
        let before = result.before!["ndcg@10"]!, after = result.after!["ndcg@10"]!
        #expect(after > before + 0.2, "\(before) -> \(after)")
        try collection.setQueryAdapter(result.adapter)
        let report = try RetrievalEvaluator(cutoffs: [10], permutations: 200).evaluate(
            collection, queries: queries, judgments: split(250..<300),
            configurations: [EvaluationConfiguration(name: "plain"), EvaluationConfiguration(name: "adapted", adapter: true)])
        #expect(report.configurations[1].means["ndcg@10"]! > report.configurations[0].means["ndcg@10"]! + 0.2)
        #expect(report.comparisons[0].pValues["ndcg@10"]! < 0.01)

        // Without validation questions: one default, contrastive, nothing measured.
        let unvalidated = try AdapterTuning().tune(collection, train: split(0..<200), validation: nil, queries: queries)
        #expect(unvalidated.candidates.count == 1 && unvalidated.adapter?.method == "contrastive" && unvalidated.before == nil)
    }
}
