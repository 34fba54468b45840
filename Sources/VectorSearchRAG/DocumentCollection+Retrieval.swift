import VectorSearch

// Retrieval: the vector search, hybrid keyword fusion, thresholds, per-document limits and MMR.
extension DocumentCollection {
    /// The chunks nearest to `vector` (among those `options.filter` admits), re-ranked as
    /// `options` asks. `text` is the query's text, for hybrid keyword search.
    public func retrieve(vector: [Float], text: String? = nil, options: RetrievalOptions = RetrievalOptions()) throws -> [RetrievedChunk] {
        try retrieve(vector: vector, text: text, options: options, index: nil)
    }

    /// As ``retrieve(vector:text:options:)``, searching `alternate` (an index built over the
    /// collection's chunks by ``buildIndex(kind:hnsw:ivf:)``) instead of the collection's own.
    func retrieve(vector: [Float], text: String?, options: RetrievalOptions, index alternate: CollectionIndex?) throws -> [RetrievedChunk] {
        try ParameterCheck.atLeast(0, "k", options.k)
        if options.hybrid, text == nil { throw CollectionError.hybridNeedsText }
        if let candidates = options.candidates { try ParameterCheck.atLeast(0, "candidates", candidates) }
        guard vector.count == dimension else { throw VectorSearchError.dimensionMismatch(expected: dimension, actual: vector.count, row: nil) }
        return try read { database in
            let index = try alternate ?? currentIndex(database)
            let query = options.adapter ? try adapter(database)?.apply(vector) ?? vector : vector
            return try state.withReadLock { try rank(query, text: text, options: options, index: index, database: database) }
        }
    }

    /// The k nearest chunks by the collection's own index alone (no re-ranking, no adapter).
    func searchIndex(_ vector: [Float], k: Int, options: SearchOptions, filter: Filter?) throws -> [Neighbor] {
        try read { database in
            let index = try currentIndex(database)
            return try state.withReadLock { try index.search(vector, k: min(k, index.count), options: options, filter: filter) }
        }
    }

    /// The `wanted` nearest chunks that this read's snapshot holds, with their stored chunks
    /// added to `stored`. The shared index may be newer than the snapshot (another thread caught
    /// it up further): chunks added since are not visible here, so the search goes deeper until
    /// `wanted` visible ones are found or the index is exhausted.
    private func visibleHits(
        _ vector: [Float], wanted: Int, options: RetrievalOptions, index: CollectionIndex, database: SQLiteDatabase,
        stored: inout [VectorID: Chunk]
    ) throws -> [Neighbor] {
        var depth = wanted
        while true {
            let hits = try index.search(vector, k: depth, options: options.search, filter: options.filter)
            var visible: [Neighbor] = []
            for hit in hits {
                if stored[hit.id] == nil { stored[hit.id] = try storedChunk(database, hit.id) }
                if stored[hit.id] != nil { visible.append(hit) }
            }
            if visible.count >= wanted || hits.count < depth || depth >= index.count { return Array(visible.prefix(wanted)) }
            depth = min(ParameterCheck.saturatingProduct(depth, 2), index.count)
        }
    }

    /// The work of ``retrieve(vector:text:options:)`` on the index and the read transaction it
    /// has, under the read lock of `state`.
    private func rank(
        _ vector: [Float], text: String?, options: RetrievalOptions, index: CollectionIndex, database: SQLiteDatabase
    ) throws -> [RetrievedChunk] {
        // Never more than the collection holds, so no count below can overflow.
        let k = min(options.k, index.count)
        let wanted = min(options.reranks ? options.candidates ?? max(4 * k, 20) : k, index.count)
        var stored: [VectorID: Chunk] = [:]
        let hits = try visibleHits(vector, wanted: wanted, options: options, index: index, database: database, stored: &stored)
        var ranked = hits.map(\.id)
        var scores = Dictionary(uniqueKeysWithValues: hits.map { ($0.id, $0.score) })
        var fused: [VectorID: Double] = [:]
        if options.hybrid, let text {
            let keywordHits = try keywordSearch(database, text, k: wanted) { id in
                options.filter.map { $0.matches(index.attributes(for: id) ?? [:]) } ?? true
            }
            let fusion = Ranking.reciprocalRankFusion([ranked, keywordHits])
            ranked = fusion.map(\.id)
            fused = Dictionary(uniqueKeysWithValues: fusion.map { ($0.id, $0.score) })
            for id in ranked where scores[id] == nil { scores[id] = score(vector, index.vector(for: id)) }
            ranked.removeAll { scores[$0] == nil }
        }
        if let threshold = options.minScore {
            ranked.removeAll { metric.higherIsCloser ? scores[$0]! < threshold : scores[$0]! > threshold }
        }
        for id in ranked where stored[id] == nil { stored[id] = try storedChunk(database, id) }
        ranked.removeAll { stored[$0] == nil }
        if let limit = options.maxChunksPerDocument {
            var taken: [String: Int] = [:]
            ranked = ranked.filter { id in
                let document = stored[id]!.documentID
                taken[document, default: 0] += 1
                return taken[document]! <= limit
            }
        }
        if let lambda = options.mmrLambda {
            ranked.removeAll { index.vector(for: $0) == nil }
            let picked = Ranking.maximalMarginalRelevance(
                query: vector, candidates: ranked.map { index.vector(for: $0)! }, k: options.k, lambda: lambda)
            ranked = picked.map { ranked[$0] }
        }
        // Metadata as stored (JSON), decoded for the chunks returned only.
        var metadataOf: [String: Attributes] = [:]
        return try ranked.prefix(options.k).map { id in
            let chunk = stored[id]!
            if metadataOf[chunk.documentID] == nil { metadataOf[chunk.documentID] = try documentMetadata(database, chunk.documentID) }
            return RetrievedChunk(chunkID: id, score: scores[id]!, fusedScore: fused[id], chunk: chunk, metadata: metadataOf[chunk.documentID]!)
        }
    }

    /// As ``retrieve(vector:text:options:)``, embedding `text` with `embedder` first.
    public func retrieve(text: String, embedder: some Embedder, options: RetrievalOptions = RetrievalOptions()) async throws -> [RetrievedChunk] {
        let vectors = try await embedder.embed([text])
        guard let vector = vectors.first, vectors.count == 1 else {
            throw CollectionError.embedderReturned(vectors: vectors.count, texts: 1)
        }
        guard vector.count == dimension else { throw CollectionError.embedderDimension(embedder: vector.count, collection: dimension) }
        return try retrieve(vector: vector, text: text, options: options)
    }

    /// The chunks whose text best matches the words of `text` by FTS5's BM25, best first, at most
    /// `k` of those `isAllowed` admits. Every word is a term (any of them may match).
    func keywordSearch(_ database: SQLiteDatabase, _ text: String, k: Int, isAllowed: (VectorID) -> Bool = { _ in true }) throws -> [VectorID] {
        let terms = Self.terms(text)
        guard !terms.isEmpty, k > 0 else { return [] }
        let query = terms.map { "\"\($0)\"" }.joined(separator: " OR ")
        // Ranked in FTS5 alone (no join: that would carry every match's row through the sort);
        // when the filter refuses some, ask again for more.
        var limit = k
        while true {
            let ranked = try database.rows(
                "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?", .text(query), .integer(Int64(limit))
            ) { VectorID(bitPattern: $0.int64(0)) }
            let allowed = ranked.filter(isAllowed)
            if allowed.count >= k || ranked.count < limit { return Array(allowed.prefix(k)) }
            limit = limit.multipliedReportingOverflow(by: 4).overflow ? Int.max : limit * 4
        }
    }

    /// The words of `text` as keyword search takes them: maximal runs of letters and digits,
    /// lower-cased (FTS5's unicode61 tokenizer also folds diacritics).
    static func terms(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    /// A stored chunk, or nil if it is gone.
    private func storedChunk(_ database: SQLiteDatabase, _ id: VectorID) throws -> Chunk? {
        try database.rows(
            "SELECT document, position, range_start, range_end, text FROM chunks WHERE id = ?", .integer(Int64(bitPattern: id))
        ) { row in
            Chunk(documentID: row.text(0), index: row.int(1), range: row.int(2)..<max(row.int(2), row.int(3)), text: row.text(4))
        }.first
    }

    /// A document's metadata as stored.
    private func documentMetadata(_ database: SQLiteDatabase, _ id: String) throws -> Attributes {
        let json = try database.rows("SELECT metadata FROM documents WHERE id = ?", .text(id)) { $0.text(0) }.first ?? "{}"
        return try CollectionSchema.metadata(json, database: database)
    }

    /// The public score of a stored vector for `query`, as a search reports it.
    private func score(_ query: [Float], _ stored: [Float]?) -> Float? {
        guard let stored else { return nil }
        return switch metric {
        case .l2: Distance.l2Squared(query, stored)
        case .innerProduct: Distance.innerProduct(query, stored)
        case .cosine: Distance.innerProduct(query, stored) / Distance.norm(query)  // stored rows are unit length
        }
    }
}

/// What ``DocumentCollection/retrieve(vector:text:options:)`` returns and how it ranks.
public struct RetrievalOptions: Sendable {
    /// Chunks to return at most.
    public var k: Int
    /// Only chunks of documents whose metadata satisfies this.
    public var filter: Filter?
    /// Keep only chunks at least this close: similarity ≥ minScore for cosine and inner
    /// product, squared distance ≤ minScore for L2.
    public var minScore: Float?
    /// Maximal marginal relevance with this λ (1: pure relevance, 0: pure diversity); nil: off.
    public var mmrLambda: Double?
    /// At most this many chunks of one document.
    public var maxChunksPerDocument: Int?
    /// Fuse the vector ranking with a BM25 keyword ranking of the query text (reciprocal rank fusion).
    public var hybrid: Bool
    /// Candidates fetched before re-ranking (threshold, per-document limit, MMR, hybrid);
    /// nil: max(4k, 20). Without re-ranking exactly k are fetched, as a plain search would.
    public var candidates: Int?
    /// The index's search settings (HNSW `ef`, IVF `nprobe`, the filter strategy): the same
    /// value configures a collection of any index kind.
    public var search: SearchOptions
    /// Apply the collection's query adapter (``DocumentCollection/queryAdapter``), when it has
    /// one, to the query vector.
    public var adapter: Bool

    public init(
        k: Int = 5, filter: Filter? = nil, minScore: Float? = nil, mmrLambda: Double? = nil, maxChunksPerDocument: Int? = nil,
        hybrid: Bool = false, candidates: Int? = nil, search: SearchOptions = .default, adapter: Bool = true
    ) {
        self.adapter = adapter
        self.k = k
        self.filter = filter
        self.minScore = minScore
        self.mmrLambda = mmrLambda
        self.maxChunksPerDocument = maxChunksPerDocument
        self.hybrid = hybrid
        self.candidates = candidates
        self.search = search
    }

    var reranks: Bool { minScore != nil || mmrLambda != nil || maxChunksPerDocument != nil || hybrid }
}

/// One retrieved chunk, with what a citation needs. Encodes as JSON
/// `{"score", "fused_score", "document", "chunk_index", "start", "end", "text", "metadata"}`.
public struct RetrievedChunk: Sendable, Hashable, Encodable {
    /// The chunk's vector id in the collection's index.
    public var chunkID: VectorID
    /// The vector search's score (see ``Metric``).
    public var score: Float
    /// The reciprocal-rank-fusion score, for hybrid retrieval.
    public var fusedScore: Double?
    /// Document id, position, character range and text.
    public var chunk: Chunk
    /// The document's metadata.
    public var metadata: Attributes

    public init(chunkID: VectorID, score: Float, fusedScore: Double? = nil, chunk: Chunk, metadata: Attributes) {
        self.chunkID = chunkID
        self.score = score
        self.fusedScore = fusedScore
        self.chunk = chunk
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case score, fusedScore = "fused_score", documentID = "document", chunkIndex = "chunk_index", start, end, text, metadata
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(score, forKey: .score)
        try c.encodeIfPresent(fusedScore, forKey: .fusedScore)
        try c.encode(chunk.documentID, forKey: .documentID)
        try c.encode(chunk.index, forKey: .chunkIndex)
        try c.encode(chunk.range, start: .start, end: .end)
        try c.encode(chunk.text, forKey: .text)
        try c.encode(metadata, forKey: .metadata)
    }
}
