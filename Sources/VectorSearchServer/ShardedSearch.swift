import Foundation
import VectorSearch
import VectorSearchRAG

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One search over the shards of an index split across servers (`vectorsearch serve --index
/// SHARD` each, built with `build --shard I/N`): every query, with its filter, goes to every
/// shard at once; each answers its own top k; the merge keeps the k best by score, ties to the
/// smaller id, so with exact shards the answer is the exact answer of the whole. A shard that
/// fails or does not answer within the timeout is left out and named, and the answer says it is
/// partial instead of failing.
public final class ShardedSearch: Sendable {
    /// A shard's address and the manifest it reported when the router connected.
    public struct Shard: Sendable {
        public let url: String
        public let manifest: ShardManifest
        /// Vectors it held then.
        public let count: Int
    }

    public let shards: [Shard]
    public let metric: Metric
    public let dimension: Int
    let timeout: Duration
    let apiKey: String?
    let session: URLSession

    /// Connects to the shard servers at `urls`: reads each one's `/v1/info` (retrying for up to
    /// `startup` while they start) and checks that together they are every shard of one build,
    /// each once. `timeout` bounds each shard's answer to each query.
    public static func connect(
        _ urls: [String], apiKey: String? = nil, timeout: Duration = .seconds(2), startup: Duration = .seconds(30)
    ) async throws -> ShardedSearch {
        guard !urls.isEmpty else { throw VectorSearchError.invalidArgument("no shard URLs") }
        let configuration = URLSessionConfiguration.ephemeral
        // Linux's URLSession keeps the session's timeout, in whole seconds; each search also
        // has its own deadline (`ask`).
        configuration.timeoutIntervalForRequest = max(1, (Double(timeout.components.seconds) + 1).rounded(.up))
        let session = URLSession(configuration: configuration)
        let deadline = ContinuousClock.now + startup
        var shards: [Shard] = []
        for url in urls {
            let base = url.hasSuffix("/") ? String(url.dropLast()) : url
            var lastError = ""
            while true {
                do {
                    let info = try await Self.get(base + "/v1/info", session: session, apiKey: apiKey)
                    guard let shard = info["shard"], case .object = shard else {
                        throw VectorSearchError.invalidArgument("\(base) serves an index that is not a shard (no \"shard\" in its /v1/info)")
                    }
                    let manifest = try JSONDecoder().decode(ShardManifest.self, from: Data(shard.json.utf8))
                    shards.append(Shard(url: base, manifest: manifest, count: info["count"]?.int ?? 0))
                    break
                } catch let error as VectorSearchError {
                    throw error
                } catch {
                    lastError = "\(error)"
                }
                guard ContinuousClock.now < deadline else {
                    throw VectorSearchError.invalidArgument("shard \(base) did not answer within \(startup): \(lastError)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        let first = shards[0].manifest
        for other in shards.dropFirst() {
            if let problem = first.incompatibility(with: other.manifest) { throw VectorSearchError.invalidArgument(problem) }
        }
        let numbers = shards.map(\.manifest.shard)
        guard Set(numbers).count == numbers.count else {
            throw VectorSearchError.invalidArgument("a shard is given twice (shards \(numbers.sorted().map(String.init).joined(separator: ", ")))")
        }
        let missing = Set(0..<first.shards).subtracting(numbers).sorted()
        guard missing.isEmpty else {
            throw VectorSearchError.invalidArgument(
                "shards \(missing.map { "\($0)/\(first.shards)" }.joined(separator: ", ")) of build \(first.build) are missing")
        }
        return ShardedSearch(shards: shards, timeout: timeout, apiKey: apiKey, session: session)
    }

    // Closes its connections once the transfers under way end (cancelling them is not safe on
    // Linux: see `URLSession.response(for:deadline:)`).
    deinit { session.finishTasksAndInvalidate() }

    init(shards: [Shard], timeout: Duration, apiKey: String?, session: URLSession) {
        self.shards = shards
        metric = shards[0].manifest.metric
        dimension = shards[0].manifest.dataset.dimension
        self.timeout = timeout
        self.apiKey = apiKey
        self.session = session
    }

    /// One shard's answer: its result lists (one per query), or why it has none.
    enum Answer: Sendable {
        case results([[(neighbor: Neighbor, json: JSONValue)]])
        case refused(status: Int, message: String)
        case failed(String)
    }

    /// Sends `body` (a `/v1/search` request already checked) to every shard and merges the
    /// answers: `{"results", "partial", "failed_shards"}`.
    func search(_ request: SearchRequest, body: [UInt8]) async throws -> Data {
        let batch = request.isBatch
        let answers = await withTaskGroup(of: (Int, Answer).self) { group in
            for (number, shard) in shards.enumerated() {
                group.addTask { (number, await self.ask(shard, body: body, batch: batch)) }
            }
            var answers = [Answer?](repeating: nil, count: shards.count)
            for await (number, answer) in group { answers[number] = answer }
            return answers.map { $0! }
        }
        var lists: [[[(neighbor: Neighbor, json: JSONValue)]]] = []
        var failed: [String] = []
        for (shard, answer) in zip(shards, answers) {
            switch answer {
            case .results(let results): lists.append(results)
            case .refused(let status, let message):
                // Every shard checks the same request: a refusal is the request's fault.
                if (400..<500).contains(status) { throw APIError(status: .init(code: status), message: message) }
                failed.append("\(shard.url): \(status) \(message)")
            case .failed(let reason): failed.append("\(shard.url): \(reason)")
            }
        }
        if lists.isEmpty { throw APIError(status: .serviceUnavailable, message: "no shard answered: \(failed.joined(separator: "; "))") }
        let queries = request.isBatch ? request.vectors.count : 1
        var text = #"{"failed_shards":["#
        for (i, failure) in failed.enumerated() {
            if i > 0 { text += "," }
            JSONValue.write(string: failure, to: &text)
        }
        text += #"],"partial":\#(failed.isEmpty ? "false" : "true"),"results":"#
        if request.isBatch { text += "[" }
        for query in 0..<queries {
            if query > 0 { text += "," }
            let candidates = lists.compactMap { query < $0.count ? $0[query] : nil }
            var jsonOf: [VectorID: JSONValue] = [:]
            for list in candidates { for hit in list where jsonOf[hit.neighbor.id] == nil { jsonOf[hit.neighbor.id] = hit.json } }
            let merged = Neighbor.merge(candidates.map { $0.map(\.neighbor) }, k: request.k, metric: metric)
            text += "["
            for (rank, neighbor) in merged.enumerated() {
                if rank > 0 { text += "," }
                jsonOf[neighbor.id]!.write(to: &text)
            }
            text += "]"
        }
        text += request.isBatch ? "]}" : "}"
        return Data(text.utf8)
    }

    /// One shard's answer to `body`, within the timeout.
    private func ask(_ shard: Shard, body: [UInt8], batch: Bool) async -> Answer {
        var request = URLRequest(url: URL(string: shard.url + "/v1/search")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        do {
            let (data, response) = try await session.response(for: request, deadline: timeout)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let json = try data.withUnsafeBytes { try JSONValue.parse($0) }
            guard status == 200 else { return .refused(status: status, message: json["error"]?.string ?? "status \(status)") }
            return Self.results(json, batch: batch)
        } catch let error as URLError where error.code == .timedOut {
            return .failed("no answer within \(timeout)")
        } catch {
            return .failed("\(error)")
        }
    }

    /// A shard's `results`: one list, or a list of lists for a batch, each hit with its id and score.
    static func results(_ json: JSONValue, batch: Bool) -> Answer {
        guard case .array(let outer)? = json["results"] else { return .failed("an answer without \"results\"") }
        var lists: [[JSONValue]] = [outer]
        if batch {
            guard outer.allSatisfy({ $0.array != nil }) else { return .failed("a batch answer that is not a list of lists") }
            lists = outer.map { $0.array! }
        }
        var parsed: [[(neighbor: Neighbor, json: JSONValue)]] = []
        for list in lists {
            var hits: [(neighbor: Neighbor, json: JSONValue)] = []
            for hit in list {
                guard let id = hit["id"].flatMap(JSONLines.vectorID), let score = hit["score"]?.double else {
                    return .failed("a result without an integer \"id\" and a numeric \"score\"")
                }
                hits.append((Neighbor(id: id, score: Float(score)), hit))
            }
            parsed.append(hits)
        }
        return .results(parsed)
    }

    static func get(_ url: String, session: URLSession, apiKey: String?) async throws -> JSONValue {
        guard let address = URL(string: url) else { throw VectorSearchError.invalidArgument("not a URL: \(url)") }
        var request = URLRequest(url: address)
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await session.response(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw VectorSearchError.invalidArgument("\(url) answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
        }
        return try data.withUnsafeBytes { try JSONValue.parse($0) }
    }
}
