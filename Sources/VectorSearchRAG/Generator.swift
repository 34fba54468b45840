import Foundation

/// A language model that answers a prompt: in process, or a chat server.
public protocol Generator: Sendable {
    /// The model's reply to `prompt`.
    func generate(_ prompt: String) async throws -> String
}

/// A generated answer and the numbered sources its prompt gave the model.
public struct Answer: Sendable, Hashable, Encodable {
    public var text: String
    public var sources: [ContextBuilder.Source]
}

extension Generator {
    /// Asks the model the context's prompt; the answer keeps the sources it was given, so its
    /// `[n]` citations can be resolved.
    public func answer(_ context: ContextBuilder.Context) async throws -> Answer {
        Answer(text: try await generate(context.prompt), sources: context.sources)
    }
}

/// Answers from an OpenAI-compatible `/v1/chat/completions` endpoint: the prompt as the user's
/// message, after an optional system message.
public struct OpenAIChatGenerator: Generator {
    public var endpoint: OpenAIEndpoint
    public var systemPrompt: String?
    /// Sampling temperature (nil: the server's default).
    public var temperature: Double?
    /// Longest reply in tokens (nil: the server's default).
    public var maxTokens: Int?

    public init(endpoint: OpenAIEndpoint, systemPrompt: String? = nil, temperature: Double? = nil, maxTokens: Int? = nil) {
        self.endpoint = endpoint
        self.systemPrompt = systemPrompt
        self.temperature = temperature
        self.maxTokens = maxTokens
    }

    private struct Message: Codable {
        var role: String
        var content: String?
    }

    private struct Request: Encodable {
        var model: String
        var messages: [Message]
        var temperature: Double?
        var maxTokens: Int?
        var stream = false

        enum CodingKeys: String, CodingKey { case model, messages, temperature, maxTokens = "max_tokens", stream }
    }

    private struct Response: Decodable {
        struct Choice: Decodable { var message: Message }
        var choices: [Choice]
    }

    public func generate(_ prompt: String) async throws -> String {
        let messages = (systemPrompt.map { [Message(role: "system", content: $0)] } ?? []) + [Message(role: "user", content: prompt)]
        let request = Request(model: endpoint.model, messages: messages, temperature: temperature, maxTokens: maxTokens)
        let data = try await endpoint.post("chat/completions", body: request)
        let response = try endpoint.decode(Response.self, from: data, path: "chat/completions")
        guard let content = response.choices.first?.message.content else {
            throw EndpointError.malformedResponse(
                url: endpoint.url("chat/completions").absoluteString, reason: "no choices[0].message.content in the answer")
        }
        return content
    }
}
