import Foundation
import HTTPTypes
import VectorSearch
import VectorSearchEmbeddings
import VectorSearchRAG

/// What the server serves, without HTTP: one index (searched by vector), one collection
/// (searched by vector or text, changed by upserts and deletes through its durable log), or the
/// shards of an index on other servers (``ShardedSearch``, a router). Each
/// method takes a request body and answers a JSON body or throws an ``APIError``; the HTTP layer
/// (``SearchServer``) only routes, authenticates and counts. Safe to call from many tasks at once.
public final class SearchService: Sendable {
    enum Source: Sendable {
        case index(AnyIndex, shard: ShardManifest?)
        case collection(DocumentCollection, embedder: BuiltInEmbedder)
        case router(ShardedSearch)
    }

    let source: Source
    /// The file or directory served, as `info` reports it.
    let path: String
    let limits: ServerLimits

    /// Serves the index file at `path`, read into memory or memory-mapped.
    public init(indexAt path: String, mode: IndexLoadMode = .copy, limits: ServerLimits = .default) throws {
        source = .index(try AnyIndex.load(from: path, mode: mode), shard: try ShardManifest.read(besideIndex: path))
        self.path = path
        self.limits = limits
    }

    /// Serves the collection in `directory`; `text` queries and documents without an
    /// embedding are embedded by the built-in model in `modelDirectory`, loaded on first use.
    public init(
        collectionAt directory: String, modelDirectory: String = SentenceEmbedder.defaultDirectory, limits: ServerLimits = .default
    ) throws {
        source = .collection(try DocumentCollection.open(at: directory), embedder: try BuiltInEmbedder(directory: modelDirectory))
        path = directory
        self.limits = limits
    }

    /// An index already in memory (tests, embedding the server in another program).
    public init(index: AnyIndex, name: String, shard: ShardManifest? = nil, limits: ServerLimits = .default) {
        source = .index(index, shard: shard)
        path = name
        self.limits = limits
    }

    /// Routes every search to the shards of `router` and merges their answers.
    public init(router: ShardedSearch, limits: ServerLimits = .default) {
        source = .router(router)
        path = router.shards.map(\.url).joined(separator: ",")
        self.limits = limits
    }

    /// Vectors in the index, or chunks in the collection.
    var count: Int {
        switch source {
        case .index(let index, _): index.count
        case .collection(let collection, _): (try? collection.chunkCount) ?? 0
        case .router(let router): router.shards.reduce(0) { $0 + $1.count }
        }
    }

    // MARK: Search

    /// `POST /v1/search`.
    func search(body: [UInt8]) async throws -> Data {
        let request = try body.withUnsafeBytes { bytes in try SearchRequest(body: bytes, limits: limits) }
        do {
            switch source {
            case .index(let index, _):
                return try search(index, request)
            case .collection(let collection, let embedder):
                return try await search(collection, embedder: embedder, request)
            case .router(let router):
                try check(request, dimension: router.dimension)
                return try await router.search(request, body: body)
            }
        } catch {
            throw APIError(error)
        }
    }

    /// What an index (or a router over index shards) refuses before searching.
    private func check(_ request: SearchRequest, dimension: Int) throws {
        if !request.collectionOnly.isEmpty {
            throw APIError.badRequest(
                "\(request.collectionOnly.map { "\"\($0)\"" }.joined(separator: ", ")) need\(request.collectionOnly.count == 1 ? "s" : "") a collection; this server serves an index (search it by \"vector\")"
            )
        }
        if let wrong = request.vectors.firstIndex(where: { $0.count != dimension }) {
            throw VectorSearchError.dimensionMismatch(expected: dimension, actual: request.vectors[wrong].count, row: request.isBatch ? wrong : nil)
        }
    }

    private func search(_ index: AnyIndex, _ request: SearchRequest) throws -> Data {
        try check(request, dimension: index.dimension)
        let lists: [[Neighbor]]
        if request.isBatch {
            if request.vectors.isEmpty {
                lists = []
            } else {
                let found = try index.search(batch: try VectorMatrix(request.vectors), k: request.k, options: request.options, filter: request.filter)
                lists = found.map { Array($0) }
            }
        } else {
            lists = [try index.search(request.vectors[0], k: request.k, options: request.options, filter: request.filter)]
        }
        return try Self.response(lists, batch: request.isBatch) { neighbor, json in
            json += #"{"id":"#
            json += String(neighbor.id)
            if request.includeMetadata {
                json += #","metadata":"#
                Self.write(index.attributes(for: neighbor.id) ?? [:], to: &json)
            }
            json += #","score":"#
            json += neighbor.score.isFinite ? neighbor.score.description : "null"
            json += "}"
        }
    }

    private func search(_ collection: DocumentCollection, embedder: BuiltInEmbedder, _ request: SearchRequest) async throws -> Data {
        let options = RetrievalOptions(
            k: request.k, filter: request.filter, minScore: request.minScore, mmrLambda: request.mmr,
            maxChunksPerDocument: request.maxPerDocument, hybrid: request.hybrid, search: request.options)
        let lists =
            if request.vectors.isEmpty, let text = request.text {
                [try await collection.retrieve(text: text, embedder: embedder, options: options)]
            } else {
                try request.vectors.map { try collection.retrieve(vector: $0, text: request.text, options: options) }
            }
        return try Self.response(lists, batch: request.isBatch) { hit, json in
            json += #"{"chunk_index":"#
            json += String(hit.chunk.index)
            json += #","document":"#
            JSONValue.write(string: hit.chunk.documentID, to: &json)
            json += #","end":"#
            json += String(hit.chunk.range.upperBound)
            if let fused = hit.fusedScore, fused.isFinite { json += #","fused_score":\#(fused)"# }
            json += #","id":"#
            json += String(hit.chunkID)
            json += #","metadata":"#
            Self.write(hit.metadata, to: &json)
            json += #","score":"#
            json += hit.score.isFinite ? hit.score.description : "null"
            json += #","start":"#
            json += String(hit.chunk.range.lowerBound)
            json += #","text":"#
            JSONValue.write(string: hit.chunk.text, to: &json)
            json += "}"
        }
    }

    /// `{"partial": false, "results": ...}`: one list, or a list of lists for a batch, each
    /// result written by `write`. By hand, not `JSONEncoder`: this is the API's hot path, where
    /// encoding cost a tenth of a search.
    static func response<Hit>(_ lists: [[Hit]], batch: Bool, write: (Hit, inout String) throws -> Void) throws -> Data {
        var json = #"{"partial":false,"results":"#
        if batch { json += "[" }
        for (number, list) in lists.enumerated() {
            if number > 0 { json += "," }
            json += "["
            for (rank, hit) in list.enumerated() {
                if rank > 0 { json += "," }
                try write(hit, &json)
            }
            json += "]"
        }
        json += batch ? "]}" : "}"
        return Data(json.utf8)
    }

    /// Metadata as a JSON object, keys sorted.
    static func write(_ attributes: Attributes, to json: inout String) {
        json += attributes.jsonText
    }

    // MARK: Documents

    /// `POST /v1/documents`: `{"documents": [{"id", "text", "metadata", "embedding"}]}`, each added or
    /// replaced (by id) in one transaction.
    func upsert(body: [UInt8]) async throws -> Data {
        guard case .collection(let collection, let embedder) = source else {
            throw APIError(
                status: .notFound, message: "this server serves an index (or index shards), which takes no documents (serve a collection with --collection)")
        }
        let members = try body.withUnsafeBytes { bytes in try RequestBody.object(bytes) }
        if let unknown = members.first(where: { $0.key != "documents" }) {
            throw APIError.badRequest("unknown key \"\(unknown.key)\" (expected \"documents\")")
        }
        guard case .array(let items)? = RequestBody.lookup(members)("documents") else {
            throw APIError.badRequest("\"documents\" (an array of {\"id\", \"text\", \"metadata\", \"embedding\"}) is missing")
        }
        guard items.count <= limits.maxDocuments else {
            throw APIError.badRequest("\"documents\" holds \(items.count) documents; the limit is \(limits.maxDocuments) per request")
        }
        do {
            var seen = Set<String>()
            let entries = try items.enumerated().map { row, item in
                guard case .object(let members) = item else { throw APIError.badRequest("documents[\(row)] must be an object") }
                let entry = try DocumentFile.entry(JSONLines.Line(members: members, row: row, element: "documents[\(row)]"))
                guard seen.insert(entry.document.id).inserted else { throw CollectionError.documentGivenTwice(documentID: entry.document.id) }
                return entry
            }
            try await collection.add(entries, embedder: embedder, replacing: true)
            return try encode(["upserted": entries.count])
        } catch {
            throw APIError(error)
        }
    }

    /// `DELETE /v1/documents/{id}`.
    func deleteDocument(_ id: String) throws -> Data {
        guard case .collection(let collection, _) = source else {
            throw APIError(
                status: .notFound, message: "this server serves an index (or index shards), which has no documents (serve a collection with --collection)")
        }
        do {
            guard try collection.delete(documentIDs: [id]) > 0 else {
                throw APIError(status: .notFound, message: "no document \"\(id)\" in the collection")
            }
            return try encode(["deleted": 1])
        } catch {
            throw APIError(error)
        }
    }

    // MARK: Info

    /// `GET /v1/info`.
    func info() throws -> Data {
        do {
            switch source {
            case .index(let index, let shard):
                return try encode(
                    ServerInfo(
                        source: path, kind: index.kind.rawValue, metric: index.metric.rawValue, dimension: index.dimension, count: index.count,
                        storage: index.storage.rawValue, parameters: Self.parameters(index), memoryBytes: index.memoryBytes, shard: shard))
            case .router(let router):
                return try encode(
                    ServerInfo(
                        source: path, kind: "router", metric: router.metric.rawValue, dimension: router.dimension, count: count,
                        storage: "-", parameters: [:], memoryBytes: nil,
                        shards: router.shards.map {
                            .init(url: $0.url, shard: $0.manifest.shard, first: $0.manifest.first, end: $0.manifest.end, count: $0.count)
                        },
                        build: router.shards[0].manifest.build))
            case .collection(let collection, _):
                return try encode(
                    ServerInfo(
                        source: path, kind: collection.indexKind.rawValue, metric: collection.metric.rawValue, dimension: collection.dimension,
                        count: try collection.chunkCount, storage: VectorStorage.float32.rawValue, parameters: [:],
                        memoryBytes: nil, documents: try collection.documentCount))
            }
        } catch {
            throw APIError(error)
        }
    }

    static func parameters(_ index: AnyIndex) -> [String: ParameterValue] {
        switch index {
        case .flat: return [:]
        case .hnsw(let hnsw): return ["m": .int(hnsw.parameters.m), "ef_construction": .int(hnsw.parameters.efConstruction)]
        case .ivf(let ivf):
            var parameters: [String: ParameterValue] = ["nlist": .int(ivf.listCount)]
            if let codec = ivf.parameters.codec {
                parameters["codec"] = .string(codec.kind.rawValue)
                parameters["pq_m"] = .int(codec.subquantizers)
                parameters["opq"] = .bool(codec.rotation)
                parameters["residual"] = .bool(codec.residual)
            }
            return parameters
        }
    }

    private func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

// MARK: Response bodies

enum ParameterValue: Encodable, Equatable {
    case int(Int)
    case string(String)
    case bool(Bool)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }
}

/// `GET /v1/info`.
struct ServerInfo: Encodable {
    var apiVersion = 1
    var source: String
    var kind: String
    var metric: String
    var dimension: Int
    /// Vectors (an index) or chunks (a collection).
    var count: Int
    var storage: String
    var parameters: [String: ParameterValue]
    var memoryBytes: Int?
    var documents: Int?
    /// An index built as one shard of several: its manifest.
    var shard: ShardManifest?
    /// A router: its shards, and the build they are of.
    var shards: [RoutedShard]?
    var build: String?

    struct RoutedShard: Encodable {
        var url: String
        var shard: Int
        var first: Int
        var end: Int
        var count: Int
    }

    enum CodingKeys: String, CodingKey {
        case apiVersion = "api_version", source, kind, metric, dimension, count, storage, parameters, memoryBytes = "memory_bytes", documents,
            shard, shards, build
    }
}
