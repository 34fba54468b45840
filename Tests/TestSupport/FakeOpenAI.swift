import Foundation

// Answers in the shape of the OpenAI API, for tests of the clients.

/// A made-up embedding the fake server and the tests agree on.
public func fakeEmbedding(_ text: String) -> [Float] {
    [Float(text.count), Float(text.unicodeScalars.reduce(0) { ($0 * 31 + Int($1.value)) % 1009 }) / 100, 1]
}

/// An `/v1/embeddings` answer for the request's inputs (in reverse order, with indexes, as a
/// server may send them).
public func embeddingsResponse(_ request: TestHTTPServer.Request, dimension: (Int) -> Int = { _ in 3 }) -> TestHTTPServer.Response {
    let inputs = request.json?["input"] as? [String] ?? []
    let data = inputs.enumerated().map { i, text in
        ["object": "embedding", "index": i, "embedding": Array(fakeEmbedding(text).prefix(dimension(i))).map(Double.init)] as [String: Any]
    }
    return .init(json: ["object": "list", "data": Array(data.reversed()), "model": "fake"])
}

public func chatResponse(_ content: String) -> TestHTTPServer.Response {
    .init(json: ["id": "x", "object": "chat.completion", "choices": [["index": 0, "message": ["role": "assistant", "content": content]]]])
}
