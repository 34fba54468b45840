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
    /// Turns `count` candidates' distances into public scores, in place: the one place where a
    /// distance becomes a score, after which the memory reads as ``Neighbor``s (same layout).
    /// L2 distances already are scores. Inner-product distances are negated; cosine ones are
    /// also divided by ‖query‖, because stored rows are unit length but queries are not normalised.
    func publish(
        _ candidates: UnsafeMutablePointer<Scored>, count: Int, query: UnsafePointer<Float>, dimension: Int,
        kernels: DistanceKernels
    ) {
        switch self {
        case .l2:
            return
        case .innerProduct:
            for i in 0..<count { candidates[i].distance = -candidates[i].distance }
        case .cosine:
            let scale = -1 / kernels.dot(query, query, dimension).squareRoot()
            for i in 0..<count { candidates[i].distance *= scale }
        }
    }

    /// Distances ranked through a product tile (``TopKHeap/offerProductTile``) made whole: L2
    /// gets ‖q‖² back, clamped at 0 against rounding; the others are whole already.
    func completeProductDistances(_ candidates: UnsafeMutablePointer<Scored>, count: Int, queryNormSquared: Float) {
        guard self == .l2 else { return }
        for i in 0..<count { candidates[i].distance = max(0, candidates[i].distance + queryNormSquared) }
    }
}

extension UnsafeMutablePointer where Pointee == Neighbor {
    /// Runs `body` on `capacity` results as internal candidates: searches build their heaps in
    /// the caller's results and publish them in place (``Scored`` and ``Neighbor`` share a layout).
    @inline(__always)
    func asCandidates<R>(capacity: Int, _ body: (UnsafeMutablePointer<Scored>) throws -> R) rethrows -> R {
        try withMemoryRebound(to: Scored.self, capacity: capacity, body)
    }
}
