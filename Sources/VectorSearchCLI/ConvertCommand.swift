import ArgumentParser
import Foundation
import VectorSearch
import VectorSearchHDF5

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert between HDF5 (ann-benchmarks layout), fvecs/bvecs/ivecs, fbin/ibin, npy and JSONL.",
        discussion: """
            One matrix: --input A --output B, formats from the extensions. From an HDF5 file, \
            --dataset picks the dataset (train, test, neighbors or distances; default train).

            A whole ann-benchmarks file: --base B --queries Q --metric M --output F.hdf5 writes \
            train, test, neighbors, distances and the distance attribute (euclidean, angular; dot \
            for ip). --groundtruth G supplies the neighbours; without it the exact top --k are \
            computed here.
            """)

    @Option(help: "One matrix to convert.") var input: String?
    @Option(help: "The HDF5 dataset to read with --input F.hdf5.") var dataset = "train"
    @Option(help: "Base vectors for an ann-benchmarks HDF5 file.") var base: String?
    @Option(help: "Query vectors for an ann-benchmarks HDF5 file.") var queries: String?
    @Option(help: "Exact neighbours (row numbers of the base) for an ann-benchmarks HDF5 file.") var groundtruth: String?
    @Option(help: "Metric of an ann-benchmarks HDF5 file: l2 (euclidean), cosine (angular) or ip (dot).") var metric: Metric?
    @Option(help: "Neighbours per query to compute when no --groundtruth is given.") var k = 100
    @Option(help: "Threads for computing neighbours (default: every core).") var threads: Int?
    @Option(help: "Output file; .hdf5 (or .h5) for HDF5.") var output: String

    func validate() throws {
        if input != nil {
            guard base == nil, queries == nil, groundtruth == nil, metric == nil else {
                throw ValidationError("give --input (one matrix) or --base/--queries/--metric (an ann-benchmarks file), not both")
            }
        } else {
            guard base != nil, queries != nil, metric != nil else {
                throw ValidationError("give --input, or --base, --queries and --metric for an ann-benchmarks HDF5 file")
            }
            guard Self.isHDF5(output) else { throw ValidationError("--base/--queries write an ann-benchmarks file: --output must end in .hdf5 or .h5") }
            guard k >= 1 else { throw ValidationError("--k must be at least 1") }
        }
    }

    static func isHDF5(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".hdf5") || lower.hasSuffix(".h5")
    }

    func run() throws {
        if let input { try convertMatrix(input) } else { try writeDataset() }
    }

    private func convertMatrix(_ input: String) throws {
        let inputIsHDF5 = Self.isHDF5(input), outputIsHDF5 = Self.isHDF5(output)
        if outputIsHDF5 {
            // One matrix into an HDF5 file, under --dataset (written aside, then renamed into place).
            if EmbeddingFormat(path: input)?.holdsIntegers == true {
                let matrix = try EmbeddingFile.readIntegers(input)
                try AtomicFile.replace(output) { temporary in
                    try HDF5File.create(temporary).write(matrix.values, rows: matrix.count, columns: matrix.dimension, to: dataset)
                }
                status("wrote \(matrix.count) × \(matrix.dimension) int32 to \(output):\(dataset)")
            } else {
                let vectors = try EmbeddingFile.read(input).vectors
                try AtomicFile.replace(output) { temporary in
                    try HDF5File.create(temporary).write(vectors.values, rows: vectors.count, columns: vectors.dimension, to: dataset)
                }
                status("wrote \(vectors.count) × \(vectors.dimension) float32 to \(output):\(dataset)")
            }
            return
        }
        guard let format = EmbeddingFormat(path: output) else {
            throw CLIError(
                "\(output): unknown extension; use .hdf5, .h5 or one of \(EmbeddingFormat.allCases.map { "." + $0.rawValue }.joined(separator: ", "))")
        }
        if format.holdsIntegers {
            let matrix: IntegerMatrix
            if inputIsHDF5 {
                let read = try HDF5File.open(input).readInt32s(dataset)
                matrix = try IntegerMatrix(dimension: read.columns, values: read.values)
            } else {
                matrix = try EmbeddingFile.readIntegers(input)
            }
            try EmbeddingFile.write(matrix, to: output)
            status("wrote \(matrix.count) × \(matrix.dimension) integers to \(output)")
        } else {
            let vectors: VectorMatrix
            if inputIsHDF5 {
                let read = try HDF5File.open(input).readFloats(dataset)
                vectors = try VectorMatrix(dimension: read.columns, values: read.values)
            } else {
                vectors = try EmbeddingFile.read(input).vectors
            }
            try EmbeddingFile.write(vectors, to: output)
            status("wrote \(vectors.count) × \(vectors.dimension) vectors to \(output)")
        }
    }

    private func writeDataset() throws {
        guard let base, let queries, let metric else { return }
        let train = try EmbeddingFile.read(base).vectors, test = try EmbeddingFile.read(queries).vectors
        let neighbors: IntegerMatrix
        if let groundtruth {
            neighbors = try EmbeddingFile.readIntegers(groundtruth)
        } else {
            guard k <= train.count else { throw CLIError("--k \(k) is more than the \(train.count) base vectors") }
            neighbors = try computeGroundTruth(base: train, queries: test, metric: metric, k: k, threads: threads)
        }
        let distances = ANNBenchmarksDataset.distances(train: train, test: test, neighbors: neighbors, metric: metric)
        let dataset = try ANNBenchmarksDataset(train: train, test: test, neighbors: neighbors, distances: distances, metric: metric)
        try dataset.write(to: output)
        status(
            "wrote \(output): train \(train.count) × \(train.dimension), test \(test.count), top-\(neighbors.dimension) neighbors, distance \(ANNBenchmarksDataset.distanceName(metric))"
        )
    }
}
