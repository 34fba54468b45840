import Foundation
import Testing
import TestSupport
import VectorSearch
import VectorSearchRAG

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

/// A router over shard servers on 127.0.0.1: exact merges, partial answers when a shard is
/// gone, and refusals of shards that do not belong together.
@Suite("Sharded search")
struct ShardedSearchTests {
    /// Three flat shards over `base` (ids global), each served on its own port, for the time of `body`.
    static func withShards(
        _ base: [[Float]], shards: Int = 3, fingerprint: String = "f", _ body: ([String], [SearchServer.Handle]) async throws -> Void
    ) async throws {
        var handles: [SearchServer.Handle] = [], tasks: [Task<Void, any Error>] = [], urls: [String] = []
        for shard in 0..<shards {
            let manifest = try ShardManifest(
                shard: shard, of: shards, dataset: .init(file: "base", rows: base.count, dimension: base[0].count, fingerprint: fingerprint),
                kind: .flat, metric: .l2, parameters: "storage=float32")
            let rows = manifest.first..<manifest.end
            let index = try AnyIndex(kind: .flat, dimension: base[0].count, metric: .l2)
            try index.add(
                try VectorMatrix(Array(base[rows])), ids: rows.map { VectorID($0 * 10) }, attributes: rows.map { ["even": .bool($0 % 2 == 0)] })
            let (addresses, ready) = AsyncStream<String>.makeStream()
            let handle = SearchServer.handle(
                SearchService(index: index, name: "shard \(shard)", shard: manifest), configuration: ServerConfiguration(port: 0)
            ) { ready.yield($0) }
            handles.append(handle)
            tasks.append(Task { try await handle.run() })
            var iterator = addresses.makeAsyncIterator()
            urls.append(try #require(await iterator.next()))
        }
        do {
            try await body(urls, handles)
        } catch {
            for handle in handles { await handle.stop() }
            throw error
        }
        for handle in handles { await handle.stop() }
        for task in tasks { try await task.value }
    }

    @Test("the router's merge of exact shards is the exact answer of the whole, one query, a batch and a filter")
    func exactMerge() async throws {
        let base = SearchServiceTests.rows(301, seed: 4)
        let queries = SearchServiceTests.rows(5, seed: 5)
        try await Self.withShards(base) { urls, _ in
            let router = SearchService(router: try await ShardedSearch.connect(urls.reversed(), timeout: .seconds(5)))
            for query in queries {
                let answer = try SearchServiceTests.json(try await router.search(body: SearchServiceTests.body(["vector": query, "k": 7])))
                let hits = try #require(answer["results"] as? [[String: Any]])
                #expect(hits.map { $0["id"] as? Int } == SearchServiceTests.bruteForce(query, base, k: 7))
                #expect(answer["partial"] as? Bool == false && (answer["failed_shards"] as? [Any])?.isEmpty == true)
            }
            let batch = try SearchServiceTests.json(
                try await router.search(body: SearchServiceTests.body(["vectors": queries, "k": 120, "filter": ["even": true], "metadata": true])))
            let lists = try #require(batch["results"] as? [[[String: Any]]])
            for (query, list) in zip(queries, lists) {
                #expect(list.map { $0["id"] as? Int } == SearchServiceTests.bruteForce(query, base, k: 120) { $0 % 2 == 0 })
                #expect(list.allSatisfy { ($0["metadata"] as? [String: Any])?["even"] as? Bool == true })
            }
            let info = try SearchServiceTests.json(try router.info())
            #expect(info["kind"] as? String == "router" && info["count"] as? Int == 301 && (info["shards"] as? [Any])?.count == 3)
            // Refused by the router itself, or by every shard: the request's fault, 400.
            for bad in [["vector": [1, 2]], ["vector": queries[0], "filter": ["$bad": 1]]] as [[String: Any]] {
                do {
                    _ = try await router.search(body: SearchServiceTests.body(bad))
                    Issue.record("accepted \(bad)")
                } catch let error as APIError {
                    #expect(error.status == .badRequest, "\(error.message)")
                }
            }
        }
    }

    @Test("a shard that is gone makes answers partial, naming it, with the other shards' merge")
    func partialAnswers() async throws {
        let base = SearchServiceTests.rows(90, seed: 6)
        let query = SearchServiceTests.rows(1, seed: 8)[0]
        try await Self.withShards(base) { urls, handles in
            let router = SearchService(router: try await ShardedSearch.connect(urls, timeout: .milliseconds(1500)))
            await handles[1].stop()
            // A shard stopping gracefully may still answer a request already on its connection.
            var answer: [String: Any] = [:]
            for _ in 0..<20 {
                answer = try SearchServiceTests.json(try await router.search(body: SearchServiceTests.body(["vector": query, "k": 10])))
                if answer["partial"] as? Bool == true { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(answer["partial"] as? Bool == true)
            let failed = try #require(answer["failed_shards"] as? [String])
            #expect(failed.count == 1 && failed[0].hasPrefix(urls[1]))
            let hits = try #require(answer["results"] as? [[String: Any]])
            let survivors = Set(0..<30).union(60..<90)
            #expect(hits.map { $0["id"] as? Int } == SearchServiceTests.bruteForce(query, base, k: 10) { survivors.contains($0) })
        }
    }

    @Test("a shard slower than the timeout is left out and named; the other shards' merge is the answer")
    func slowShard() async throws {
        let base = SearchServiceTests.rows(90, seed: 6)
        let query = SearchServiceTests.rows(1, seed: 8)[0]
        try await Self.withShards(base) { urls, _ in
            // Shard 1 as a server that describes itself at once but never answers a search in time.
            let session = URLSession(configuration: .ephemeral)
            defer { session.finishTasksAndInvalidate() }
            let (info, _) = try await session.response(for: URLRequest(url: try #require(URL(string: urls[1] + "/v1/info"))))
            let slow = try TestHTTPServer { request, _ in request.path == "/v1/info" ? .init(body: info) : .init(text: "{}", delay: 30) }
            defer { slow.stop() }
            let slowURL = slow.url.absoluteString
            let router = SearchService(router: try await ShardedSearch.connect([urls[0], slowURL, urls[2]], timeout: .milliseconds(300)))
            let survivors = Set(0..<30).union(60..<90)
            for _ in 0..<3 {
                let answer = try SearchServiceTests.json(try await router.search(body: SearchServiceTests.body(["vector": query, "k": 10])))
                #expect(answer["partial"] as? Bool == true)
                #expect(answer["failed_shards"] as? [String] == ["\(slowURL): no answer within 0.3 seconds"])
                let hits = try #require(answer["results"] as? [[String: Any]])
                #expect(hits.map { $0["id"] as? Int } == SearchServiceTests.bruteForce(query, base, k: 10) { survivors.contains($0) })
            }
        }
    }

    @Test("shards of different builds, a missing shard or a shard given twice are refused at connection")
    func refusals() async throws {
        let base = SearchServiceTests.rows(30, seed: 9)
        try await Self.withShards(base) { urls, _ in
            try await Self.withShards(base, fingerprint: "other") { others, _ in
                for (given, says) in [
                    ([urls[0], others[1], urls[2]], "build"), ([urls[0], urls[1]], "missing"), ([urls[0], urls[0], urls[1], urls[2]], "twice"),
                ] {
                    do {
                        _ = try await ShardedSearch.connect(given, startup: .seconds(1))
                        Issue.record("connected to \(given)")
                    } catch {
                        #expect("\(error)".contains(says), "\(error)")
                    }
                }
            }
        }
        await #expect(throws: (any Error).self) { _ = try await ShardedSearch.connect(["http://127.0.0.1:9"], startup: .milliseconds(300)) }
    }
}
