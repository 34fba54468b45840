/// Turns texts into vectors: a model in process, or an embedding server.
public protocol Embedder: Sendable {
    /// One vector per text, in order, all of the same dimension.
    func embed(_ texts: [String]) async throws -> [[Float]]
}
