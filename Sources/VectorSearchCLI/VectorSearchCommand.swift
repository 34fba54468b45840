import ArgumentParser
import VectorSearch

@main
struct VectorSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorsearch",
        abstract: "Build, search and benchmark vector indexes.",
        version: VectorSearchLibrary.version,
        subcommands: [
            InfoCommand.self, GenerateCommand.self, GroundTruthCommand.self,
            BuildCommand.self, SearchCommand.self, BenchCommand.self, KMeansCommand.self,
        ]
    )
}

/// Options shared by the commands that build an index (`build`, `bench`).
struct IndexOptions: ParsableArguments {
    @Option(help: "Index kind: flat (exact) or hnsw (graph, approximate).")
    var index: IndexKindArgument = .flat

    @Option(help: "Metric: l2 (squared Euclidean), ip (inner product) or cosine.")
    var metric: Metric = .l2

    @Option(help: "HNSW: links per node (M).")
    var m: Int = HNSWParameters.default.m

    @Option(name: .customLong("ef-construction"), help: "HNSW: candidate list size while building.")
    var efConstruction: Int = HNSWParameters.default.efConstruction

    @Option(help: "HNSW: seed of the level assignment.")
    var seed: UInt64 = HNSWParameters.default.seed

    @Flag(inversion: .prefixedNo, help: "HNSW: fill free links with the closest candidates the heuristic pruned.")
    var keepPrunedConnections = HNSWParameters.default.keepPrunedConnections

    var hnswParameters: HNSWParameters {
        get throws { try HNSWParameters(m: m, efConstruction: efConstruction, seed: seed, keepPrunedConnections: keepPrunedConnections) }
    }
}

enum IndexKindArgument: String, ExpressibleByArgument, CaseIterable {
    case flat, hnsw
}

extension Metric: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["l2", "ip", "cosine"] }
}

extension EmbeddingFormat: ExpressibleByArgument {}

/// Turns library errors into one clear line and a non-zero exit instead of a stack dump.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
