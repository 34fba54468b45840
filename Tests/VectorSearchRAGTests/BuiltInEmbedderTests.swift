import Foundation
import Testing
import TestSupport
import VectorSearch
import VectorSearchEmbeddings
@testable import VectorSearchRAG

@Suite("Built-in embedder in collections")
struct BuiltInEmbedderTests {
    @Test("documents embedded in process are found by a question; a collection of another dimension refuses the embedder")
    func collectionWithBuiltInModel() async throws {
        let dir = temporaryPath()
        defer { cleanup(dir) }
        let embedder = try BuiltInEmbedder(batchSize: 2, threads: 2)
        let collection = try DocumentCollection.create(at: dir, dimension: 384, index: .hnsw, chunker: try Chunker(size: 80, overlap: 10))
        try await collection.add(
            [
                Document(id: "http", text: "An HTTP server framework with routing, middleware and WebSockets for Swift."),
                Document(id: "plot", text: "Draw line charts, bar charts and scatter plots from data frames."),
                Document(id: "crypto", text: "Hashing, signatures and encryption: SHA-256, Ed25519 and AES-GCM."),
            ], embedder: embedder)
        let hits = try await collection.retrieve(text: "which library can serve web requests?", embedder: embedder, options: RetrievalOptions(k: 1))
        #expect(hits.first?.chunk.documentID == "http")
        // The same text through the model directly gives the stored vector.
        let model = try embedder.model()
        let direct = model.embed("An HTTP server framework with routing, middleware and WebSockets for Swift.")
        let via = try await embedder.embed(["An HTTP server framework with routing, middleware and WebSockets for Swift."])[0]
        #expect(zip(direct, via).allSatisfy { abs($0 - $1) < 1e-6 })

        let small = try DocumentCollection.create(at: dir + "/small", dimension: 8, index: .flat)
        await #expect(throws: CollectionError.embedderDimension(embedder: 384, collection: 8)) {
            _ = try await small.retrieve(text: "anything", embedder: embedder)
        }
        let missing = try BuiltInEmbedder(directory: dir + "/no-model")
        await #expect(throws: EmbeddingModelError.missingFile(path: dir + "/no-model")) { _ = try await missing.embed(["x"]) }
        #expect(throws: VectorSearchError.self) { try BuiltInEmbedder(batchSize: 0) }
    }
}
