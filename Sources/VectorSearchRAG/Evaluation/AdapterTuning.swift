import Foundation
import VectorSearch

/// Fits a collection's query adapter from labelled questions: the training pairs are each
/// judged question with the chunk of its relevant document that is closest to it; the
/// candidates (ridge at several λ, Procrustes, contrastive training at several settings) are scored
/// on the validation questions by nDCG@10 and the best is kept, unless none beats no adapter.
public struct AdapterTuning: Sendable {
    /// How an adapter is fitted.
    public enum Method: String, Sendable, CaseIterable {
        /// Every candidate below, the best on the validation questions kept.
        case auto
        case ridge, procrustes, contrastive
    }

    public var method: Method
    /// Ridge λ values tried (``QueryAdapterFitting/ridge(queries:targets:dimension:lambda:)``).
    public var ridgeLambdas: [Double] = [1, 10, 100]
    /// Contrastive settings tried: every combination of these temperatures, batch sizes (more
    /// in-batch negatives) and epochs, at λ = 0.01.
    public var contrastiveTemperatures: [Double] = [0.02, 0.05]
    public var contrastiveBatchSizes: [Int] = [64, 256]
    public var contrastiveEpochs: [Int] = [5, 20]
    /// The metric that chooses among candidates.
    public var selection = RetrievalMetric(.ndcg, at: 10)

    public init(method: Method = .auto) { self.method = method }

    /// One candidate adapter and its validation score.
    public struct Candidate: Sendable, Codable {
        public var description: String
        public var validation: Double?
        public var seconds: Double
    }

    /// What ``tune(_:train:validation:queries:)`` found.
    public struct Result: Sendable {
        /// The adapter chosen (nil when no candidate beat the queries as they are).
        public var adapter: QueryAdapter?
        public var candidates: [Candidate]
        /// Training pairs used.
        public var pairs: Int
        /// Time to gather the pairs and fit every candidate (not the validation searches).
        public var trainingSeconds: Double
        /// The validation questions' metrics without and with the adapter chosen.
        public var before: [String: Double]?
        public var after: [String: Double]?
    }

    /// The training pairs (question vector, closest chunk vector of each relevant document), as
    /// row-major matrices with `count` rows. Cosine collections compare unit-length vectors.
    public static func trainingPairs(
        _ collection: DocumentCollection, queries: [BEIRDataset.Query], judgments: RelevanceJudgments
    ) throws -> (queries: [Float], targets: [Float], count: Int) {
        let byID = Dictionary(queries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let d = collection.dimension
        var x: [Float] = [], y: [Float] = [], count = 0
        for id in judgments.queryIDs {
            guard let query = byID[id], let vector = query.embedding else {
                throw VectorSearchError.invalidArgument("judged query \"\(id)\" has no embedding")
            }
            guard vector.count == d else { throw VectorSearchError.dimensionMismatch(expected: d, actual: vector.count, row: nil) }
            let q = collection.metric == .cosine ? normalized(vector) : vector
            for (document, score) in judgments.judgments[id]!.sorted(by: { $0.key < $1.key }) where score >= 1 {
                let chunks = try collection.chunkVectors(ofDocument: document).map { collection.metric == .cosine ? normalized($0) : $0 }
                guard let best = chunks.max(by: { dot(q, $0) < dot(q, $1) }) else { continue }
                x += q
                y += best
                count += 1
            }
        }
        guard count > 0 else { throw VectorSearchError.invalidArgument("no judged question has a relevant document in the collection") }
        return (x, y, count)
    }

    /// Fits the candidates on `train` and, given `validation` judgments, keeps the best by
    /// ``selection`` on those questions (all queries carry their embeddings); without them, fits
    /// one default of the method (contrastive for `auto`). Nothing is stored:
    /// ``DocumentCollection/setQueryAdapter(_:)`` stores the result's adapter.
    public func tune(
        _ collection: DocumentCollection, train: RelevanceJudgments, validation: RelevanceJudgments?, queries: [BEIRDataset.Query],
        progress: ((String) -> Void)? = nil
    ) throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        let seconds = { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let (x, y, count) = try Self.trainingPairs(collection, queries: queries, judgments: train)
        let d = collection.dimension
        progress?("\(count) training pairs")
        var fitted: [(String, QueryAdapter, Double)] = []
        func fit(_ description: String, _ make: () throws -> QueryAdapter) throws {
            let begin = seconds()
            fitted.append((description, try make(), seconds() - begin))
            progress?("fitted \(description) in \(String(format: "%.2f", fitted.last!.2)) s")
        }
        // Without validation questions there is nothing to choose by: one default per method
        // (ridge λ 10; contrastive τ 0.05, batches of 64, 5 epochs).
        let validating = validation != nil
        if method == .ridge || (method == .auto && validating) {
            for lambda in validating ? ridgeLambdas : [10] {
                try fit("ridge λ=\(lambda)") { try QueryAdapterFitting.ridge(queries: x, targets: y, dimension: d, lambda: lambda) }
            }
        }
        if method == .procrustes || (method == .auto && validating) {
            try fit("procrustes") { try QueryAdapterFitting.procrustes(queries: x, targets: y, dimension: d) }
        }
        if method == .auto || method == .contrastive {
            for temperature in validating ? contrastiveTemperatures : [0.05] {
                for batchSize in validating ? contrastiveBatchSizes : [64] {
                    for epochs in validating ? contrastiveEpochs : [5] {
                        try fit("contrastive τ=\(temperature) batch=\(batchSize) epochs=\(epochs)") {
                            try QueryAdapterFitting.contrastive(
                                queries: x, targets: y, dimension: d,
                                settings: .init(temperature: temperature, epochs: epochs, batchSize: batchSize))
                        }
                    }
                }
            }
        }
        let trainingSeconds = seconds()
        guard let validation else {
            return Result(
                adapter: fitted[0].1, candidates: fitted.map { Candidate(description: $0.0, validation: nil, seconds: $0.2) }, pairs: count,
                trainingSeconds: trainingSeconds)
        }
        // Only as deep as the selection metric needs: each candidate's validation is a full pass.
        let evaluator = try RetrievalEvaluator(cutoffs: [selection.cutoff], permutations: 1)
        func score(_ adapter: QueryAdapter?) throws -> [String: Double] {
            let adapted = try queries.map { query in
                var query = query
                if let adapter, let vector = query.embedding { query.embedding = try adapter.apply(vector) }
                return query
            }
            let options = RetrievalOptions(adapter: false)
            return try evaluator.evaluate(
                collection, queries: adapted, judgments: validation,
                configurations: [EvaluationConfiguration(name: "validation", retrieval: options)]
            ).configurations[0].means
        }
        let before = try score(nil)
        var candidates: [Candidate] = []
        var best: (adapter: QueryAdapter, metrics: [String: Double])?
        for (description, adapter, time) in fitted {
            let metrics = try score(adapter)
            candidates.append(Candidate(description: description, validation: metrics[selection.description], seconds: time))
            progress?("\(description): \(selection) \(String(format: "%.4f", metrics[selection.description]!)) on the validation questions")
            if metrics[selection.description]! > (best?.metrics ?? before)[selection.description]! { best = (adapter, metrics) }
        }
        return Result(
            adapter: best?.adapter, candidates: candidates, pairs: count, trainingSeconds: trainingSeconds, before: before,
            after: best?.metrics ?? before)
    }

    private static func dot(_ a: [Float], _ b: [Float]) -> Float { Distance.innerProduct(a, b) }

    private static func normalized(_ v: [Float]) -> [Float] {
        let norm = Distance.norm(v)
        return norm > 0 ? v.map { $0 / norm } : v
    }
}
