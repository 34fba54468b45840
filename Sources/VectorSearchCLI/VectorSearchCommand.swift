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
            BuildCommand.self, SearchCommand.self, BenchCommand.self,
        ]
    )
}

/// Options shared by commands that pick an index kind and metric.
struct IndexOptions: ParsableArguments {
    @Option(help: "Index kind: flat (exact).")
    var index: IndexKindArgument = .flat

    @Option(help: "Metric: l2 (squared Euclidean), ip (inner product) or cosine.")
    var metric: Metric = .l2
}

enum IndexKindArgument: String, ExpressibleByArgument, CaseIterable {
    case flat
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
