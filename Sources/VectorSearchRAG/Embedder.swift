import VectorSearch
import Foundation

/// Turns texts into vectors: a model in process, or an embedding server.
public protocol Embedder: Sendable {
    /// One vector per text, in order, all of the same dimension.
    func embed(_ texts: [String]) async throws -> [[Float]]
}

/// Embeddings from an OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, llama.cpp
/// server, vLLM, TEI), `batchSize` texts per request.
///
/// Every vector is checked: as many as texts, all of one length (`dimension`, when given, else
/// the first one's), all finite; anything else is an ``EndpointError``.
public struct OpenAIEmbedder: Embedder {
    public var endpoint: OpenAIEndpoint
    public var batchSize: Int
    /// The length every embedding must have (nil: whatever the first one has).
    public var dimension: Int?
    /// Called after each batch with the texts embedded so far and the total.
    public var progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?

    public init(
        endpoint: OpenAIEndpoint, batchSize: Int = 64, dimension: Int? = nil, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) throws {
        try ParameterCheck.atLeast(1, "embedding batch size", batchSize)
        if let dimension { try ParameterCheck.atLeast(1, "embedding dimension", dimension) }
        self.endpoint = endpoint
        self.batchSize = batchSize
        self.dimension = dimension
        self.progress = progress
    }

    private struct Request: Encodable {
        var model: String
        var input: [String]
    }

    private struct Response: Decodable {
        struct Item: Decodable {
            var index: Int?
            var embedding: [Float]
        }
        var data: [Item]
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var expected = dimension
        let url = endpoint.url("embeddings").absoluteString
        for start in stride(from: 0, to: texts.count, by: batchSize) {
            let batch = Array(texts[start..<min(start + batchSize, texts.count)])
            let data = try await endpoint.post("embeddings", body: Request(model: endpoint.model, input: batch))
            let items = try endpoint.decode(Response.self, from: data, path: "embeddings").data
            guard items.count == batch.count else {
                throw EndpointError.malformedResponse(url: url, reason: "\(items.count) embeddings for \(batch.count) texts")
            }
            // Servers may answer out of order; `index` says which input each is for.
            var ordered = [[Float]?](repeating: nil, count: batch.count)
            for (position, item) in items.enumerated() {
                let i = item.index ?? position
                guard (0..<batch.count).contains(i), ordered[i] == nil else {
                    throw EndpointError.malformedResponse(url: url, reason: "embedding index \(i) is out of range or repeated")
                }
                ordered[i] = item.embedding
            }
            for (i, vector) in ordered.enumerated() {
                let vector = vector!
                let length = expected ?? vector.count
                guard vector.count == length, length > 0 else {
                    throw EndpointError.wrongDimension(url: url, expected: length, actual: vector.count, text: start + i)
                }
                expected = length
                guard vector.allSatisfy(\.isFinite) else {
                    throw EndpointError.malformedResponse(url: url, reason: "embedding of text \(start + i) has a non-finite value")
                }
                vectors.append(vector)
            }
            progress?(vectors.count, texts.count)
        }
        return vectors
    }
}
