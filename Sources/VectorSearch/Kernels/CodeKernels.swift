import CVectorKernels

/// Inner products of a float32 query with coded rows (``VectorStorage``), for one storage and one
/// SIMD level, resolved once and called through C function pointers like ``DistanceKernels``.
/// int8 rows are multiplied by their scale; L2 distances come from these products and the rows'
/// stored norms (``CodedRows``).
struct CodeKernels: @unchecked Sendable {
    typealias Many =
        @convention(c) (
            UnsafePointer<Float>?, UnsafeRawPointer?, UnsafePointer<Float>?, Int, Int, UnsafeMutablePointer<Float>?
        ) -> Void
    typealias Gather =
        @convention(c) (
            UnsafePointer<Float>?, UnsafeRawPointer?, UnsafePointer<Float>?, UnsafePointer<UInt32>?, Int, Int,
            UnsafeMutablePointer<Float>?
        ) -> Void

    let storage: VectorStorage
    let level: SIMDLevel
    /// `(query, codes, scales, n, d, out)`: out[i] = query · row i of n contiguous rows.
    let dotMany: Many
    /// `(query, codes, scales, slots, n, d, out)`: out[i] = query · row slots[i].
    let dotGather: Gather
    /// int8 on AVX512-VNNI: `(q8, scale, sum, codes, scales, slots, n, d, out)`, as `dotGather`
    /// from a query quantized once by ``QuantizedQuery``, for graph walks whose candidates are
    /// re-scored exactly; nil elsewhere.
    typealias QuantizedGather =
        @convention(c) (
            UnsafePointer<Int8>?, Float, Int32, UnsafeRawPointer?, UnsafePointer<Float>?, UnsafePointer<UInt32>?, Int, Int,
            UnsafeMutablePointer<Float>?
        ) -> Void
    let quantizedGather: QuantizedGather?

    /// As `dotMany`, possibly faster and less exact: for choosing candidates that are re-scored
    /// exactly. int8 on AVX512-VNNI quantizes the query too (each product off by at most
    /// ½ · max|q|/127 · Σ|row|); otherwise `dotMany` itself.
    let candidateMany: Many

    /// The kernels for `storage` at `level`, or nil when this CPU cannot run that level or the
    /// storage is float32 (``DistanceKernels`` scores float32 rows).
    init?(storage: VectorStorage, level: SIMDLevel = .detected) {
        guard storage.isQuantized, level.rank <= SIMDLevel.detected.rank else { return nil }
        self.storage = storage
        self.level = level
        switch (level, storage) {
        case (.portable, _):
            switch storage {
            case .float16:
                dotMany = { q, x, s, n, d, out in PortableCodeKernels.many(q!, x!, s, n, d, out!, .float16) }
                dotGather = { q, x, s, slots, n, d, out in PortableCodeKernels.gather(q!, x!, s, slots!, n, d, out!, .float16) }
            case .bfloat16:
                dotMany = { q, x, s, n, d, out in PortableCodeKernels.many(q!, x!, s, n, d, out!, .bfloat16) }
                dotGather = { q, x, s, slots, n, d, out in PortableCodeKernels.gather(q!, x!, s, slots!, n, d, out!, .bfloat16) }
            default:
                dotMany = { q, x, s, n, d, out in PortableCodeKernels.many(q!, x!, s, n, d, out!, .int8) }
                dotGather = { q, x, s, slots, n, d, out in PortableCodeKernels.gather(q!, x!, s, slots!, n, d, out!, .int8) }
            }
        #if arch(x86_64)
        case (.avx512, .float16):
            (dotMany, dotGather) = (vs_dot_f16_many_avx512, vs_dot_f16_gather_avx512)
        case (.avx512, .bfloat16):
            (dotMany, dotGather) = (vs_dot_bf16_many_avx512, vs_dot_bf16_gather_avx512)
        case (.avx512, _):
            (dotMany, dotGather) = (vs_dot_i8_many_avx512, vs_dot_i8_gather_avx512)
        case (.avx2, .float16):
            (dotMany, dotGather) = (vs_dot_f16_many_avx2, vs_dot_f16_gather_avx2)
        case (.avx2, .bfloat16):
            (dotMany, dotGather) = (vs_dot_bf16_many_avx2, vs_dot_bf16_gather_avx2)
        case (.avx2, _):
            (dotMany, dotGather) = (vs_dot_i8_many_avx2, vs_dot_i8_gather_avx2)
        #else
        case (.avx512, _), (.avx2, _):
            return nil
        #endif
        }
        #if arch(x86_64)
        let vnni = level == .avx512 && storage == .int8 && Self.hasVNNI
        candidateMany = vnni ? vs_dot_i8_candidates_vnni : dotMany
        quantizedGather = vnni ? vs_dot_i8_gather_vnni : nil
        #else
        candidateMany = dotMany
        quantizedGather = nil
        #endif
    }

    /// Whether this CPU has AVX512-VNNI (and BW), for the int8 candidate kernel.
    static let hasVNNI: Bool = {
        #if arch(x86_64)
        vs_has_avx512_vnni() != 0
        #else
        false
        #endif
    }()
}

/// The Swift SIMD code kernels: the path for CPUs without the C kernels (NEON on arm64).
enum PortableCodeKernels {
    /// Eight codes from element `i` of a row, widened to float32.
    @inline(__always)
    static func widen8(_ storage: VectorStorage, _ x: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
        switch storage {
        case .float16:
            SIMD8<Float>(unsafeBitCast((x + i &* 2).loadUnaligned(as: SIMD8<UInt16>.self), to: SIMD8<Float16>.self))
        case .bfloat16:
            unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: (x + i &* 2).loadUnaligned(as: SIMD8<UInt16>.self)) &<< 16, to: SIMD8<Float>.self)
        case .int8:
            SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: (x + i).loadUnaligned(as: SIMD8<Int8>.self)))
        case .float32:
            (x + i &* 4).loadUnaligned(as: SIMD8<Float>.self)
        }
    }

    @inline(__always)
    static func one(_ q: UnsafePointer<Float>, _ row: UnsafeRawPointer, _ d: Int, _ storage: VectorStorage) -> Float {
        var sum = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= d {
            sum += UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Float>.self) * widen8(storage, row, i)
            i &+= 8
        }
        var total = (sum.lowHalf + sum.highHalf).sum()
        if i < d {  // the tail through a zeroed block, so nothing is read past the row
            let bytes = storage.bytesPerComponent
            var block = SIMD32<UInt8>()
            let tail = withUnsafeMutableBytes(of: &block) { raw in
                raw.baseAddress!.copyMemory(from: row + i &* bytes, byteCount: (d &- i) &* bytes)
                return widen8(storage, UnsafeRawPointer(raw.baseAddress!), 0)
            }
            for j in 0..<(d &- i) { total += q[i &+ j] * tail[j] }
        }
        return total
    }

    static func many(
        _ q: UnsafePointer<Float>, _ codes: UnsafeRawPointer, _ scales: UnsafePointer<Float>?, _ n: Int, _ d: Int,
        _ out: UnsafeMutablePointer<Float>, _ storage: VectorStorage
    ) {
        let rowBytes = d &* storage.bytesPerComponent
        for r in 0..<n {
            let v = one(q, codes + r &* rowBytes, d, storage)
            out[r] = scales.map { v * $0[r] } ?? v
        }
    }

    static func gather(
        _ q: UnsafePointer<Float>, _ codes: UnsafeRawPointer, _ scales: UnsafePointer<Float>?, _ slots: UnsafePointer<UInt32>,
        _ n: Int, _ d: Int, _ out: UnsafeMutablePointer<Float>, _ storage: VectorStorage
    ) {
        let rowBytes = d &* storage.bytesPerComponent
        for r in 0..<n {
            let slot = Int(slots[r])
            let v = one(q, codes + slot &* rowBytes, d, storage)
            out[r] = scales.map { v * $0[slot] } ?? v
        }
    }
}

/// A float32 query quantized to int8 once per search, for ``CodeKernels/quantizedGather``: the
/// bytes live in the caller's 64-byte-aligned buffer of ``QuantizedQuery/bufferSize(_:)`` bytes.
struct QuantizedQuery {
    let codes: UnsafePointer<Int8>
    let scale: Float
    let sum: Int32

    /// Bytes the buffer needs for a query of `dimension` components (zero-padded to 64).
    static func bufferSize(_ dimension: Int) -> Int { (dimension + 63) & ~63 }

    /// The largest dimension quantized (beyond it, walks score with the float query).
    static let maximumDimension = Int(VS_VNNI_MAX_DIMENSION)

    #if arch(x86_64)
    init(_ query: UnsafePointer<Float>, dimension: Int, into buffer: UnsafeMutablePointer<Int8>) {
        var scale: Float = 0, sum: Int32 = 0
        _ = vs_quantize_query_i8(query, dimension, buffer, &scale, &sum)
        codes = UnsafePointer(buffer)
        self.scale = scale
        self.sum = sum
    }
    #endif
}
