import Foundation
import Testing
import TestSupport
import VectorSearch
import VectorSearchRAG

func endpoint(_ server: TestHTTPServer, path: String = "", apiKey: String? = nil, timeout: Double = 10, retries: Int = 3) throws -> OpenAIEndpoint {
    try OpenAIEndpoint(
        baseURL: URL(string: server.url.absoluteString + path)!, model: "test-model", apiKey: apiKey, timeout: timeout,
        maxRetries: retries, initialBackoff: 0.01)
}

/// The error `body` throws (nil if it throws none or another kind).
func endpointError(_ body: () async throws -> Void) async -> EndpointError? {
    do {
        try await body()
        return nil
    } catch let error as EndpointError {
        return error
    } catch {
        return nil
    }
}

@Suite("OpenAI-compatible endpoints against a real HTTP server on 127.0.0.1")
struct EndpointTests {
    @Test("embeddings: batched requests with model and key, answers put back in input order")
    func embeddings() async throws {
        let server = try TestHTTPServer { request, _ in embeddingsResponse(request) }
        defer { server.stop() }
        let embedder = try OpenAIEmbedder(endpoint: try endpoint(server, apiKey: "sk-test"), batchSize: 2)
        let texts = ["alpha", "be", "gamma ray", "δ", "epsilon"]
        let vectors = try await embedder.embed(texts)
        #expect(vectors == texts.map(fakeEmbedding))
        let requests = server.requests
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.method == "POST" && $0.path == "/v1/embeddings" })
        #expect(requests.allSatisfy { $0.headers["authorization"] == "Bearer sk-test" })
        #expect(requests.map { $0.json?["input"] as? [String] ?? [] } == [["alpha", "be"], ["gamma ray", "δ"], ["epsilon"]])
        #expect(requests.allSatisfy { $0.json?["model"] as? String == "test-model" })
        #expect(try await embedder.embed([]).isEmpty)
        #expect(server.requests.count == 3, "no request for no texts")
    }

    @Test("the base URL may end in /v1 or in the whole path")
    func baseURLForms() async throws {
        let server = try TestHTTPServer { request, _ in
            request.path == "/v1/embeddings" ? embeddingsResponse(request) : .init(status: 404, text: "not found")
        }
        defer { server.stop() }
        for path in ["", "/", "/v1", "/v1/", "/v1/embeddings"] {
            let vectors = try await OpenAIEmbedder(endpoint: try endpoint(server, path: path)).embed(["x"])
            #expect(vectors == [fakeEmbedding("x")], "base \(path)")
        }
        #expect(server.requests.allSatisfy { $0.headers["authorization"] == nil })
    }

    @Test("429 then success is retried, honouring Retry-After; a 500 that persists fails after the retries")
    func retries() async throws {
        let flaky = try TestHTTPServer { request, number in
            number == 0
                ? .init(status: 429, json: ["error": ["message": "slow down"]], headers: ["Retry-After": "0"])
                : number == 1 ? .init(status: 503, text: "busy") : embeddingsResponse(request)
        }
        defer { flaky.stop() }
        #expect(try await OpenAIEmbedder(endpoint: try endpoint(flaky)).embed(["a", "bb"]) == [fakeEmbedding("a"), fakeEmbedding("bb")])
        #expect(flaky.requests.count == 3)

        let broken = try TestHTTPServer { _, _ in .init(status: 500, json: ["error": ["message": "model crashed"]]) }
        defer { broken.stop() }
        let error = await endpointError { _ = try await OpenAIEmbedder(endpoint: try endpoint(broken, retries: 2)).embed(["a"]) }
        guard case let .badStatus(url, status, attempts, message) = error else {
            Issue.record("expected badStatus, got \(String(describing: error))")
            return
        }
        #expect(url == broken.url.absoluteString + "/v1/embeddings")
        #expect(status == 500 && attempts == 3 && message == "model crashed")
        #expect(broken.requests.count == 3)
        #expect(error!.description.contains("HTTP 500 after 3 attempts: model crashed"))

        // A client error is not retried.
        let refusing = try TestHTTPServer { _, _ in .init(status: 401, json: ["error": ["message": "invalid api key"]]) }
        defer { refusing.stop() }
        let refused = await endpointError { _ = try await OpenAIEmbedder(endpoint: try endpoint(refusing)).embed(["a"]) }
        #expect(refused == .badStatus(url: refusing.url.absoluteString + "/v1/embeddings", status: 401, attempts: 1, message: "invalid api key"))
        #expect(refusing.requests.count == 1)
    }

    @Test("a server slower than the timeout gives timedOut; a closed port gives unreachable")
    func timeoutAndUnreachable() async throws {
        let slow = try TestHTTPServer { request, _ in
            var response = embeddingsResponse(request)
            response.delay = 30
            return response
        }
        defer { slow.stop() }
        let start = Date()
        // 0.4 s is rounded up to a whole second (what URLSession on Linux can wait). The server would
        // answer after 30 s: an error other than timedOut, or none, means the timeout did not work.
        let error = await endpointError { _ = try await OpenAIEmbedder(endpoint: try endpoint(slow, timeout: 0.4)).embed(["a"]) }
        #expect(error == .timedOut(url: slow.url.absoluteString + "/v1/embeddings", seconds: 1))
        let waited = Date().timeIntervalSince(start)
        #expect(waited > 0.9, "waited \(waited) s")

        slow.stop()
        let closed = try ClosedPort()
        let base = try OpenAIEndpoint(baseURL: closed.url, model: "test-model", timeout: 10, maxRetries: 3)
        let unreachable = await endpointError { _ = try await OpenAIEmbedder(endpoint: base).embed(["a"]) }
        withExtendedLifetime(closed) {}
        guard case .unreachable(let url, _) = unreachable else {
            Issue.record("expected unreachable, got \(String(describing: unreachable))")
            return
        }
        #expect(url.hasSuffix("/v1/embeddings"))
    }

    @Test("malformed answers and wrong dimensions are refused with what is wrong")
    func badAnswers() async throws {
        let cases: [(TestHTTPServer.Response, String)] = [
            (.init(text: "<html>gateway</html>"), "not valid JSON"),
            (.init(json: ["object": "list"]), "no \"data\""),
            (.init(json: ["data": [["embedding": "zero"]]]), "unexpected value at .data[0].embedding"),
            (.init(json: ["data": []]), "0 embeddings for 1 texts"),
            (.init(json: ["data": [["index": 4, "embedding": [1.0]]]]), "embedding index 4 is out of range"),
        ]
        for (response, expected) in cases {
            let server = try TestHTTPServer { _, _ in response }
            defer { server.stop() }
            let error = await endpointError { _ = try await OpenAIEmbedder(endpoint: try endpoint(server)).embed(["a"]) }
            guard case .malformedResponse(_, let reason) = error else {
                Issue.record("expected malformedResponse for \(expected), got \(String(describing: error))")
                continue
            }
            #expect(reason.contains(expected), "\(reason)")
        }

        // The second text's vector is shorter than the first's.
        let ragged = try TestHTTPServer { request, _ in embeddingsResponse(request) { $0 == 1 ? 2 : 3 } }
        defer { ragged.stop() }
        let raggedError = await endpointError { _ = try await OpenAIEmbedder(endpoint: try endpoint(ragged)).embed(["a", "b", "c"]) }
        #expect(raggedError == .wrongDimension(url: ragged.url.absoluteString + "/v1/embeddings", expected: 3, actual: 2, text: 1))
        // A dimension fixed in advance, checked from the first batch on (text 2 is in the second).
        let server = try TestHTTPServer { request, _ in embeddingsResponse(request) }
        defer { server.stop() }
        let fixed = try OpenAIEmbedder(endpoint: try endpoint(server), batchSize: 2, dimension: 4)
        let fixedError = await endpointError { _ = try await fixed.embed(["a", "b", "c"]) }
        #expect(fixedError == .wrongDimension(url: server.url.absoluteString + "/v1/embeddings", expected: 4, actual: 3, text: 0))
        #expect(fixedError!.description.contains("embedding of text 0 has 3 components, expected 4"))
    }

    @Test("bad configuration is refused")
    func configuration() throws {
        #expect(throws: VectorSearchError.self) { try OpenAIEndpoint(baseURL: URL(string: "ftp://example.com")!, model: "m") }
        #expect(throws: VectorSearchError.self) { try OpenAIEndpoint(baseURL: URL(string: "http://localhost:1")!, model: "") }
        #expect(throws: VectorSearchError.self) { try OpenAIEndpoint(baseURL: URL(string: "http://localhost:1")!, model: "m", timeout: 0) }
        let ok = try OpenAIEndpoint(baseURL: URL(string: "http://localhost:1")!, model: "m", apiKey: nil)
        #expect(throws: VectorSearchError.self) { try OpenAIEmbedder(endpoint: ok, batchSize: 0) }
        #expect(OpenAIEndpoint.apiKey(fromEnvironment: "VECTORSEARCH_TEST_UNSET_VARIABLE") == nil)
    }

    @Test("chat completions: system and user messages, retry on 429, the answer keeps its sources; bad answers refused")
    func generator() async throws {
        let server = try TestHTTPServer { request, number in
            guard request.path == "/v1/chat/completions" else { return .init(status: 404, text: "no") }
            if number == 0 { return .init(status: 429, text: "rate limited") }
            let messages = request.json?["messages"] as? [[String: Any]] ?? []
            return chatResponse("echo: " + (messages.last?["content"] as? String ?? "") + " [1]")
        }
        defer { server.stop() }
        let generator = OpenAIChatGenerator(endpoint: try endpoint(server, path: "/v1", apiKey: "k"), systemPrompt: "Be brief.", maxTokens: 64)
        let context = ContextBuilder().build(
            question: "What is Swift?",
            chunks: [
                RetrievedChunk(
                    chunkID: 0, score: 0.9, chunk: Chunk(documentID: "swift", index: 0, range: 0..<19, text: "Swift is a language"),
                    metadata: [:])
            ])
        let answer = try await generator.answer(context)
        #expect(answer.text == "echo: " + context.prompt + " [1]")
        #expect(answer.sources == context.sources && answer.sources.first?.documentID == "swift")
        let request = try #require(server.requests.last)
        let messages = request.json?["messages"] as? [[String: String]]
        #expect(messages?.map { $0["role"] ?? "" } == ["system", "user"])
        #expect(messages?.first?["content"] == "Be brief.")
        #expect(request.json?["model"] as? String == "test-model" && request.json?["max_tokens"] as? Int == 64)
        #expect(request.json?["stream"] as? Bool == false)
        #expect(request.headers["authorization"] == "Bearer k")
        #expect(server.requests.count == 2)

        for response in [TestHTTPServer.Response(json: ["choices": []]), .init(text: "{\"choices\": [")] {
            let bad = try TestHTTPServer { _, _ in response }
            defer { bad.stop() }
            let error = await endpointError { _ = try await OpenAIChatGenerator(endpoint: try endpoint(bad)).generate("hi") }
            guard case .malformedResponse = error else {
                Issue.record("expected malformedResponse, got \(String(describing: error))")
                continue
            }
        }
    }

    @Test("a collection ingested and queried through the HTTP embedder finds what the engine finds")
    func collectionThroughHTTP() async throws {
        let server = try TestHTTPServer { request, _ in embeddingsResponse(request) }
        defer { server.stop() }
        let embedder = try OpenAIEmbedder(endpoint: try endpoint(server), batchSize: 3)
        let directory = temporaryPath()
        defer { cleanup(directory) }
        let collection = try DocumentCollection.create(
            at: directory, dimension: 3, metric: .l2, index: .flat, chunker: try Chunker(size: 40, overlap: 0))
        let documents = (0..<6).map { Document(id: "d\($0)", text: String(repeating: "word\($0) ", count: 3 + 4 * $0)) }
        try await collection.add(documents, embedder: embedder)
        let chunks = try documents.map { try #require(try collection.document($0.id)).chunks }
        #expect(try collection.chunkCount == chunks.map(\.count).reduce(0, +) && collection.chunkCount > documents.count)
        // Every chunk's stored vector is the server's embedding of that chunk's text.
        for chunk in chunks.joined() {
            let hit = try collection.retrieve(vector: fakeEmbedding(chunk.text), options: RetrievalOptions(k: 1))
            #expect(hit.first?.chunk.text == chunk.text && hit.first?.score == 0)
        }
        let byText = try await collection.retrieve(text: "word3 word3", embedder: embedder, options: RetrievalOptions(k: 4))
        let byVector = try collection.retrieve(vector: fakeEmbedding("word3 word3"), options: RetrievalOptions(k: 4))
        #expect(byText == byVector && byText.count == 4)
    }
}
