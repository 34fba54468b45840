import ArgumentParser
import VectorSearch

struct KMeansCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmeans", abstract: "Cluster the vectors of a file with k-means (L2) and write the centroids.",
        discussion: "Trains on a random sample of at most k × --max-points-per-centroid rows; prints the objective per iteration on stderr.")

    @Option(help: "Embedding file (fvecs, bvecs, fbin, npy, jsonl).") var input: String
    @Option(parsing: .unconditional, help: "Number of centroids.") var k: Int
    @Option(help: "Lloyd iterations.") var iterations: Int = 25
    @Option(name: .customLong("max-points-per-centroid"), help: "Training sample cap per centroid.") var maxPointsPerCentroid: Int = 256
    @Option(help: "Start: random or kmeans++.") var initialization: KMeansInitialization = .random
    @Flag(help: "Spherical k-means: unit-length centroids (for normalised embeddings compared by cosine).") var spherical = false
    @Option(help: "Random seed (same seed, same centroids).") var seed: UInt64 = 1234
    @Option(help: "Threads (default: every core).") var threads: Int?
    @Option(help: "Where to write the centroids (.fvecs, .fbin, .npy or .jsonl).") var output: String

    func run() throws {
        let data = try EmbeddingFile.read(input).vectors
        let parameters = try KMeansParameters(
            k: k, iterations: iterations, maxPointsPerCentroid: maxPointsPerCentroid, initialization: initialization, seed: seed,
            spherical: spherical)
        let start = monotonicSeconds()
        let result = try KMeans.train(data, parameters: parameters, threads: threads) { iteration, inertia in
            status(String(format: "iteration %d/%d: objective %.6g", iteration, parameters.iterations, inertia))
        }
        try EmbeddingFile.write(result.centroids, to: output)
        if result.converged { status("converged after \(result.inertia.count) of \(parameters.iterations) iterations: no point changed its centroid") }
        status(
            String(
                format: "wrote %d centroids of dimension %d to %@ (trained on %d of %d rows in %.2fs)",
                result.centroids.count, data.dimension, output, result.trainingCount, data.count, monotonicSeconds() - start))
    }
}

extension KMeansInitialization: ExpressibleByArgument {}
