import HTTPTypes
import VectorSearch
import VectorSearchEmbeddings
import VectorSearchRAG

/// An answer other than success: the HTTP status and a sentence saying what is wrong, sent as
/// `{"error": "..."}`.
struct APIError: Error, Equatable, CustomStringConvertible {
    var status: HTTPResponse.Status
    var message: String

    var description: String { message }

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, message: message) }

    /// A library error as the client should see it: a refused input is the request's fault
    /// (400); a file or database that cannot be read is the server's (500).
    init(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as VectorSearchError:
            switch error {
            case .io, .malformedFile, .corruptIndex, .unsupportedFormatVersion, .wrongIndexKind:
                self.init(status: .internalServerError, message: error.description)
            default:
                self = .badRequest(error.description)
            }
        case let error as CollectionError:
            if case .damaged = error {
                self.init(status: .internalServerError, message: error.description)
            } else {
                self = .badRequest(error.description)
            }
        case EmbeddingModelError.missingFile(let path):
            // A request that needs text embedded, to a server started without the model.
            self = .badRequest(
                "this server has no embedding model (\(path) is missing): send vectors (\"vector\", or \"embedding\" with each document), or start it with --model"
            )
        default:
            self.init(status: .internalServerError, message: "\(error)")
        }
    }

    init(status: HTTPResponse.Status, message: String) {
        self.status = status
        self.message = message
    }
}
