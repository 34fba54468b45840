import Foundation
import Testing
import TestSupport
import VectorSearch
import VectorSearchEmbeddings
import VectorSearchRAG

@testable import VectorSearchServer

/// The API's requests and answers without HTTP: results against brute force, every refusal a
/// 4xx with a message that names the problem.
@Suite("Search service")
struct SearchServiceTests {
    static let dimension = 13  // not a multiple of any SIMD width

    static func rows(_ count: Int, seed: UInt64) -> [[Float]] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in (0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) } }
    }

    static func flatService(count: Int = 200, limits: ServerLimits = .default) throws -> (SearchService, [[Float]]) {
        let base = rows(count, seed: 1)
        let index = try AnyIndex(kind: .flat, dimension: dimension, metric: .l2)
        try index.add(try VectorMatrix(base), ids: (0..<count).map { VectorID($0 * 10) }, attributes: (0..<count).map { ["even": .bool($0 % 2 == 0)] })
        return (SearchService(index: index, name: "test", limits: limits), base)
    }

    static func body(_ object: [String: Any]) -> [UInt8] { Array(try! JSONSerialization.data(withJSONObject: object)) }

    static func json(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Ids of the `k` nearest rows of `base` by squared L2, ties to the smaller id.
    static func bruteForce(_ query: [Float], _ base: [[Float]], k: Int, where admit: (Int) -> Bool = { _ in true }) -> [Int] {
        let scored = base.indices.filter(admit).map { row in (row * 10, zip(query, base[row]).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }) }
        return scored.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(k).map(\.0)
    }

    @Test("one query, a batch and a filter answer what brute force finds, best first")
    func searchMatchesBruteForce() async throws {
        let (service, base) = try Self.flatService()
        let queries = Self.rows(3, seed: 2)
        let one = try Self.json(try await service.search(body: Self.body(["vector": queries[0], "k": 5])))
        let hits = try #require(one["results"] as? [[String: Any]])
        #expect(hits.map { $0["id"] as? Int } == Self.bruteForce(queries[0], base, k: 5))
        #expect(one["partial"] as? Bool == false)
        #expect(hits.allSatisfy { $0["metadata"] == nil })

        let batch = try Self.json(try await service.search(body: Self.body(["vectors": queries, "k": 4])))
        let lists = try #require(batch["results"] as? [[[String: Any]]])
        #expect(lists.count == 3)
        for (query, list) in zip(queries, lists) { #expect(list.map { $0["id"] as? Int } == Self.bruteForce(query, base, k: 4)) }

        let filtered = try Self.json(
            try await service.search(body: Self.body(["vector": queries[1], "k": 6, "filter": ["even": true], "metadata": true])))
        let even = try #require(filtered["results"] as? [[String: Any]])
        #expect(even.map { $0["id"] as? Int } == Self.bruteForce(queries[1], base, k: 6) { $0 % 2 == 0 })
        #expect(even.allSatisfy { ($0["metadata"] as? [String: Any])?["even"] as? Bool == true })

        let empty = try Self.json(try await service.search(body: Self.body(["vectors": [[Float]](), "k": 4])))
        #expect((empty["results"] as? [Any])?.isEmpty == true)
    }

    @Test("every malformed or out-of-range request is a 400 saying what is wrong")
    func badRequestsAreRefused() async throws {
        let (service, _) = try Self.flatService(limits: ServerLimits(maxK: 50, maxBatch: 2))
        let vector = [Float](repeating: 0.5, count: Self.dimension)
        let cases: [(body: [UInt8], says: String)] = [
            (Array("{\"vector\": [1, 2".utf8), "not valid JSON"),
            (Array("[1, 2]".utf8), "must be a JSON object"),
            (Array("".utf8), "not valid JSON"),
            (Self.body(["vector": vector, "nprobes": 4]), "unknown key \"nprobes\""),
            (Self.body(["k": 3]), "give the query"),
            (Self.body(["vector": vector, "vectors": [vector]]), "not both"),
            (Self.body(["vector": [1, 2, 3]]), "dimension"),
            (Self.body(["vector": [Float]()]), "dimension"),
            (Array("{\"vector\": [1e39, 0,0,0,0,0,0,0,0,0,0,0,0]}".utf8), "outside the float32 range"),
            (Self.body(["vector": ["a"]]), "vector[0] is not a number"),
            (Self.body(["vector": 3]), "must be an array"),
            (Self.body(["vector": vector, "k": 0]), "\"k\" must be an integer in 1...50"),
            (Self.body(["vector": vector, "k": 51]), "\"k\" must be an integer in 1...50"),
            (Self.body(["vector": vector, "k": "ten"]), "\"k\" must be an integer"),
            (Self.body(["vector": vector, "k": 2.5]), "\"k\" must be an integer"),
            (Self.body(["vector": vector, "ef": 0]), "\"ef\""),
            (Self.body(["vector": vector, "rerank": 5000]), "\"rerank\""),
            (Self.body(["vector": vector, "filter": ["$gt": 3]]), "unknown operator"),
            (Self.body(["vector": vector, "filter": "year > 3"]), "must be a JSON object"),
            (Self.body(["vectors": [vector, vector, vector]]), "limit is 2"),
            (Self.body(["vectors": [vector, [1]]]), "dimension"),
            (Self.body(["text": "hello"]), "need"),
            (Self.body(["vector": vector, "hybrid": true, "text": "x"]), "collection"),
            (Self.body(["vector": vector, "metadata": "yes"]), "true or false"),
        ]
        for (body, says) in cases {
            do {
                _ = try await service.search(body: body)
                Issue.record("accepted: \(String(decoding: body, as: UTF8.self))")
            } catch let error as APIError {
                #expect(error.status == .badRequest, "\(String(decoding: body, as: UTF8.self))")
                #expect(error.message.contains(says), "\(String(decoding: body, as: UTF8.self)): \(error.message)")
            }
        }
        do {
            _ = try await service.upsert(body: Self.body(["documents": []]))
            Issue.record("an index took documents")
        } catch let error as APIError {
            #expect(error.status == .notFound)
        }
    }

    @Test("mangled bodies (bytes flipped, cut, repeated) are answered, 200 or 4xx, never a crash or a 5xx")
    func mangledBodies() async throws {
        let (service, _) = try Self.flatService(count: 50)
        let vector = [Float](repeating: 0.5, count: Self.dimension)
        let seeds = [
            Self.body(["vector": vector, "k": 3, "filter": ["even": ["$in": [true, false]]], "ef": 20, "metadata": true]),
            Self.body(["vectors": [vector, vector], "k": 2, "nprobe": 3, "rerank": 0]),
        ]
        var random = SplitMix64(seed: 9)
        let alphabet = Array(#"{}[]",:0123456789.eE+-truefalsnl\ "#.utf8)
        for round in 0..<3000 {
            var body = seeds[round % seeds.count]
            for _ in 0..<Int(random.next() % 4 + 1) {
                guard !body.isEmpty else { break }
                let at = Int(random.next() % UInt64(body.count))
                switch random.next() % 4 {
                case 0: body[at] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                case 1: body.remove(at: at)
                case 2: body.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: at)
                default: body = Array(body[..<at])
                }
            }
            do {
                _ = try await service.search(body: body)
            } catch let error as APIError {
                #expect(error.status.code / 100 == 4, "\(String(decoding: body, as: UTF8.self)): \(error.message)")
            }
        }
    }

    @Test("a collection with the built-in model: documents upserted as text are chunked and embedded, and found by a question")
    func collectionText() async throws {
        guard FileManager.default.fileExists(atPath: SentenceEmbedder.defaultDirectory) else {
            Issue.record("no model at \(SentenceEmbedder.defaultDirectory); run scripts/fetch-model.sh")
            return
        }
        let dir = temporaryPath()
        defer { cleanup(dir) }
        _ = try DocumentCollection.create(at: dir, dimension: 384, index: .hnsw)
        let service = try SearchService(collectionAt: dir)
        let documents = [
            ["id": "http", "text": "An HTTP server framework with routing, middleware and WebSockets for Swift.", "year": 2024],
            ["id": "plot", "text": "Draw line charts, bar charts and scatter plots from data frames.", "year": 2021],
            ["id": "crypto", "text": "Hashing, signatures and encryption: SHA-256, Ed25519 and AES-GCM.", "year": 2023],
        ]
        #expect(try Self.json(try await service.upsert(body: Self.body(["documents": documents])))["upserted"] as? Int == 3)
        let found = try Self.json(try await service.search(body: Self.body(["text": "which library can serve web requests?", "k": 2])))
        let hits = try #require(found["results"] as? [[String: Any]])
        #expect(hits.first?["document"] as? String == "http")
        let hybrid = try Self.json(
            try await service.search(body: Self.body(["text": "charts", "k": 1, "hybrid": true, "filter": ["year": ["$lt": 2022]]])))
        let fused = try #require((hybrid["results"] as? [[String: Any]])?.first)
        #expect(fused["document"] as? String == "plot" && fused["fused_score"] is Double)
    }

    @Test("info describes the index")
    func info() throws {
        let (service, _) = try Self.flatService(count: 30)
        let info = try Self.json(try service.info())
        #expect(info["kind"] as? String == "flat")
        #expect(info["metric"] as? String == "l2")
        #expect(info["dimension"] as? Int == Self.dimension)
        #expect(info["count"] as? Int == 30)
        #expect(info["api_version"] as? Int == 1)
        #expect((info["memory_bytes"] as? Int ?? 0) > 30 * Self.dimension * 4)
    }

    @Test("a collection: documents upserted with their vectors are searched, replaced and deleted through the log")
    func collectionDocuments() async throws {
        let dir = temporaryPath()
        defer { cleanup(dir) }
        _ = try DocumentCollection.create(at: dir, dimension: 4, metric: .cosine, index: .flat)
        let service = try SearchService(collectionAt: dir, modelDirectory: dir + "/no-model")
        let documents: [[String: Any]] = [
            ["id": "a", "text": "first", "metadata": ["year": 2020], "embedding": [1, 0, 0, 0]],
            ["id": "b", "text": "second", "year": 2024, "embedding": [0, 1, 0, 0]],
            ["id": 7, "text": "third", "embedding": [0, 0, 1, 0]],
        ]
        let stored = try Self.json(try await service.upsert(body: Self.body(["documents": documents])))
        #expect(stored["upserted"] as? Int == 3)

        let found = try Self.json(try await service.search(body: Self.body(["vector": [0.1, 0.9, 0, 0], "k": 2])))
        let hits = try #require(found["results"] as? [[String: Any]])
        #expect(hits.map { $0["document"] as? String } == ["b", "a"])
        #expect(hits[0]["text"] as? String == "second")
        #expect((hits[0]["metadata"] as? [String: Any])?["year"] as? Int == 2024)
        #expect(hits[0]["id"] is Int && hits[0]["start"] as? Int == 0 && hits[0]["end"] as? Int == 6)

        let filtered = try Self.json(try await service.search(body: Self.body(["vector": [0.1, 0.9, 0, 0], "filter": ["year": ["$lt": 2022]]])))
        #expect((filtered["results"] as? [[String: Any]])?.map { $0["document"] as? String } == ["a"])

        // Replacing by id: the old vector goes.
        _ = try await service.upsert(body: Self.body(["documents": [["id": "b", "text": "moved", "embedding": [0, 0, 0, 1]]]]))
        let moved = try Self.json(try await service.search(body: Self.body(["vector": [0, 0, 0, 1], "k": 1])))
        #expect((moved["results"] as? [[String: Any]])?.first?["text"] as? String == "moved")

        #expect(try Self.json(try service.deleteDocument("7"))["deleted"] as? Int == 1)
        #expect(throws: APIError.self) { try service.deleteDocument("7") }
        let info = try Self.json(try service.info())
        #expect(info["documents"] as? Int == 2)

        // Refusals: nothing of a refused request is stored.
        let bad: [(documents: Any, says: String)] = [
            ([["id": "c", "text": "x", "embedding": [1, 0]]], "2 components"),
            ([["id": "c", "text": "x", "embedding": [1, 0, 0, 0]], ["id": "c", "text": "y", "embedding": [0, 1, 0, 0]]], "given twice"),
            ([["text": "no id", "embedding": [1, 0, 0, 0]]], "documents[0]: \"id\""),
            ([["id": "c", "embedding": [1, 0, 0, 0]]], "\"text\""),
            (["not an object"], "documents[0] must be an object"),
            ([["id": "c", "text": "needs the model"]], "no-model"),
            ("nope", "\"documents\""),
        ]
        for (documents, says) in bad {
            do {
                _ = try await service.upsert(body: Self.body(["documents": documents]))
                Issue.record("accepted \(documents)")
            } catch let error as APIError {
                #expect(error.status.code / 100 == 4, "\(documents): \(error.message)")
                #expect(error.message.contains(says), "\(documents): \(error.message)")
            }
        }
        #expect(try Self.json(try service.info())["documents"] as? Int == 2)
    }
}
