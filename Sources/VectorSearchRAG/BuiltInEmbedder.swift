import Synchronization
import VectorSearch
import VectorSearchEmbeddings

/// The built-in sentence embedder (``SentenceEmbedder``, all-MiniLM-L6-v2 by default) as an
/// ``Embedder``: text search in process, with no server. The model loads on first use, so
/// making one costs nothing when every document brings its own vector.
public final class BuiltInEmbedder: Embedder {
    /// The model directory (a Hugging Face sentence-transformers BERT model).
    public let directory: String
    public let batchSize: Int
    public let threads: Int
    private let progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?
    private let loaded = Mutex<SentenceEmbedder?>(nil)

    public init(
        directory: String = SentenceEmbedder.defaultDirectory, batchSize: Int = 32, threads: Int = VectorSearchLibrary.coreCount,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws {
        try ParameterCheck.atLeast(1, "embedding batch size", batchSize)
        try ParameterCheck.threads(threads)
        self.directory = directory
        self.batchSize = batchSize
        self.threads = threads
        self.progress = progress
    }

    /// An adapter over a model already loaded.
    public convenience init(model: SentenceEmbedder, batchSize: Int = 32, threads: Int = VectorSearchLibrary.coreCount) throws {
        try self.init(directory: model.directory, batchSize: batchSize, threads: threads)
        loaded.withLock { $0 = model }
    }

    /// The model, loaded from ``directory`` the first time it is asked for.
    public func model() throws -> SentenceEmbedder {
        try loaded.withLock { cached throws -> SentenceEmbedder in
            if let cached { return cached }
            let model = try SentenceEmbedder(directory: directory)
            cached = model
            return model
        }
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        let vectors = try model().embed(texts, batchSize: batchSize, threads: threads, progress: progress)
        return (0..<vectors.count).map { vectors[$0] }
    }
}
