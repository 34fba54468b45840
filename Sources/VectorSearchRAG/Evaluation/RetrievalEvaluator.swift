import Foundation
import VectorSearch

/// Scores retrieval from a collection against labelled queries: every metric of
/// ``RetrievalMetric`` at the chosen cutoffs, latency, the recall of approximate indexes against
/// exact search, and a paired significance test between configurations.
///
/// Retrieval returns chunks and judgments name documents, so each query's chunks become a
/// ranking of documents: a document counts once, at the rank of its best chunk, with that
/// chunk's score. Documents with equal scores are ordered as trec_eval orders them (by document
/// id, descending), so a run file re-scored by trec_eval or pytrec_eval gives the same numbers.
/// An MMR ranking is not ordered by score: its documents are scored 1/rank.
///
/// ```swift
/// let judgments = try BEIRDataset.readQrels("qrels/test.tsv")
/// let report = try await RetrievalEvaluator().evaluate(
///     collection, queries: try BEIRDataset.readQueries("queries.jsonl"), judgments: judgments,
///     configurations: [EvaluationConfiguration(name: "dense"), EvaluationConfiguration(name: "hybrid", retrieval: RetrievalOptions(hybrid: true))],
///     embedder: BuiltInEmbedder())
/// print(report.configurations[1].means["ndcg@10"]!)
/// ```
public struct RetrievalEvaluator: Sendable {
    /// Cutoffs for every metric (default 1, 3, 5, 10, 100).
    public var cutoffs: [Int]
    public var gain: RelevanceGain
    /// Random sign flips of the paired randomization test.
    public var permutations: Int
    /// The k of the approximate indexes' recall against exact search.
    public var annRecallK: Int

    public init(cutoffs: [Int] = RetrievalMetric.defaultCutoffs, gain: RelevanceGain = .linear, permutations: Int = 10_000, annRecallK: Int = 10) throws {
        guard !cutoffs.isEmpty, cutoffs.allSatisfy({ (1...100_000).contains($0) }) else {
            throw VectorSearchError.invalidArgument("cutoffs must be between 1 and 100,000, got \(cutoffs)")
        }
        try ParameterCheck.atLeast(1, "permutations", permutations)
        try ParameterCheck.atLeast(1, "ANN recall k", annRecallK)
        self.cutoffs = Array(Set(cutoffs)).sorted()
        self.gain = gain
        self.permutations = permutations
        self.annRecallK = annRecallK
    }

    /// The metrics reported, measure by measure.
    public var metrics: [RetrievalMetric] { RetrievalMetric.all(cutoffs: cutoffs) }

    /// Embeds the queries that have no embedding with `embedder`, then evaluates.
    public func evaluate(
        _ collection: DocumentCollection, queries: [BEIRDataset.Query], judgments: RelevanceJudgments,
        configurations: [EvaluationConfiguration], embedder: some Embedder, progress: ((String) -> Void)? = nil
    ) async throws -> EvaluationReport {
        let judged = Set(judgments.judgments.keys)
        var embedded = queries.filter { judged.contains($0.id) }
        let missing = embedded.indices.filter { embedded[$0].embedding == nil }
        if !missing.isEmpty {
            let vectors = try await embedder.embed(missing.map { embedded[$0].text })
            guard vectors.count == missing.count else { throw CollectionError.embedderReturned(vectors: vectors.count, texts: missing.count) }
            for (i, vector) in zip(missing, vectors) { embedded[i].embedding = vector }
        }
        return try evaluate(collection, queries: embedded, judgments: judgments, configurations: configurations, progress: progress)
    }

    /// Evaluates `configurations` on the judged queries (each must carry its embedding).
    public func evaluate(
        _ collection: DocumentCollection, queries: [BEIRDataset.Query], judgments: RelevanceJudgments,
        configurations: [EvaluationConfiguration], progress: ((String) -> Void)? = nil
    ) throws -> EvaluationReport {
        guard !configurations.isEmpty else { throw VectorSearchError.invalidArgument("no configuration to evaluate") }
        var names = Set<String>()
        for configuration in configurations where !names.insert(configuration.name).inserted {
            throw VectorSearchError.invalidArgument("two configurations are named \"\(configuration.name)\"")
        }
        let byID = Dictionary(queries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let queryIDs = judgments.queryIDs
        guard !queryIDs.isEmpty else { throw VectorSearchError.invalidArgument("the judgments name no query") }
        var vectors: [[Float]] = []
        for id in queryIDs {
            guard let query = byID[id] else { throw VectorSearchError.invalidArgument("judged query \"\(id)\" is not among the queries") }
            guard let vector = query.embedding else { throw VectorSearchError.invalidArgument("query \"\(id)\" has no embedding") }
            guard vector.count == collection.dimension else {
                throw VectorSearchError.invalidArgument("query \"\(id)\" has a \(vector.count)-d embedding; the collection is \(collection.dimension)-d")
            }
            vectors.append(vector)
        }
        let adapter = try collection.queryAdapter
        if configurations.contains(where: \.adapter), adapter == nil {
            throw VectorSearchError.invalidArgument("a configuration applies the query adapter, but the collection has none (rag tune makes one)")
        }
        let chunkCount = try collection.chunkCount
        let chunksPerDocument = max(1.0, Double(chunkCount) / Double(max(1, try collection.documentCount)))
        let depth = cutoffs.last!
        var built: [(EvaluationConfiguration.Index, CollectionIndex)] = []
        func index(_ choice: EvaluationConfiguration.Index) throws -> CollectionIndex? {
            if choice == .collection { return nil }
            if let found = built.first(where: { $0.0 == choice }) { return found.1 }
            progress?("building the \(choice) index over the collection's chunks")
            let made: CollectionIndex
            switch choice {
            case .exact: made = try collection.buildIndex(kind: .flat, hnsw: .default, ivf: .default)
            case .hnsw(let p): made = try collection.buildIndex(kind: .hnsw, hnsw: p, ivf: .default)
            case .ivf(let p): made = try collection.buildIndex(kind: .ivf, hnsw: .default, ivf: p)
            case .collection: return nil
            }
            built.append((choice, made))
            return made
        }
        var results: [ConfigurationResult] = []
        for (number, configuration) in configurations.enumerated() {
            progress?("configuration \(number + 1)/\(configurations.count): \(configuration.name) (\(configuration.summary))")
            let searched = try index(configuration.index)
            let approximate: Bool =
                switch configuration.index {
                case .exact: false
                case .hnsw, .ivf: true
                case .collection: collection.indexKind != .flat
                }
            var perQuery: [[Double]] = []
            var rankings: [[RankedDocument]] = []
            var latencies: [Double] = []
            var annRecall: [Double] = []
            for (i, id) in queryIDs.enumerated() {
                let vector = configuration.adapter ? try adapter!.apply(vectors[i]) : vectors[i]
                var options = configuration.retrieval
                options.adapter = false
                options.k = min(Int((Double(depth) * chunksPerDocument * 1.5).rounded(.up)), max(1, chunkCount))
                var ranking: [RankedDocument] = []
                let start = DispatchTime.now().uptimeNanoseconds
                while true {
                    let chunks = try collection.retrieve(vector: vector, text: byID[id]!.text, options: options, index: searched)
                    ranking = documents(chunks, mmr: configuration.retrieval.mmrLambda != nil, higherIsCloser: collection.metric.higherIsCloser)
                    if ranking.count >= depth || chunks.count < options.k { break }
                    options.k = ParameterCheck.saturatingProduct(options.k, 2)
                }
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                ranking = Array(ranking.prefix(depth))
                rankings.append(ranking)
                perQuery.append(RetrievalMetric.values(metrics, ranking: ranking.map(\.id), judgments: judgments.judgments[id]!, gain: gain))
                if approximate {
                    let exact = try index(.exact)!
                    let k = annRecallK
                    let truth = try exact.search(vector, k: k, options: .default, filter: configuration.retrieval.filter)
                    let found =
                        try searched?.search(vector, k: k, options: configuration.retrieval.search, filter: configuration.retrieval.filter)
                        ?? collection.searchIndex(vector, k: k, options: configuration.retrieval.search, filter: configuration.retrieval.filter)
                    let truthIDs = Set(truth.map(\.id))
                    annRecall.append(truth.isEmpty ? 1 : Double(found.count { truthIDs.contains($0.id) }) / Double(truth.count))
                }
            }
            let means = metrics.indices.map { m in perQuery.map { $0[m] }.reduce(0, +) / Double(perQuery.count) }
            results.append(
                ConfigurationResult(
                    name: configuration.name, settings: configuration.summary,
                    means: Dictionary(uniqueKeysWithValues: zip(metrics.map(\.description), means)),
                    latency: Latency(latencies), annRecall: annRecall.isEmpty ? nil : annRecall.reduce(0, +) / Double(annRecall.count),
                    perQuery: Dictionary(
                        uniqueKeysWithValues: zip(queryIDs, perQuery.map { Dictionary(uniqueKeysWithValues: zip(metrics.map(\.description), $0)) })),
                    rankings: Dictionary(uniqueKeysWithValues: zip(queryIDs, rankings))))
        }
        var comparisons: [Comparison] = []
        for result in results.dropFirst() {
            var pValues: [String: Double] = [:]
            for metric in metrics.map(\.description) {
                let a = queryIDs.map { results[0].perQuery[$0]![metric]! }, b = queryIDs.map { result.perQuery[$0]![metric]! }
                pValues[metric] = PairedRandomizationTest.pValue(a, b, permutations: permutations)
            }
            comparisons.append(Comparison(baseline: results[0].name, configuration: result.name, pValues: pValues))
        }
        return EvaluationReport(
            queries: queryIDs.count, cutoffs: cutoffs, gain: gain.rawValue, metrics: metrics.map(\.description), annRecallK: annRecallK,
            configurations: results, comparisons: comparisons)
    }

    /// Chunks (best first) as documents: each at its best chunk's rank, with that chunk's score
    /// (the fused score for hybrid; for L2, the negated distance, so higher is better), then
    /// ties ordered by id descending (trec_eval's order). MMR rankings are scored 1/rank.
    private func documents(_ chunks: [RetrievedChunk], mmr: Bool, higherIsCloser: Bool) -> [RankedDocument] {
        var seen = Set<String>()
        var ranking: [RankedDocument] = []
        for chunk in chunks where seen.insert(chunk.chunk.documentID).inserted {
            let score = chunk.fusedScore ?? Double(higherIsCloser ? chunk.score : -chunk.score)
            ranking.append(RankedDocument(id: chunk.chunk.documentID, score: mmr ? 1 / Double(ranking.count + 1) : score))
        }
        return Self.trecOrder(ranking)
    }

    /// `documents` as trec_eval ranks them: by score, descending, then by id, descending (byte
    /// order of the UTF-8, as its `strcmp`).
    static func trecOrder(_ documents: [RankedDocument]) -> [RankedDocument] {
        documents.sorted { a, b in
            if a.score != b.score { return a.score > b.score }
            return b.id.utf8.lexicographicallyPrecedes(a.id.utf8)
        }
    }
}

/// A document in a query's ranking, with the score a run file records.
public struct RankedDocument: Sendable, Hashable, Codable {
    public var id: String
    public var score: Double
}

/// Milliseconds per query: median, 99th percentile and mean.
public struct Latency: Sendable, Codable, Hashable {
    public var p50: Double
    public var p99: Double
    public var mean: Double

    init(_ milliseconds: [Double]) {
        let sorted = milliseconds.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)] }
        p50 = percentile(0.5)
        p99 = percentile(0.99)
        mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
    }
}

/// One configuration's results.
public struct ConfigurationResult: Sendable, Codable {
    public var name: String
    /// The settings, as ``EvaluationConfiguration/summary`` prints them.
    public var settings: String
    /// Each metric's mean over the queries, by its name (`ndcg@10`).
    public var means: [String: Double]
    /// Retrieval time per query (the query already embedded), milliseconds.
    public var latency: Latency
    /// For approximate indexes: the share of exact search's top k (``RetrievalEvaluator/annRecallK``)
    /// this index finds for the same query vector and filter (the index's loss, apart from the model's).
    public var annRecall: Double?
    /// query id → metric name → value.
    public var perQuery: [String: [String: Double]]
    /// query id → its ranked documents (written to run files, not to the JSON report).
    public var rankings: [String: [RankedDocument]] = [:]

    enum CodingKeys: String, CodingKey {
        case name, settings, means, latency = "latency_ms", annRecall = "ann_recall", perQuery = "per_query"
    }
}

/// The paired randomization test of one configuration against the first, per metric.
public struct Comparison: Sendable, Codable {
    public var baseline: String
    public var configuration: String
    /// metric name → two-sided p-value.
    public var pValues: [String: Double]

    enum CodingKeys: String, CodingKey {
        case baseline, configuration, pValues = "p_values"
    }
}

/// What ``RetrievalEvaluator`` reports; its JSON form (schema `vectorsearch-rag-eval/1`) is
/// documented in docs/EVALUATION.md.
public struct EvaluationReport: Sendable, Codable {
    public var schema = EvaluationReport.schemaName
    public var queries: Int
    public var cutoffs: [Int]
    public var gain: String
    /// Metric names in report order.
    public var metrics: [String]
    public var annRecallK: Int
    public var configurations: [ConfigurationResult]
    public var comparisons: [Comparison]

    public static let schemaName = "vectorsearch-rag-eval/1"

    enum CodingKeys: String, CodingKey {
        case schema, queries, cutoffs, gain, metrics, annRecallK = "ann_recall_k", configurations, comparisons
    }

    /// The rankings as a TREC run file: `qid Q0 docid rank score tag` per line, the tag being the
    /// configuration's name, scores strictly in the order of the ranks (see ``RetrievalEvaluator``).
    public func runFile() -> String {
        var lines: [String] = []
        for configuration in configurations {
            let tag = configuration.name.map { $0.isWhitespace ? "_" : $0 }
            for query in configuration.rankings.keys.sorted() {
                for (rank, document) in configuration.rankings[query]!.enumerated() {
                    lines.append("\(query) Q0 \(document.id) \(rank + 1) \(document.score) \(String(tag))")
                }
            }
        }
        return lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }
}

/// A metric that moved between two reports of the same configuration.
public struct Drift: Sendable, Codable {
    public var configuration: String
    public var metric: String
    public var before: Double
    public var after: Double
    /// The paired randomization test's p-value over the queries both reports scored.
    public var pValue: Double
    /// Whether the move is beyond noise (p < the level asked for).
    public var significant: Bool
}

extension EvaluationReport {
    /// Every metric of every configuration named in both reports, old (`before`) against this
    /// one, on the queries both scored, with the paired test's p-value; `significant` when p < `level`.
    public func drift(from before: EvaluationReport, level: Double = 0.05, permutations: Int = 10_000) -> [Drift] {
        var drifts: [Drift] = []
        for new in configurations {
            guard let old = before.configurations.first(where: { $0.name == new.name }) else { continue }
            let queries = Set(new.perQuery.keys).intersection(old.perQuery.keys).sorted()
            for metric in metrics where old.means[metric] != nil {
                let a = queries.compactMap { old.perQuery[$0]?[metric] }, b = queries.compactMap { new.perQuery[$0]?[metric] }
                guard a.count == queries.count, b.count == queries.count, !queries.isEmpty else { continue }
                let p = PairedRandomizationTest.pValue(a, b, permutations: permutations)
                drifts.append(
                    Drift(
                        configuration: new.name, metric: metric, before: a.reduce(0, +) / Double(a.count),
                        after: b.reduce(0, +) / Double(b.count), pValue: p, significant: p < level))
            }
        }
        return drifts
    }
}
