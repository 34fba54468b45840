import VectorSearch

/// Splits text into chunks of at most `size` characters that overlap by about `overlap`.
///
/// A chunk ends at the last sentence end (`.`, `!` or `?` before white space, or a line
/// break) in its second half, else at the last word end; it never cuts a word, so a single
/// word longer than `size` becomes a chunk of its own. The next chunk starts at the first
/// word that begins at least `overlap` characters before the previous end. Chunks carry their
/// character range in the document, with surrounding white space left out.
public struct Chunker: Sendable, Hashable, Codable {
    /// Most characters in a chunk (a longer single word excepted).
    public let size: Int
    /// Characters a chunk shares with the one before (rounded to word starts).
    public let overlap: Int

    /// 1,000 characters with 200 of overlap: about 250 tokens of English, a common default.
    public init(size: Int = 1000, overlap: Int = 200) throws {
        try ParameterCheck.atLeast(1, "chunk size", size)
        guard overlap >= 0, overlap < size else {
            throw VectorSearchError.invalidArgument("chunk overlap must be in 0..<\(size) (the chunk size), got \(overlap)")
        }
        self.size = size
        self.overlap = overlap
    }

    /// The chunks of `document`, in order (none for text that is only white space).
    public func chunks(of document: Document) -> [Chunk] {
        let characters = Array(document.text)
        return ranges(in: characters).enumerated().map { index, range in
            Chunk(documentID: document.id, index: index, range: range, text: String(characters[range]))
        }
    }

    /// The chunk ranges of `text`, in characters.
    public func ranges(in text: String) -> [Range<Int>] { ranges(in: Array(text)) }

    func ranges(in text: [Character]) -> [Range<Int>] {
        let n = text.count
        func isSpace(_ i: Int) -> Bool { text[i].isWhitespace }
        func skipSpace(from i: Int) -> Int {
            var i = i
            while i < n, isSpace(i) { i += 1 }
            return i
        }
        func trimEnd(_ end: Int, above start: Int) -> Int {
            var end = end
            while end > start, isSpace(end - 1) { end -= 1 }
            return end
        }
        var result: [Range<Int>] = []
        var start = skipSpace(from: 0)
        func chunkEnd(from start: Int) -> Int {
            trimEnd(start + size >= n ? n : lastBreak(in: text, from: start, to: start + size), above: start)
        }
        while start < n {
            var end = chunkEnd(from: start)
            if let previous = result.last?.upperBound, end <= previous {
                // The overlap leaves no room before a long word: start after the previous chunk.
                start = skipSpace(from: previous)
                end = chunkEnd(from: start)
            }
            result.append(start..<end)
            if end >= trimEnd(n, above: start) { break }
            // The next chunk starts on a word at or after end - overlap, and after `start`.
            var next = max(end - overlap, start + 1)
            while next < end, !isSpace(next - 1) || isSpace(next) { next += 1 }
            start = skipSpace(from: next)
        }
        return result
    }

    /// Where a chunk from `start` should end, at most at `limit` (< text.count) unless one word
    /// runs past it: a sentence end in the second half, else the last word end.
    private func lastBreak(in text: [Character], from start: Int, to limit: Int) -> Int {
        let n = text.count
        // A break at i means the chunk is text[start..<i] and text[i] is white space.
        var wordEnd: Int?
        var i = limit
        while i > start {
            if text[i].isWhitespace, !text[i - 1].isWhitespace {
                let inSecondHalf = i - start >= size / 2
                if inSecondHalf, text[i].isNewline || ".!?".contains(text[i - 1]) { return i }
                if wordEnd == nil { wordEnd = i }
                if !inSecondHalf { break }  // no sentence end counts from here on
            }
            i -= 1
        }
        if let wordEnd { return wordEnd }
        // One word longer than the chunk: take it whole.
        var end = limit
        while end < n, !text[end].isWhitespace { end += 1 }
        return end
    }
}
