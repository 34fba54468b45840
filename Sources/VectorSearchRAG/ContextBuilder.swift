import VectorSearch

/// Packs retrieved chunks into a prompt for a language model, with numbered sources.
///
/// Chunks of one document that overlap or touch are merged into one source (their ranges
/// joined). Sources keep the order of their best chunk and are added while they fit the
/// budget; the first source is cut to the budget if it alone is larger. Each is numbered
/// `[1]`..`[n]` so the model, and the reader, can cite it.
public struct ContextBuilder: Sendable {
    /// How much source text a prompt may hold.
    public enum Budget: Sendable, Hashable {
        case characters(Int)
        /// Approximate tokens, counted as characters / 4 (English text through a BPE tokenizer).
        case tokens(Int)

        var characters: Int {
            switch self {
            case .characters(let n): n
            case .tokens(let n): n.multipliedReportingOverflow(by: 4).overflow ? .max : 4 * n
            }
        }
    }

    public var budget: Budget
    /// Renders the prompt from the question and the numbered sources.
    public var template: @Sendable (_ question: String, _ sources: [Source]) -> String

    public init(budget: Budget = .tokens(1500), template: @escaping @Sendable (String, [Source]) -> String = ContextBuilder.defaultTemplate) {
        self.budget = budget
        self.template = template
    }

    /// One numbered source in a prompt. Encodes as JSON
    /// `{"number", "document", "start", "end", "score", "text", "metadata"}`.
    public struct Source: Sendable, Hashable, Encodable {
        /// Its number in the prompt, from 1.
        public var number: Int
        public var documentID: String
        /// The character range in the document (several chunks merged: from the first start to the last end).
        public var range: Range<Int>
        public var text: String
        public var metadata: Attributes
        /// The best score among its chunks.
        public var score: Float

        enum CodingKeys: String, CodingKey { case number, documentID = "document", start, end, score, text, metadata }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(number, forKey: .number)
            try c.encode(documentID, forKey: .documentID)
            try c.encode(range, start: .start, end: .end)
            try c.encode(score, forKey: .score)
            try c.encode(text, forKey: .text)
            try c.encode(metadata, forKey: .metadata)
        }
    }

    /// A prompt and the sources it cites.
    public struct Context: Sendable, Hashable, Encodable {
        public var prompt: String
        public var sources: [Source]
    }

    /// The prompt for `question` from `chunks` (best first, as retrieved).
    public func build(question: String, chunks: [RetrievedChunk]) -> Context {
        let sources = Self.pack(Self.merge(chunks), characters: budget.characters)
        return Context(prompt: template(question, sources), sources: sources)
    }

    /// Overlapping or touching chunks of one document joined, in the order of each group's best chunk.
    static func merge(_ chunks: [RetrievedChunk]) -> [Source] {
        var groups: [(documentID: String, parts: [(rank: Int, chunk: RetrievedChunk)])] = []
        for (rank, chunk) in chunks.enumerated() {
            if let g = groups.firstIndex(where: { $0.documentID == chunk.chunk.documentID }) {
                groups[g].parts.append((rank, chunk))
            } else {
                groups.append((chunk.chunk.documentID, [(rank, chunk)]))
            }
        }
        var sources: [Source] = []
        for group in groups {
            // Within a document: sort by position, join runs whose ranges overlap or touch.
            var runs: [(best: Int, source: Source)] = []
            for (rank, part) in group.parts.sorted(by: { $0.chunk.chunk.range.lowerBound < $1.chunk.chunk.range.lowerBound }) {
                if var last = runs.last, part.chunk.range.lowerBound <= last.source.range.upperBound {
                    let overlap = last.source.range.upperBound - part.chunk.range.lowerBound
                    if part.chunk.range.upperBound > last.source.range.upperBound {
                        last.source.text += String(part.chunk.text.dropFirst(overlap))
                        last.source.range = last.source.range.lowerBound..<part.chunk.range.upperBound
                    }
                    last.source.score = max(last.source.score, part.score)
                    last.best = min(last.best, rank)
                    runs[runs.count - 1] = last
                } else {
                    runs.append(
                        (
                            rank,
                            Source(
                                number: 0, documentID: group.documentID, range: part.chunk.range, text: part.chunk.text,
                                metadata: part.metadata, score: part.score)
                        ))
                }
            }
            sources += runs.sorted { $0.best < $1.best }.map(\.source)
        }
        return sources
    }

    /// The sources that fit in `characters`, numbered.
    static func pack(_ sources: [Source], characters: Int) -> [Source] {
        let characters = max(0, characters)  // a negative budget packs nothing
        var packed: [Source] = []
        var used = 0
        for var source in sources {
            if used + source.text.count > characters {
                guard packed.isEmpty else { continue }
                source.text = String(source.text.prefix(characters))
                source.range = source.range.lowerBound..<(source.range.lowerBound + source.text.count)
            }
            used += source.text.count
            source.number = packed.count + 1
            packed.append(source)
        }
        return packed
    }

    /// "Answer using only the sources below; cite them as [n]", the sources, the question.
    public static let defaultTemplate: @Sendable (String, [Source]) -> String = { question, sources in
        var lines = [
            "Answer the question using only the sources below. Cite the sources you use as [n].",
            "If the sources do not contain the answer, say so.",
            "",
            "Sources:",
        ]
        for source in sources {
            lines.append("[\(source.number)] (\(source.documentID), characters \(source.range.lowerBound)–\(source.range.upperBound)) \(source.text)")
        }
        lines += ["", "Question: \(question)", "Answer:"]
        return lines.joined(separator: "\n")
    }
}
