import ArgumentParser
import Foundation
import VectorSearch
import VectorSearchServer

@main
enum Main {
    static func main() {
        // `serve` runs its tasks on the server's event loops; that must be set before any task starts.
        if CommandLine.arguments.dropFirst().first == "serve" { _ = SearchServer.runConcurrencyOnEventLoops() }
        Task {
            await VectorSearchCommand.main()
            exit(0)
        }
        dispatchMain()
    }
}

struct VectorSearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorsearch",
        abstract: "Build, search and benchmark vector indexes.",
        version: VectorSearchLibrary.version,
        subcommands: [
            InfoCommand.self, GenerateCommand.self, GroundTruthCommand.self,
            BuildCommand.self, SearchCommand.self, CheckCommand.self, BenchCommand.self, KMeansCommand.self, EmbedCommand.self, ConvertCommand.self,
            RAGCommand.self, ServeCommand.self,
        ]
    )
}

/// Turns library errors into one clear line and a non-zero exit instead of a stack dump.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
