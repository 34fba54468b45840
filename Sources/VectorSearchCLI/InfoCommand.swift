import ArgumentParser
import VectorSearch

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print the version, SIMD level, BLAS library and thread count.")

    func run() throws {
        StandardOutput.print("vectorsearch \(VectorSearchLibrary.version)")
        StandardOutput.print("simd:    \(SIMDLevel.detected.displayName)")
        StandardOutput.print("         supported here: \(SIMDLevel.supported.map(\.rawValue).joined(separator: ", "))")
        StandardOutput.print("blas:    \(BLAS.libraryPath ?? "unknown")")
        if let config = BLAS.openBLASConfig { StandardOutput.print("         \(config)") }
        StandardOutput.print("threads: \(VectorSearchLibrary.coreCount) cores\(BLAS.threads.map { ", OpenBLAS \($0) threads" } ?? "")")
    }
}
