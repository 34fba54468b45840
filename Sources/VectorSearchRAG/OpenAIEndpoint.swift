import VectorSearch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An OpenAI-compatible HTTP server (OpenAI, Ollama, llama.cpp server, vLLM, TEI, ...) and how to
/// talk to it: which model, which key, how long to wait and how often to retry.
public struct OpenAIEndpoint: Sendable {
    /// The server, e.g. `https://api.openai.com/v1` or `http://localhost:11434`. Requests go to
    /// `BASE/v1/embeddings` and `BASE/v1/chat/completions`; a base that already ends in `/v1`,
    /// or in the whole path, is used as it is.
    public var baseURL: URL
    public var model: String
    /// Sent as `Authorization: Bearer KEY` when set (local servers usually need none).
    public var apiKey: String?
    /// Seconds to wait for each response (whole seconds: a fraction is rounded up).
    public var timeout: Double
    /// Further attempts after a 429 or 5xx answer.
    public var maxRetries: Int
    /// Seconds before the first retry; doubled for each one after, and replaced by the server's
    /// `Retry-After` when it sends one (never more than `maxBackoff`).
    public var initialBackoff: Double
    public var maxBackoff: Double

    /// - Parameter apiKey: defaults to the environment variable `OPENAI_API_KEY`, if set.
    public init(
        baseURL: URL, model: String, apiKey: String? = OpenAIEndpoint.apiKey(fromEnvironment: "OPENAI_API_KEY"),
        timeout: Double = 60, maxRetries: Int = 3, initialBackoff: Double = 0.5, maxBackoff: Double = 30
    ) throws {
        guard let scheme = baseURL.scheme?.lowercased(), ["http", "https"].contains(scheme), baseURL.host != nil else {
            throw VectorSearchError.invalidArgument("endpoint \(baseURL.absoluteString) is not an http:// or https:// URL")
        }
        guard !model.isEmpty else { throw VectorSearchError.invalidArgument("endpoint \(baseURL.absoluteString): no model given") }
        guard timeout > 0, maxRetries >= 0, initialBackoff >= 0, maxBackoff >= 0 else {
            throw VectorSearchError.invalidArgument("endpoint timeout must be positive, retries and backoff non-negative")
        }
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.timeout = timeout
        self.maxRetries = maxRetries
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// The value of the environment variable `name`, or nil when it is unset or empty.
    public static func apiKey(fromEnvironment name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// The URL of `path` (`embeddings`, `chat/completions`) under the base.
    func url(_ path: String) -> URL {
        let base = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        if base.hasSuffix("/" + path) { return URL(string: base)! }
        if base.hasSuffix("/v1") { return URL(string: base + "/" + path)! }
        return URL(string: base + "/v1/" + path)!
    }

    /// POSTs `body` as JSON to `path` and returns the response body of a 2xx answer, retrying
    /// 429 and 5xx answers with backoff.
    func post(_ path: String, body: some Encodable) async throws -> Data {
        let url = url(path)
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        request.httpBody = try JSONEncoder().encode(body)
        // Linux's URLSession ignores a request's own timeout and keeps its session's, in whole
        // seconds (rounded down: 0.5 would time out at once), so round up.
        let seconds = max(1, timeout.rounded(.up))
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = seconds
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        var attempt = 0
        while true {
            let data: Data, response: URLResponse
            do {
                (data, response) = try await session.response(for: request)
            } catch let error as URLError where error.code == .timedOut {
                throw EndpointError.timedOut(url: url.absoluteString, seconds: seconds)
            } catch let error as CancellationError {
                throw error
            } catch {
                throw EndpointError.unreachable(url: url.absoluteString, reason: error.localizedDescription)
            }
            guard let http = response as? HTTPURLResponse else {
                throw EndpointError.malformedResponse(url: url.absoluteString, reason: "not an HTTP response")
            }
            if (200..<300).contains(http.statusCode) { return data }
            let retryable = http.statusCode == 429 || (500..<600).contains(http.statusCode)
            guard retryable, attempt < maxRetries else {
                throw EndpointError.badStatus(
                    url: url.absoluteString, status: http.statusCode, attempts: attempt + 1, message: Self.errorMessage(data))
            }
            let retryAfter = http.value(forHTTPHeaderField: "Retry-After").flatMap(Double.init)
            let wait = min(retryAfter ?? initialBackoff * Double(1 << min(attempt, 20)), maxBackoff)
            attempt += 1
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        }
    }

    /// What an error body says: OpenAI's `{"error": {"message": ...}}` (or `{"error": "..."}`),
    /// else the start of the text.
    static func errorMessage(_ data: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let error = object["error"] as? [String: Any], let message = error["message"] as? String { return message }
            if let message = object["error"] as? String ?? object["message"] as? String { return message }
        }
        let text = String(decoding: data.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return data.count > 300 ? text + "…" : text
    }

    /// Decodes a 2xx body, naming the endpoint when it is not what the API promises.
    func decode<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw EndpointError.malformedResponse(url: url(path).absoluteString, reason: Self.describe(error))
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .dataCorrupted(let context): return "not valid JSON\(at(context.codingPath))"
        case .keyNotFound(let key, let context): return "no \"\(key.stringValue)\"\(at(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "unexpected value\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// What went wrong talking to an endpoint; each case names the URL.
public enum EndpointError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No connection (refused, unknown host, TLS failure, ...).
    case unreachable(url: String, reason: String)
    case timedOut(url: String, seconds: Double)
    /// A non-2xx answer: not retryable, or still failing after the retries.
    case badStatus(url: String, status: Int, attempts: Int, message: String)
    /// A 2xx answer that is not the API's JSON.
    case malformedResponse(url: String, reason: String)
    /// An embedding of another length than expected.
    case wrongDimension(url: String, expected: Int, actual: Int, text: Int)

    public var description: String {
        switch self {
        case let .unreachable(url, reason): "\(url): unreachable: \(reason)"
        case let .timedOut(url, seconds): "\(url): no answer within \(seconds) s"
        case let .badStatus(url, status, attempts, message):
            "\(url): HTTP \(status)\(attempts > 1 ? " after \(attempts) attempts" : "")\(message.isEmpty ? "" : ": \(message)")"
        case let .malformedResponse(url, reason): "\(url): malformed response: \(reason)"
        case let .wrongDimension(url, expected, actual, text):
            "\(url): embedding of text \(text) has \(actual) components, expected \(expected)"
        }
    }
}
