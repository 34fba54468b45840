import Foundation
import Testing
import TestSupport
import VectorSearch

@testable import VectorSearchServer

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The API over real HTTP on 127.0.0.1 (a free port): routes, the API key, limits, errors as
/// JSON, metrics and the OpenAPI document.
@Suite("HTTP server")
struct SearchServerTests {
    struct Answer {
        var status: Int
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
        var error: String? { json["error"] as? String }
    }

    /// Runs a server over `service` for the time of `body`, then stops it as SIGTERM does.
    static func withServer(
        _ service: SearchService, apiKey: String? = nil, _ body: (String) async throws -> Void
    ) async throws {
        let (addresses, ready) = AsyncStream<String>.makeStream()
        let configuration = ServerConfiguration(port: 0, apiKey: apiKey)
        let handle = SearchServer.handle(service, configuration: configuration) { ready.yield($0) }
        let server = Task { try await handle.run() }
        var iterator = addresses.makeAsyncIterator()
        let address = try #require(await iterator.next())
        do {
            try await body(address)
        } catch {
            await handle.stop()
            throw error
        }
        await handle.stop()
        try await server.value
    }

    static func request(
        _ method: String, _ url: String, body: Data? = nil, headers: [String: String] = [:]
    ) async throws -> Answer {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: request)
        return Answer(status: try #require(response as? HTTPURLResponse).statusCode, body: data)
    }

    static func body(_ object: [String: Any]) -> Data { try! JSONSerialization.data(withJSONObject: object) }

    @Test("search, info, health, metrics and the OpenAPI document over HTTP; unknown paths and big bodies answered in JSON")
    func endpoints() async throws {
        let (service, _) = try SearchServiceTests.flatService(limits: ServerLimits(maxBodyBytes: 4096))
        let vector = [Float](repeating: 0.25, count: SearchServiceTests.dimension)
        try await Self.withServer(service) { base in
            #expect(base.hasPrefix("http://127.0.0.1:"))
            let health = try await Self.request("GET", base + "/v1/health")
            #expect(health.status == 200 && health.json["status"] as? String == "ok")

            let found = try await Self.request("POST", base + "/v1/search", body: Self.body(["vector": vector, "k": 3]))
            #expect(found.status == 200)
            #expect((found.json["results"] as? [[String: Any]])?.count == 3)

            let bad = try await Self.request("POST", base + "/v1/search", body: Data("{\"vector\": [1]}".utf8))
            #expect(bad.status == 400 && bad.error?.contains("dimension") == true)

            let info = try await Self.request("GET", base + "/v1/info")
            #expect(info.status == 200 && info.json["count"] as? Int == 200)

            let missing = try await Self.request("GET", base + "/v1/nothing")
            #expect(missing.status == 404 && missing.error != nil)

            let large = try await Self.request(
                "POST", base + "/v1/search", body: Self.body(["vector": [Float](repeating: 0.123456, count: 2000)]))
            #expect(large.status == 413 && large.error?.contains("limit") == true, "\(large.status) \(large.error ?? "")")

            let wrongMethod = try await Self.request("GET", base + "/v1/search")
            #expect((400..<500).contains(wrongMethod.status) && wrongMethod.error != nil)

            let metrics = try await Self.request("GET", base + "/metrics")
            let text = String(decoding: metrics.body, as: UTF8.self)
            #expect(metrics.status == 200)
            #expect(text.contains(#"vectorsearch_requests_total{endpoint="/v1/search",status="200"} 1"#))
            #expect(text.contains(#"vectorsearch_requests_total{endpoint="/v1/search",status="400"} 1"#))
            #expect(text.contains("vectorsearch_request_duration_seconds_bucket"))
            #expect(text.contains("vectorsearch_vectors 200"))

            let openapi = try await Self.request("GET", base + "/openapi.json")
            #expect(openapi.status == 200 && openapi.json["openapi"] as? String == "3.1.0")
        }
    }

    @Test("with an API key, every endpoint but health needs the bearer token")
    func apiKey() async throws {
        let (service, _) = try SearchServiceTests.flatService(count: 10)
        try await Self.withServer(service, apiKey: "s3cret") { base in
            #expect(try await Self.request("GET", base + "/v1/health").status == 200)
            let refused = try await Self.request("GET", base + "/v1/info")
            #expect(refused.status == 401 && refused.error?.contains("Bearer") == true)
            #expect(try await Self.request("GET", base + "/v1/info", headers: ["Authorization": "Bearer s3cre"]).status == 401)
            #expect(try await Self.request("GET", base + "/v1/info", headers: ["Authorization": "Bearer s3cret!"]).status == 401)
            #expect(try await Self.request("GET", base + "/metrics", headers: ["Authorization": "s3cret"]).status == 401)
            #expect(try await Self.request("GET", base + "/v1/info", headers: ["Authorization": "Bearer s3cret"]).status == 200)
        }
    }

    @Test("the OpenAPI document served is docs/openapi.json, and it names every route")
    func openAPIDocument() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.json")
        #expect(try String(contentsOf: file, encoding: .utf8) == OpenAPIDocument.json)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        #expect(Set(paths.keys) == ["/v1/search", "/v1/documents", "/v1/documents/{id}", "/v1/info", "/v1/health", "/metrics", "/openapi.json"])
    }
}
