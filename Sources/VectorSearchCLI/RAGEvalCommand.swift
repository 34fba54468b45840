import ArgumentParser
import Foundation
import VectorSearch
import VectorSearchRAG

/// Labelled questions for `rag eval` and `rag tune`: the queries file and a qrels file checked
/// against the queries and the collection's documents.
struct LabelledQueries: ParsableArguments {
    @Option(help: "A collection directory.") var collection: String
    @Option(
        help: ArgumentHelp(
            #"Queries, JSON Lines in the BEIR layout: {"_id", "text"} (an "embedding" key is used instead of embedding the text)."#, valueName: "queries.jsonl")
    )
    var queries: String?

    func read(_ qrels: String, in opened: DocumentCollection) throws -> ([BEIRDataset.Query], RelevanceJudgments) {
        guard let path = self.queries else { throw ValidationError("--queries is needed with judgments") }
        let queries = try BEIRDataset.readQueries(path)
        let judgments = try BEIRDataset.readQrels(qrels, queries: Set(queries.map(\.id)), documents: Set(try opened.documentIDs))
        return (queries, judgments)
    }
}

struct RAGEvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Score retrieval against labelled questions (nDCG, MRR, recall, precision, MAP, hit rate).",
        discussion: """
            Every judged query of --qrels (BEIR layout: query-id, corpus-id, score) is embedded (the \
            built-in model, or its "embedding" key) and retrieved by each --config; a document counts \
            once, at its best chunk's rank. Metrics follow trec_eval (docs/EVALUATION.md). Each \
            configuration after the first is compared with the first by a paired randomization test.

            A configuration: comma-separated settings, filter last, e.g.
              --config name=exact,index=exact --config name=hnsw-ef32,index=hnsw,ef=32
              --config name=hybrid,hybrid --config name=mmr,mmr=0.7 --config name=adapted,adapter
              --config 'name=section2,filter={"section": {"$eq": "2"}}'
            Keys: name, index (collection, exact, hnsw, ivf: the last three built in memory over the \
            collection's chunks), ef, nprobe, rerank, m, ef-construction, nlist, candidates, hybrid, \
            mmr, adapter, filter. Default: the collection's own index, dense.
            """)

    @OptionGroup var labelled: LabelledQueries
    @Option(help: "Relevance judgments, BEIR qrels TSV (query-id, corpus-id, score).") var qrels: String
    @Option(name: .customLong("config"), help: "A configuration to score (repeat; see above).") var configs: [String] = []
    @Option(help: "Metric cutoffs, comma-separated.") var cutoffs: String = "1,3,5,10,100"
    @Option(help: "nDCG gain: linear (trec_eval) or exponential (2^score - 1).") var gain: String = "linear"
    @Option(help: "Random sign flips of the paired significance test.") var permutations: Int = 10_000
    @Option(help: "Write the report as JSON (schema vectorsearch-rag-eval/1) to this file.") var json: String?
    @Option(help: "Write every configuration's ranked documents as a TREC run file (qid Q0 docid rank score tag).") var run: String?
    @Option(help: "An earlier JSON report: flag the metrics that moved beyond noise since (paired test, p < 0.05).") var compare: String?
    @OptionGroup var endpoints: EndpointOptions

    func run() async throws {
        let cutoffs = try self.cutoffs.split(separator: ",").map { text in
            guard let cutoff = Int(text.trimmingCharacters(in: .whitespaces)), cutoff >= 1 else {
                throw CLIError("--cutoffs: '\(text)' is not a positive integer")
            }
            return cutoff
        }
        guard let gain = RelevanceGain(rawValue: gain) else { throw CLIError("--gain is linear or exponential") }
        let evaluator = try RetrievalEvaluator(cutoffs: cutoffs, gain: gain, permutations: permutations)
        let configurations = try configs.isEmpty ? [EvaluationConfiguration(name: "dense")] : configs.map(EvaluationConfiguration.init(parsing:))
        let previous = try compare.map { path in
            do {
                return try JSONDecoder().decode(EvaluationReport.self, from: Data(try RegularFile.readAll(path)))
            } catch let error as DecodingError {
                throw CLIError("\(path): not a rag eval report: \(error)")
            }
        }
        let collection = try openCollection(labelled.collection)
        let (queries, judgments) = try labelled.read(qrels, in: collection)
        let report = try await evaluator.evaluate(
            collection, queries: queries, judgments: judgments, configurations: configurations,
            embedder: try endpoints.embedder(dimension: collection.dimension), progress: status)
        StandardOutput.print(Self.table(report, cutoffs: evaluator.cutoffs))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(Array(try encoder.encode(report)) + [UInt8(ascii: "\n")], to: json)
        }
        if let run { try AtomicFile.write(Array(report.runFile().utf8), to: run) }
        if let previous {
            let drifts = report.drift(from: previous, permutations: permutations).filter(\.significant)
            StandardOutput.print(drifts.isEmpty ? "\nno metric moved beyond noise since \(compare!)" : "\nmoved beyond noise since \(compare!) (p < 0.05):")
            for drift in drifts {
                StandardOutput.print(
                    String(format: "  %@ %@: %.4f -> %.4f (p = %.4f)", drift.configuration, drift.metric, drift.before, drift.after, drift.pValue))
            }
        }
    }

    /// The headline metrics at cutoff 10 (or the largest below it) and recall at the largest,
    /// latency, ANN recall, and p-values against the first configuration.
    static func table(_ report: EvaluationReport, cutoffs: [Int]) -> String {
        let c = cutoffs.last { $0 <= 10 } ?? cutoffs[0], last = cutoffs.last!
        var metrics = ["ndcg@\(c)", "mrr@\(c)", "recall@\(c)", "map@\(c)", "hit_rate@1"].filter { report.metrics.contains($0) }
        if last != c { metrics.append("recall@\(last)") }
        let width = max(13, report.configurations.map(\.name.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func left(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        var lines = ["\(report.queries) queries"]
        lines.append(
            pad("configuration", width) + metrics.map { left($0, 11) }.joined() + left("p50 ms", 9) + left("p99 ms", 9) + left("ann@\(report.annRecallK)", 8)
                + left("p(ndcg@\(c))", 13) + left("p(mrr@\(c))", 12))
        for result in report.configurations {
            let comparison = report.comparisons.first { $0.configuration == result.name }
            lines.append(
                pad(result.name, width) + metrics.map { left(String(format: "%.4f", result.means[$0] ?? 0), 11) }.joined()
                    + left(String(format: "%.2f", result.latency.p50), 9) + left(String(format: "%.2f", result.latency.p99), 9)
                    + left(result.annRecall.map { String(format: "%.4f", $0) } ?? "-", 8)
                    + left(comparison?.pValues["ndcg@\(c)"].map { String(format: "%.4f", $0) } ?? "-", 13)
                    + left(comparison?.pValues["mrr@\(c)"].map { String(format: "%.4f", $0) } ?? "-", 12))
        }
        for result in report.configurations { lines.append("  \(result.name): \(result.settings)") }
        return lines.joined(separator: "\n")
    }
}

struct RAGTuneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune", abstract: "Fit a query adapter from labelled questions and store it in the collection.",
        discussion: """
            The adapter is a linear map W (d×d) applied to every query vector (query · W); the \
            documents' vectors are untouched, so nothing is re-indexed. It is fitted on pairs of a \
            judged question and the closest chunk of its relevant document: ridge least squares \
            towards the identity (LAPACK sposv), orthogonal Procrustes (LAPACK sgesdd) and a \
            contrastive refinement with in-batch negatives; --method auto tries them all and keeps \
            the best by nDCG@10 on --validate (none is stored when none beats the plain queries). \
            rag tune --remove takes the adapter away.
            """)

    @OptionGroup var labelled: LabelledQueries
    @Option(help: "Training judgments, BEIR qrels TSV.") var qrels: String?
    @Option(name: .customLong("validate"), help: "Validation judgments (choose among candidates; before/after metrics).")
    var validation: String?
    @Option(help: "auto, ridge, procrustes or contrastive.") var method: String = "auto"
    @Flag(help: "Fit and report, but do not store the adapter.") var dryRun = false
    @Flag(help: "Remove the collection's adapter.") var remove = false
    @Option(
        name: .customLong("import"),
        help: ArgumentHelp(
            "Store this d×d matrix (npy, fvecs, fbin: d rows of d) as the adapter, applied as query · W, instead of fitting one.", valueName: "file"))
    var importFile: String?
    @OptionGroup var endpoints: EndpointOptions

    func validate() throws {
        if remove || importFile != nil, qrels != nil || validation != nil { throw ValidationError("--remove and --import take no judgments") }
        if remove, importFile != nil { throw ValidationError("--remove or --import, not both") }
        if !remove, importFile == nil, qrels == nil { throw ValidationError("--qrels (training judgments) is needed") }
        guard AdapterTuning.Method(rawValue: method) != nil else { throw ValidationError("--method is auto, ridge, procrustes or contrastive") }
    }

    func run() async throws {
        let collection = try openCollection(labelled.collection)
        if remove {
            try collection.setQueryAdapter(nil)
            status("\(labelled.collection): query adapter removed")
            return
        }
        if let importFile {
            let rows = try EmbeddingFile.read(importFile).vectors
            guard rows.count == collection.dimension, rows.dimension == collection.dimension else {
                throw CLIError(
                    "\(importFile): an adapter for this collection is \(collection.dimension)×\(collection.dimension); the file holds \(rows.count)×\(rows.dimension)"
                )
            }
            var matrix: [Float] = []
            for row in 0..<rows.count { matrix += rows[row] }
            try collection.setQueryAdapter(try QueryAdapter(dimension: collection.dimension, matrix: matrix, method: "imported"))
            status("\(labelled.collection): stored the adapter of \(importFile)")
            return
        }
        let (queries, train) = try labelled.read(qrels!, in: collection)
        let validation = try self.validation.map { try BEIRDataset.readQrels($0, queries: Set(queries.map(\.id)), documents: Set(try collection.documentIDs)) }
        // Embed the judged questions of both splits once.
        let wanted = Set(train.judgments.keys).union(validation?.judgments.keys ?? [:].keys)
        var judged = queries.filter { wanted.contains($0.id) }
        let missing = judged.indices.filter { judged[$0].embedding == nil }
        if !missing.isEmpty {
            let vectors = try await endpoints.embedder(dimension: collection.dimension).embed(missing.map { judged[$0].text })
            for (i, vector) in zip(missing, vectors) { judged[i].embedding = vector }
        }
        let tuning = AdapterTuning(method: AdapterTuning.Method(rawValue: method)!)
        let result = try tuning.tune(collection, train: train, validation: validation, queries: judged, progress: status)
        StandardOutput.print(String(format: "%d training pairs; fitted %d candidates in %.2f s", result.pairs, result.candidates.count, result.trainingSeconds))
        for candidate in result.candidates {
            StandardOutput.print(
                "  \(candidate.description): "
                    + (candidate.validation.map { String(format: "validation %@ %.4f", tuning.selection.description, $0) } ?? "not validated"))
        }
        if let before = result.before, let after = result.after {
            for metric in ["ndcg@10", "mrr@10", "recall@10", "precision@10", "map@10", "hit_rate@10"] where before[metric] != nil {
                StandardOutput.print(String(format: "validation %@: %.4f -> %.4f", metric, before[metric]!, after[metric]!))
            }
        }
        guard let adapter = result.adapter else {
            StandardOutput.print("no candidate beat the plain queries on the validation questions: nothing stored")
            return
        }
        if dryRun {
            StandardOutput.print("chosen: \(adapter.method) (not stored: --dry-run)")
        } else {
            try collection.setQueryAdapter(adapter)
            StandardOutput.print("stored: \(adapter.method) (λ \(adapter.regularization)); every query of \(labelled.collection) now goes through it")
        }
    }
}
