/// How an index stores its vectors: full float32, or a smaller code searched first and, when the
/// float32 vectors are kept, re-ranked exactly (``SearchOptions/rerank``).
///
/// Measured on 50,000 all-MiniLM-L6-v2 sentence embeddings (BENCHMARKS.md): an exhaustive scan of
/// the codes finds 0.9995 (float16), 0.998 (bfloat16) and 0.993 (int8) of the exact top 10;
/// re-ranking twice k candidates restores 1.0.
public enum VectorStorage: String, Sendable, CaseIterable, Codable {
    /// 4 bytes per component: exact.
    case float32
    /// 2 bytes per component, IEEE half precision: values up to ±65,504, 11 significant bits.
    case float16
    /// 2 bytes per component, the high half of a float32: float32's range, 8 significant bits.
    case bfloat16
    /// 1 byte per component and a float32 scale per vector: component i is `code[i] × scale`,
    /// with scale = max |x| / 127. Needs no training, so vectors added later are coded as well as
    /// the first (a per-dimension range trained on a sample, FAISS's SQ8, found the same top 10
    /// on MiniLM embeddings: 0.9932 against 0.9927).
    case int8

    /// Bytes each component takes in the codes.
    public var bytesPerComponent: Int {
        switch self {
        case .float32: 4
        case .float16, .bfloat16: 2
        case .int8: 1
        }
    }

    /// Whether the vectors are coded (searched on codes, re-ranked from float32).
    public var isQuantized: Bool { self != .float32 }

    /// The code stored in index files (docs/FORMAT.md).
    var code: UInt32 {
        switch self {
        case .float32: 0
        case .float16: 1
        case .bfloat16: 2
        case .int8: 3
        }
    }

    init?(code: UInt32) {
        guard let storage = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = storage
    }

    /// The largest magnitude a component may have in this storage (float16 overflows past 65,504).
    var largestMagnitude: Float { self == .float16 ? Float(Float16.greatestFiniteMagnitude) : .greatestFiniteMagnitude }
}

/// Encoding and decoding one vector; the reference the code kernels are tested against.
enum VectorCodec {
    /// Writes the codes of `row` (d components) to `codes` and returns the row's scale (int8) or 1.
    /// Components must be finite and within ``VectorStorage/largestMagnitude`` (checked by the add path).
    @inline(__always)
    static func encode(_ storage: VectorStorage, _ row: UnsafePointer<Float>, _ d: Int, into codes: UnsafeMutableRawPointer) -> Float {
        switch storage {
        case .float32:
            codes.copyMemory(from: row, byteCount: d * 4)
        case .float16:
            let out = codes.assumingMemoryBound(to: UInt16.self)
            for i in 0..<d { out[i] = Float16(row[i]).bitPattern }
        case .bfloat16:
            let out = codes.assumingMemoryBound(to: UInt16.self)
            for i in 0..<d { out[i] = row[i].bfloat16 }
        case .int8:
            var largest: Float = 0
            for i in 0..<d { largest = max(largest, abs(row[i])) }
            let out = codes.assumingMemoryBound(to: Int8.self)
            guard largest > 0 else {
                for i in 0..<d { out[i] = 0 }
                return 0
            }
            let inverse = 127 / largest
            for i in 0..<d { out[i] = Int8(max(-127, min(127, (row[i] * inverse).rounded()))) }
            return largest / 127
        }
        return 1
    }

    /// Component `i` of a coded row, widened to float32.
    @inline(__always)
    static func component(_ storage: VectorStorage, _ codes: UnsafeRawPointer, _ i: Int, scale: Float) -> Float {
        switch storage {
        case .float32: codes.load(fromByteOffset: i * 4, as: Float.self)
        case .float16: Float(Float16(bitPattern: codes.load(fromByteOffset: i * 2, as: UInt16.self)))
        case .bfloat16: Float(bfloat16: codes.load(fromByteOffset: i * 2, as: UInt16.self))
        case .int8: Float(codes.load(fromByteOffset: i, as: Int8.self)) * scale
        }
    }

    /// ‖decoded row‖²: what L2 distances on codes add to −2 q·x.
    static func decodedNormSquared(_ storage: VectorStorage, _ codes: UnsafeRawPointer, _ d: Int, scale: Float) -> Float {
        var norm: Float = 0
        for i in 0..<d {
            let x = component(storage, codes, i, scale: scale)
            norm += x * x
        }
        return norm
    }

    /// The decoded row: what the codes stand for.
    static func decode(_ storage: VectorStorage, _ codes: UnsafeRawPointer, _ d: Int, scale: Float) -> [Float] {
        (0..<d).map { component(storage, codes, $0, scale: scale) }
    }
}
