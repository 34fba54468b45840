/// Every error from loading a sentence-embedding model. Each names the file (and the tensor,
/// where one is involved), so a broken or partial model directory says exactly what is wrong.
public enum EmbeddingModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No model directory, or a file the model needs is not in it.
    case missingFile(path: String)
    /// A file exists but cannot be opened or read.
    case unreadable(path: String, reason: String)
    /// A file whose contents are not what its format requires (bad JSON, a truncated
    /// safetensors file, a header that points outside the file, a vocabulary without `[CLS]`).
    case malformed(path: String, reason: String)
    /// Something this encoder does not implement: an architecture, activation, dtype or pooling.
    case unsupported(path: String, reason: String)
    /// A tensor the configuration requires is not in the weights file.
    case missingTensor(path: String, tensor: String)
    /// A tensor whose shape is not the one the configuration implies.
    case wrongShape(path: String, tensor: String, expected: [Int], actual: [Int])

    /// Where the built-in model comes from, for messages about a missing one.
    static let fetchHint =
        "fetch all-MiniLM-L6-v2 with scripts/fetch-model.sh [DIR] (from the VectorSearch repository), or pass the directory of a Hugging Face sentence-transformers BERT model"

    public var description: String {
        switch self {
        case let .missingFile(path):
            return "\(path): no such file; \(Self.fetchHint)"
        case let .unreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .malformed(path, reason):
            return "\(path): \(reason)"
        case let .unsupported(path, reason):
            return "\(path): unsupported: \(reason)"
        case let .missingTensor(path, tensor):
            return "\(path): tensor \(tensor) is missing"
        case let .wrongShape(path, tensor, expected, actual):
            return "\(path): tensor \(tensor) has shape \(actual), expected \(expected)"
        }
    }
}
