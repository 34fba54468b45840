import Foundation
import Testing
import VectorSearch
@testable import VectorSearchRAG

@Suite("Chunking and ranking")
struct ChunkingAndRankingTests {
    let prose = """
        Vector search finds the nearest neighbours of a query. Exact search compares every vector! \
        Graphs such as HNSW visit only a few thousand nodes? Inverted lists scan the nearest clusters.
        A new paragraph starts here, and it goes on for a while with words of different lengths, \
        supercalifragilisticexpialidocious among them, before it ends.
        """

    /// Checks what every chunking must hold: ranges in order inside the text, text equal to the
    /// range, no cut words, no surrounding white space, every word covered, sizes kept.
    func checkInvariants(_ text: String, _ chunker: Chunker) -> [Range<Int>] {
        let characters = Array(text)
        let ranges = chunker.ranges(in: text)
        var covered = [Bool](repeating: false, count: characters.count)
        for (i, range) in ranges.enumerated() {
            #expect(range.lowerBound >= 0 && range.upperBound <= characters.count && !range.isEmpty)
            if i > 0 { #expect(range.lowerBound > ranges[i - 1].lowerBound && range.upperBound > ranges[i - 1].upperBound) }
            #expect(range.lowerBound == 0 || characters[range.lowerBound - 1].isWhitespace, "chunk \(i) starts mid-word")
            #expect(range.upperBound == characters.count || characters[range.upperBound].isWhitespace, "chunk \(i) ends mid-word")
            #expect(!characters[range.lowerBound].isWhitespace && !characters[range.upperBound - 1].isWhitespace)
            let longestWord = String(characters[range]).split(whereSeparator: \.isWhitespace).map(\.count).max() ?? 0
            #expect(range.count <= max(chunker.size, longestWord), "chunk \(i) is \(range.count) characters")
            for j in range { covered[j] = true }
        }
        for (j, character) in characters.enumerated() where !character.isWhitespace { #expect(covered[j], "character \(j) in no chunk") }
        return ranges
    }

    @Test("chunks keep words whole, cover the text, respect the size and overlap", arguments: [(40, 10), (60, 0), (100, 30), (1000, 200)])
    func chunkInvariants(size: Int, overlap: Int) throws {
        let chunker = try Chunker(size: size, overlap: overlap)
        let ranges = checkInvariants(prose, chunker)
        let chunks = chunker.chunks(of: Document(id: "d", text: prose))
        let characters = Array(prose)
        #expect(chunks.map(\.range) == ranges)
        #expect(chunks.allSatisfy { $0.text == String(characters[$0.range]) && $0.documentID == "d" })
        #expect(chunks.map(\.index) == Array(0..<chunks.count))
        if size >= prose.count { #expect(chunks.count == 1) }
        if overlap > 0, chunks.count > 1 {
            // Consecutive chunks share text, unless a long word prevented it.
            let shared = zip(ranges, ranges.dropFirst()).filter { $1.lowerBound < $0.upperBound }.count
            #expect(shared >= ranges.count / 2, "\(shared) of \(ranges.count - 1) neighbours overlap")
        } else {
            for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(b.lowerBound >= a.upperBound) }
        }
    }

    @Test("a chunk prefers to end at a sentence in its second half")
    func sentenceBoundaries() throws {
        let text = "One two three four. Five six seven eight nine ten eleven."
        let ranges = try Chunker(size: 30, overlap: 0).ranges(in: text)
        #expect(ranges.first == 0..<19)  // "One two three four." rather than "... four. Five six"
        _ = checkInvariants(text, try Chunker(size: 30, overlap: 0))
    }

    @Test("edge cases: empty and blank text, one long word, unicode, bad parameters")
    func edgeCases() throws {
        let chunker = try Chunker(size: 10, overlap: 3)
        #expect(chunker.ranges(in: "").isEmpty)
        #expect(chunker.ranges(in: " \n\t ").isEmpty)
        #expect(chunker.ranges(in: "  word  ") == [2..<6])
        #expect(chunker.ranges(in: "abcdefghijklmnop qr") == [0..<16, 17..<19])
        _ = checkInvariants("Ünïcödé wörds 🇸🇪🇸🇪 flags and 日本語 text é", chunker)
        #expect(throws: VectorSearchError.self) { try Chunker(size: 0) }
        #expect(throws: VectorSearchError.self) { try Chunker(size: 10, overlap: 10) }
        #expect(throws: VectorSearchError.self) { try Chunker(size: 10, overlap: -1) }
    }

    /// MMR as its definition reads, recomputing every redundancy at every step.
    func referenceMMR(query: [Float], candidates: [[Float]], k: Int, lambda: Double) -> [Int] {
        func cosine(_ a: [Float], _ b: [Float]) -> Double {
            let dot = zip(a, b).map { Double($0) * Double($1) }.reduce(0, +)
            let na = a.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            let nb = b.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            return dot / (na * nb)
        }
        var picked: [Int] = []
        while picked.count < min(k, candidates.count) {
            var best = -1, bestValue = -Double.infinity
            for i in candidates.indices where !picked.contains(i) {
                let redundancy = picked.map { cosine(candidates[i], candidates[$0]) }.max() ?? 0
                let value = lambda * cosine(query, candidates[i]) - (1 - lambda) * redundancy
                if value > bestValue { (best, bestValue) = (i, value) }
            }
            picked.append(best)
        }
        return picked
    }

    @Test("MMR equals the scalar reference; λ = 1 keeps the relevance order", arguments: [0.0, 0.3, 0.5, 0.7, 1.0])
    func mmr(lambda: Double) {
        var random = SystemRandomNumberGenerator()
        for trial in 0..<20 {
            let dimension = 3 + trial % 7
            let query = (0..<dimension).map { _ in Float.random(in: -1...1, using: &random) }
            let candidates = (0..<(5 + trial)).map { _ in (0..<dimension).map { _ in Float.random(in: -1...1, using: &random) } }
            let k = 1 + trial % 6
            let picked = Ranking.maximalMarginalRelevance(query: query, candidates: candidates, k: k, lambda: lambda)
            #expect(picked == referenceMMR(query: query, candidates: candidates, k: k, lambda: lambda))
            if lambda == 1 {
                let byRelevance = candidates.indices.sorted { Ranking.cosine(query, candidates[$0]) > Ranking.cosine(query, candidates[$1]) }
                #expect(picked == Array(byRelevance.prefix(k)))
            }
        }
        #expect(Ranking.maximalMarginalRelevance(query: [1, 0], candidates: [], k: 3, lambda: lambda).isEmpty)
    }

    @Test("MMR skips a near-duplicate")
    func mmrDiversity() {
        let picked = Ranking.maximalMarginalRelevance(
            query: [1, 0], candidates: [[1, 0.01], [1, 0.02], [0.6, 0.8]], k: 2, lambda: 0.3)
        #expect(picked == [0, 2])
    }

    @Test("reciprocal rank fusion sums 1 / (60 + rank)")
    func rrf() {
        let fused = Ranking.reciprocalRankFusion([[7, 8, 9], [9, 7]])
        #expect(fused.map(\.id) == [7, 9, 8])
        #expect(abs(fused[0].score - (1.0 / 61 + 1.0 / 62)) < 1e-15)
        #expect(abs(fused[1].score - (1.0 / 63 + 1.0 / 61)) < 1e-15)
        #expect(abs(fused[2].score - 1.0 / 62) < 1e-15)
        #expect(Ranking.reciprocalRankFusion([[1], [2]]).map(\.id) == [1, 2], "ties by id")
    }

    @Test("context: overlapping chunks of a document merge, sources are numbered and fit the budget")
    func context() throws {
        let text = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu."
        let chunks = try Chunker(size: 25, overlap: 8).chunks(of: Document(id: "greek", text: text))
        #expect(chunks.count >= 3)
        func retrieved(_ chunk: Chunk, _ score: Float) -> RetrievedChunk {
            RetrievedChunk(chunkID: VectorID(chunk.index), score: score, fusedScore: nil, chunk: chunk, metadata: ["lang": "el"])
        }
        let other = Chunk(documentID: "other", index: 0, range: 0..<11, text: "Other text.")
        // Best first: chunk 1 of greek, the other document, chunk 0 of greek (overlaps chunk 1).
        let hits = [retrieved(chunks[1], 0.9), retrieved(other, 0.8), retrieved(chunks[0], 0.7)]
        let context = ContextBuilder(budget: .characters(1000)).build(question: "Which letters?", chunks: hits)
        #expect(context.sources.map(\.number) == [1, 2])
        #expect(context.sources[0].documentID == "greek" && context.sources[1].documentID == "other")
        let merged = chunks[0].range.lowerBound..<chunks[1].range.upperBound
        #expect(context.sources[0].range == merged)
        #expect(context.sources[0].text == String(Array(text)[merged]))
        #expect(context.sources[0].score == 0.9)
        #expect(context.prompt.contains("[1] (greek, characters \(merged.lowerBound)–\(merged.upperBound)) \(context.sources[0].text)"))
        #expect(context.prompt.contains("[2] (other, characters 0–11) Other text."))
        #expect(context.prompt.hasSuffix("Question: Which letters?\nAnswer:"))

        // A budget that holds the first source only; then one smaller than it (cut to fit).
        let tight = ContextBuilder(budget: .characters(context.sources[0].text.count + 5)).build(question: "q", chunks: hits)
        #expect(tight.sources.map(\.documentID) == ["greek"])
        let cut = ContextBuilder(budget: .tokens(2)).build(question: "q", chunks: hits)
        #expect(cut.sources.count == 1 && cut.sources[0].text.count == 8 && cut.sources[0].range.count == 8)

        let custom = ContextBuilder(template: { q, s in "\(q): \(s.map(\.documentID).joined(separator: ","))" })
        #expect(custom.build(question: "Q", chunks: hits).prompt == "Q: greek,other")
        #expect(ContextBuilder().build(question: "Q", chunks: []).sources.isEmpty)
    }
}
