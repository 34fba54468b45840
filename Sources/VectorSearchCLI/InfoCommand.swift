import ArgumentParser
import VectorSearch

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print the version, SIMD level, BLAS library and thread count.")

    func run() throws {
        print("vectorsearch \(VectorSearchLibrary.version)")
        print("simd:    \(SIMDLevel.detected.displayName)")
        print("         supported here: \(SIMDLevel.supported.map(\.rawValue).joined(separator: ", "))")
        print("blas:    \(BLAS.libraryPath ?? "unknown")")
        if let config = BLAS.openBLASConfig { print("         \(config)") }
        print("threads: \(VectorSearchLibrary.coreCount) cores\(BLAS.threads.map { ", OpenBLAS \($0) threads" } ?? "")")
    }
}
