import ArgumentParser
import VectorSearch

@main
struct VectorSearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorsearch",
        abstract: "Build, search and benchmark vector indexes.",
        version: VectorSearchLibrary.version,
        subcommands: [
            InfoCommand.self, GenerateCommand.self, GroundTruthCommand.self,
            BuildCommand.self, SearchCommand.self, CheckCommand.self, BenchCommand.self, KMeansCommand.self, EmbedCommand.self, ConvertCommand.self,
            RAGCommand.self,
        ]
    )
}

/// Turns library errors into one clear line and a non-zero exit instead of a stack dump.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
