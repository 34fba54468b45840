import VectorSearch

/// The RAG layer's own refusals: what a collection will not do with the documents or
/// embeddings it is given. (Files, vectors and filters are refused with ``VectorSearchError``.)
public enum CollectionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// ``DocumentCollection/create(at:dimension:metric:index:hnsw:ivf:chunker:)`` on a directory
    /// that already holds a collection.
    case collectionExists(directory: String)
    /// An add of a document whose id is already in the collection (replace it instead).
    case documentExists(documentID: String)
    /// One call that gives the same document id twice.
    case documentGivenTwice(documentID: String)
    /// A document to embed whose text yields no chunk.
    case nothingToEmbed(documentID: String)
    /// A document the index refused, with the reason: `chunk` is the chunk's position in the
    /// document.
    case invalidDocument(documentID: String, chunk: Int, reason: String)
    /// An embedder that answered with another number of vectors than texts.
    case embedderReturned(vectors: Int, texts: Int)
    /// A query embedder whose vectors have another dimension than the collection's.
    case embedderDimension(embedder: Int, collection: Int)
    /// Hybrid retrieval without the query's text.
    case hybridNeedsText
    /// `rag check` found the database or the index damaged, or the two disagreeing.
    case damaged(directory: String, reason: String)

    public var description: String {
        switch self {
        case let .collectionExists(directory):
            "\(directory) already holds a collection (open it instead)"
        case let .documentExists(id):
            "document \"\(id)\" is already in the collection (replace it instead)"
        case let .documentGivenTwice(id):
            "document \"\(id)\" is given twice"
        case let .nothingToEmbed(id):
            "document \"\(id)\" has no text to embed"
        case let .invalidDocument(id, chunk, reason):
            "document \"\(id)\"\(chunk > 0 ? " (chunk \(chunk))" : ""): \(reason)"
        case let .embedderReturned(vectors, texts):
            "the embedder returned \(vectors) vectors for \(texts) text\(texts == 1 ? "" : "s")"
        case let .embedderDimension(embedder, collection):
            "the embedder gives \(embedder)-d vectors, this collection holds \(collection)-d ones: query it with the model it was embedded with"
        case let .damaged(directory, reason):
            "\(directory): \(reason) (`vectorsearch rag reindex` rebuilds the index from the database)"
        case .hybridNeedsText:
            "hybrid search needs the query's text"
        }
    }
}
