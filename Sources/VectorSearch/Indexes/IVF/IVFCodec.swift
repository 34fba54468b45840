/// How an IVF index compresses what its lists scan: product quantization (PQ). Each vector's
/// residual against its list's centroid (as FAISS's `IndexIVFPQ`) is cut into `subquantizers`
/// slices of equal length, and each slice is replaced by the number of its nearest centroid in
/// that slice's codebook (trained by k-means on the training sample's residuals). A query scores a
/// code by adding one table entry per slice, so a list is scanned without reading a float.
///
/// The codes lose accuracy (on MiniLM sentence embeddings no code under about 5 bits per dimension
/// finds 0.95 of the true top 10 alone), so searches re-rank: ``SearchOptions/rerank`` × k
/// candidates found on the codes are re-scored with the float32 vectors, which the lists keep.
///
/// ```swift
/// let codec = try IVFCodec(.pq4fs, subquantizers: 96)          // 48 bytes per 384-d vector
/// let index = try IVFIndex(dimension: 384, metric: .cosine, parameters: IVFParameters(nlist: 256, codec: codec))
/// try index.train(vectors)                                       // k-means, then the codebooks
/// try index.add(vectors)
/// let hits = try index.search(query, k: 10, options: SearchOptions(nprobe: 32, rerank: 10))
/// ```
public struct IVFCodec: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// 8 bits per slice (256 centroids): `subquantizers` bytes per vector, scored from a float
        /// table of 256 entries per slice.
        case pq
        /// 4 bits per slice (16 centroids), laid out in blocks of 32 vectors and scored with byte
        /// tables held in SIMD registers (`vpshufb`), 16-bit sums ("fast scan", FAISS's
        /// `PQ…x4fs`): half a byte per slice, and the fastest scan of all.
        case pq4fs
    }

    public var kind: Kind
    /// Slices per vector; must divide the dimension. At most 256 for `pq4fs` (its 16-bit sums).
    public var subquantizers: Int
    /// Learn a rotation first (OPQ: alternating PQ training with an orthogonal Procrustes step,
    /// solved by LAPACK's SVD) that makes the slices lose less; one d×d product per query.
    public var rotation: Bool
    /// Code the residual against the list's centroid (true, as FAISS) or the vector itself.
    public var residual: Bool

    public init(_ kind: Kind, subquantizers: Int, rotation: Bool = false, residual: Bool = true) throws {
        self.kind = kind
        self.subquantizers = subquantizers
        self.rotation = rotation
        self.residual = residual
        try validate()
    }

    /// Bits per slice: 8 for `pq`, 4 for `pq4fs`.
    public var bits: Int { kind == .pq ? 8 : 4 }

    /// Bytes of codes per vector (`pq4fs` pads its slices to a multiple of 4).
    public var bytesPerVector: Int { kind == .pq ? subquantizers : paddedSubquantizers / 2 }

    /// Bytes of codes a list of `rows` rows holds, as the scan reads them (pq4fs: whole blocks of 32).
    func codeBytes(rows: Int) -> Int {
        kind == .pq ? rows * subquantizers : (rows + 31) / 32 * paddedSubquantizers * 16
    }

    /// Slices as the fast-scan kernels read them: a multiple of 4, the padding scored as zero.
    var paddedSubquantizers: Int { kind == .pq ? subquantizers : (subquantizers + 3) / 4 * 4 }

    public var description: String {
        "\(kind.rawValue) m=\(subquantizers)\(rotation ? " opq" : "")\(residual ? "" : " no-residual")"
    }

    /// Throws ``VectorSearchError/invalidParameter(name:value:requirement:)`` for a value out of range.
    public func validate() throws {
        try ParameterCheck.atLeast(1, "PQ subquantizers", subquantizers)
        if kind == .pq4fs, subquantizers > 256 {
            throw VectorSearchError.invalidParameter(
                name: "PQ subquantizers", value: "\(subquantizers)", requirement: "at most 256 for pq4fs (its sums are 16-bit)")
        }
    }

    /// Checks the codec fits an index of this dimension and storage.
    func validate(dimension: Int, storage: VectorStorage) throws {
        try validate()
        guard dimension % subquantizers == 0 else {
            throw VectorSearchError.invalidParameter(
                name: "PQ subquantizers", value: "\(subquantizers)", requirement: "a divisor of the dimension \(dimension)")
        }
        guard storage == .float32 else {
            throw VectorSearchError.invalidArgument("an IVF codec scans its own codes: give it float32 storage, not \(storage.rawValue)")
        }
    }
}
