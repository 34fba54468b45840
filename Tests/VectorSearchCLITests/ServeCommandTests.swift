import Foundation
import Testing
import TestSupport
import VectorSearch

@testable import VectorSearchCLI

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `vectorsearch serve` as users run it: the built executable in its own process, the address
/// it prints, a search over HTTP, the API key from the environment, and SIGTERM.
@Suite("vectorsearch serve")
struct ServeCommandTests {
    /// The `vectorsearch` executable SwiftPM built beside this test bundle (in its folder, or
    /// beside the bundle when the bundle is a folder).
    static var executable: URL {
        let bundle = Bundle.main.bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("vectorsearch") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    @Test("prints its address, answers a search, requires the key it was given, and stops cleanly on SIGTERM")
    func serveAndStop() async throws {
        let executable = Self.executable
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "no \(executable.path)")
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        try await run(["gen", "--n", "300", "--dim", "9", "--queries", "2", "--seed", "5", "--output", dir])
        try await run(["build", "--input", "\(dir)/base.fvecs", "--index", "hnsw", "--output", "\(dir)/index.vsidx"])

        let process = Process()
        process.executableURL = executable
        process.arguments = ["serve", "--index", "\(dir)/index.vsidx", "--port", "0"]
        process.environment = ProcessInfo.processInfo.environment.merging(["VECTORSEARCH_API_KEY": "key-1"]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // The first line says where it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            try #require(!chunk.isEmpty, "serve exited before printing its address")
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasPrefix("listening on http://127.0.0.1:") && text.contains("API key required"), "\(text)")
        let address = try #require(text.split(separator: " ").dropFirst(2).first.map(String.init))

        let query = try EmbeddingFile.read("\(dir)/query.fvecs").vectors[0]
        var request = URLRequest(url: try #require(URL(string: address + "/v1/search")))
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: ["vector": query, "k": 4])
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (_, refused) = try await session.data(for: request)
        #expect((refused as? HTTPURLResponse)?.statusCode == 401)
        request.setValue("Bearer key-1", forHTTPHeaderField: "Authorization")
        let (body, answered) = try await session.data(for: request)
        #expect((answered as? HTTPURLResponse)?.statusCode == 200)
        let results = try #require((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["results"] as? [[String: Any]])
        #expect(results.count == 4)

        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    @Test("refuses a command line that names nothing to serve, or both, or a bad port")
    func refusals() async throws {
        for arguments in [["serve"], ["serve", "--index", "a", "--collection", "b"], ["serve", "--index", "a", "--port", "70000"]] {
            await #expect(throws: (any Error).self, "\(arguments)") { try await run(arguments) }
        }
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        await #expect(throws: (any Error).self) { try await run(["serve", "--index", "\(dir)/missing.vsidx", "--port", "0"]) }
    }
}
