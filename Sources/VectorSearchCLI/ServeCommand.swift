import ArgumentParser
import Foundation
import VectorSearch
import VectorSearchEmbeddings
import VectorSearchServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve an index or a collection over HTTP/JSON (docs/API.md).",
        discussion: """
            Endpoints: POST /v1/search, POST /v1/documents and DELETE /v1/documents/{id} (collections), \
            GET /v1/info, /v1/health, /metrics (Prometheus) and /openapi.json. Prints the address once it \
            listens; SIGTERM or Ctrl-C stops it after answering the requests in flight. With an API key \
            (--api-key-file, or $VECTORSEARCH_API_KEY) every endpoint but /v1/health needs \
            "Authorization: Bearer <key>".
            """)

    @Option(help: "An index file to serve.") var index: String?
    @Option(help: "A collection directory to serve (text queries and document upserts use the built-in model).") var collection: String?
    @Option(
        help: ArgumentHelp(
            "Route to these shard servers (each `serve --index SHARD` of one `build --shard I/N`), merging their answers.", valueName: "url,url,..."))
    var shards: String?
    @Option(name: .customLong("shard-timeout"), help: "Milliseconds a shard has to answer before the answer is partial.")
    var shardTimeout = 2000
    @Option(help: "The address to bind (127.0.0.1: this machine only; 0.0.0.0: every interface).") var host = "127.0.0.1"
    @Option(help: "The port (0: any free one).") var port = 8080
    @Option(
        name: .customLong("api-key-file"),
        help: ArgumentHelp("A file holding the API key clients must send (default: $VECTORSEARCH_API_KEY, else none).", valueName: "file"))
    var apiKeyFile: String?
    @Flag(help: "Open the index memory-mapped.") var mmap = false
    @Option(help: "The built-in embedder's model directory (collections).") var model: String?
    @Option(name: .customLong("max-k"), help: "Largest k a request may ask for.") var maxK = ServerLimits.default.maxK
    @Option(name: .customLong("max-batch"), help: "Most query vectors in one request.") var maxBatch = ServerLimits.default.maxBatch
    @Option(name: .customLong("max-body"), help: "Largest request body in bytes.") var maxBody = ServerLimits.default.maxBodyBytes
    @Option(name: .customLong("max-documents"), help: "Most documents in one upsert.") var maxDocuments = ServerLimits.default.maxDocuments

    func validate() throws {
        if [index, collection, shards].compactMap({ $0 }).count != 1 { throw ValidationError("give one of --index, --collection and --shards") }
        guard shardTimeout >= 1 else { throw ValidationError("--shard-timeout must be positive") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxK >= 1, maxBatch >= 1, maxBody >= 1, maxDocuments >= 1 else {
            throw ValidationError("--max-k, --max-batch, --max-body and --max-documents must be positive")
        }
        if mmap, index == nil { throw ValidationError("--mmap goes with --index") }
    }

    func run() async throws {
        let limits = ServerLimits(maxBodyBytes: maxBody, maxK: maxK, maxBatch: maxBatch, maxDocuments: maxDocuments)
        let start = monotonicSeconds()
        let key = try apiKey()
        let service: SearchService
        if let index {
            service = try SearchService(indexAt: index, mode: mmap ? .mapped : .copy, limits: limits)
        } else if let collection {
            service = try SearchService(collectionAt: collection, modelDirectory: model ?? SentenceEmbedder.defaultDirectory, limits: limits)
        } else {
            let urls = shards!.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let router = try await ShardedSearch.connect(urls, apiKey: key, timeout: .milliseconds(shardTimeout))
            service = SearchService(router: router, limits: limits)
        }
        let opened = monotonicSeconds() - start
        let configuration = ServerConfiguration(host: host, port: port, apiKey: key)
        let what = index ?? collection ?? "\(shards!.split(separator: ",").count) shards"
        try await SearchServer.run(service, configuration: configuration) { address in
            // The one line scripts wait for.
            StandardOutput.print(
                String(format: "listening on %@ (%@ opened in %.2f s%@)", address, what, opened, configuration.apiKey == nil ? "" : "; API key required"))
            fflush(nil)
        }
        status("stopped")
    }

    func apiKey() throws -> String? {
        let key: String?
        if let apiKeyFile {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: apiKeyFile))
            } catch {
                throw CLIError("--api-key-file \(apiKeyFile): cannot read: \(error.localizedDescription)")
            }
            key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            key = ProcessInfo.processInfo.environment["VECTORSEARCH_API_KEY"]
        }
        if let key, key.isEmpty { throw CLIError("the API key is empty (\(apiKeyFile ?? "$VECTORSEARCH_API_KEY"))") }
        return key
    }
}
