import ArgumentParser
import Foundation
import VectorSearch

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print the version, SIMD level, BLAS library and thread count; or what an index holds.",
        discussion: """
            With an INDEX: its kind, metric, dimension, count and storage, and the bytes of each part \
            (float32 vectors, codes, links, ids, attributes) in total and per vector, whether \
            each is in memory or in the memory-mapped file, and how much of a mapped part is in \
            the page cache now. The index is opened memory-mapped where \
            its kind and format allow (so this is quick on a large file) and read otherwise; \
            `vectorsearch check` verifies it.
            """)

    @Argument(help: "A saved index to describe.") var index: String?

    func run() throws {
        guard let path = index else {
            StandardOutput.print("vectorsearch \(VectorSearchLibrary.version)")
            StandardOutput.print("simd:    \(SIMDLevel.detected.displayName)")
            StandardOutput.print("         supported here: \(SIMDLevel.supported.map(\.rawValue).joined(separator: ", "))")
            StandardOutput.print("blas:    \(BLAS.libraryPath ?? "unknown")")
            if let config = BLAS.openBLASConfig { StandardOutput.print("         \(config)") }
            StandardOutput.print("threads: \(VectorSearchLibrary.coreCount) cores\(BLAS.threads.map { ", OpenBLAS \($0) threads" } ?? "")")
            return
        }
        let index: AnyIndex
        let mode: IndexLoadMode
        let start = monotonicSeconds()
        do {
            index = try AnyIndex.load(from: path, mode: .mapped)
            mode = .mapped
        } catch VectorSearchError.invalidArgument {
            index = try AnyIndex.load(from: path)  // an IVF index or an older format: read it
            mode = .copy
        }
        let openMilliseconds = (monotonicSeconds() - start) * 1000
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        StandardOutput.print(
            "\(path): \(index.kind.rawValue), \(index.metric.rawValue), dimension \(index.dimension), \(index.count) vectors, "
                + "\(index.storage.rawValue) storage; file \(Self.megabytes(fileBytes)) (opened \(mode == .mapped ? "mapped" : "copied") in \(String(format: "%.1f", openMilliseconds)) ms)"
        )
        let parts = index.memoryParts
        let perVector = { (bytes: Int) in index.count > 0 ? String(format: "%.1f", Double(bytes) / Double(index.count)) : "-" }
        let width = parts.map(\.part.count).max() ?? 0
        func row(_ cells: String...) -> String {
            cells[0].padding(toLength: width, withPad: " ", startingAt: 0)
                + cells[1...3].map { String(repeating: " ", count: max(0, 13 - $0.count)) + $0 }.joined() + "  " + cells[4]
        }
        StandardOutput.print(row("part", "bytes", "per vector", "resident", "where"))
        for part in parts {
            StandardOutput.print(
                row(part.part, "\(part.bytes)", perVector(part.bytes), "\(part.resident * 100 / max(part.bytes, 1)) %", part.mapped ? "mapped" : "memory"))
        }
        let inMemory = parts.filter { !$0.mapped }.reduce(0) { $0 + $1.bytes }
        let mapped = parts.filter(\.mapped).reduce(0) { $0 + $1.bytes }
        StandardOutput.print(
            "in memory \(Self.megabytes(inMemory)) (\(perVector(inMemory)) per vector); mapped \(Self.megabytes(mapped)) (\(perVector(mapped)) per vector)")
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Verify a saved index: every checksum, stored codes against the vectors, the graph or lists.",
        discussion: """
            Reads the whole file as a copied load does (a memory-mapped open skips these checks): \
            each section's CRC-32, every value as `add` would check it, codes encoded again from \
            the float32 vectors, and the links or lists holding together. Exits non-zero, saying \
            what is wrong, on the first problem.
            """)

    @Argument(help: "The index file to verify.") var index: String

    func run() throws {
        let loaded = try AnyIndex.load(from: index)
        StandardOutput.print(
            "\(index): ok (\(loaded.kind.rawValue), \(loaded.count) vectors of dimension \(loaded.dimension), \(loaded.storage.rawValue) storage)")
    }
}
