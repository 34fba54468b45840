/// How vectors are compared.
///
/// Inside every index the value is a *distance* (smaller is closer): squared L2, or the
/// negated inner product. It becomes the public ``Neighbor/score`` here, at the API boundary:
/// - ``l2``: score is the squared Euclidean distance (smaller is closer), as FAISS `METRIC_L2`,
///   hnswlib `l2` and USearch `l2sq` report it.
/// - ``innerProduct``: score is the inner product (larger is closer).
/// - ``cosine``: score is the cosine similarity in [-1, 1] (larger is closer). Stored vectors are
///   normalised once at insert; zero vectors are refused.
public enum Metric: String, Sendable, CaseIterable, Codable {
    case l2
    case innerProduct = "ip"
    case cosine

    /// Whether a larger score means closer.
    public var higherIsCloser: Bool { self != .l2 }

    /// Public score from an internal distance.
    @inlinable public func score(fromDistance distance: Float) -> Float {
        self == .l2 ? distance : -distance
    }

    /// Internal distance from a public score.
    @inlinable public func distance(fromScore score: Float) -> Float {
        self == .l2 ? score : -score
    }

    /// Parses `l2`, `ip` / `inner_product` / `dot`, `cosine` / `angular`.
    public init?(name: String) {
        switch name.lowercased() {
        case "l2", "euclidean", "l2sq": self = .l2
        case "ip", "inner_product", "innerproduct", "dot": self = .innerProduct
        case "cosine", "angular", "cos": self = .cosine
        default: return nil
        }
    }

    var code: UInt32 {
        switch self {
        case .l2: 0
        case .innerProduct: 1
        case .cosine: 2
        }
    }

    init?(code: UInt32) {
        switch code {
        case 0: self = .l2
        case 1: self = .innerProduct
        case 2: self = .cosine
        default: return nil
        }
    }
}

extension Metric {
    /// Turns `count` internal distances in `neighbors` into public scores, in place. L2 distances
    /// already are scores. Inner-product distances are negated; cosine ones are also divided by
    /// ‖query‖, because stored rows are unit length but queries are not normalised.
    func convertToScores(
        _ neighbors: UnsafeMutablePointer<Neighbor>, count: Int, query: UnsafePointer<Float>, dimension: Int,
        kernels: DistanceKernels
    ) {
        switch self {
        case .l2:
            return
        case .innerProduct:
            for i in 0..<count { neighbors[i].score = -neighbors[i].score }
        case .cosine:
            let scale = -1 / kernels.dot(query, query, dimension).squareRoot()
            for i in 0..<count { neighbors[i].score *= scale }
        }
    }
}
