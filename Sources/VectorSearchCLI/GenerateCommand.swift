import ArgumentParser
import Foundation
import VectorSearch

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate a clustered synthetic dataset with exact ground truth.",
        discussion: "Writes DIR/base.fvecs, DIR/query.fvecs and DIR/groundtruth.ivecs (exact top-100, or top-n when n < 100).")

    @Option(help: "Number of base vectors.") var n: Int
    @Option(help: "Dimension.") var dim: Int
    @Option(help: "Number of Gaussian clusters.") var clusters: Int = 100
    @Option(help: "Number of query vectors.") var queries: Int = 1000
    @Option(help: "Random seed (same seed, same files).") var seed: UInt64 = 42
    @Option(help: "Metric for the ground truth: l2, ip or cosine.") var metric: Metric = .l2
    @Option(help: "Output directory (created if missing).") var output: String

    func validate() throws {
        guard n > 0, dim > 0, queries > 0, clusters > 0 else {
            throw ValidationError("--n, --dim, --queries and --clusters must be positive")
        }
    }

    func run() throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let data = try SyntheticData.clustered(
            count: n, queries: queries, dimension: dim, clusters: clusters, seed: seed)
        try EmbeddingFile.write(data.base, to: "\(output)/base.fvecs")
        try EmbeddingFile.write(data.queries, to: "\(output)/query.fvecs")
        let truth = try computeGroundTruth(base: data.base, queries: data.queries, metric: metric, k: min(100, n), threads: nil)
        try EmbeddingFile.write(truth, to: "\(output)/groundtruth.ivecs")
        status("wrote \(output)/base.fvecs (\(n)×\(dim)), query.fvecs (\(queries)), groundtruth.ivecs (top-\(truth.dimension), \(metric.rawValue))")
    }
}
