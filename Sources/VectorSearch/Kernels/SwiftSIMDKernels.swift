// The portable kernels, written with Swift SIMD types: full speed on arm64 (NEON is baseline),
// SSE2 speed on x86-64 without AVX2, and the reference the C kernels are tested against.

@inline(__always)
func horizontalSum(_ v: SIMD16<Float>) -> Float {
    // A halving tree: three vector adds instead of fifteen dependent scalar ones (`sum()`).
    let h8 = v.lowHalf + v.highHalf
    let h4 = h8.lowHalf + h8.highHalf
    let h2 = h4.lowHalf + h4.highHalf
    return h2[0] + h2[1]
}

@inline(__always)
func load16(_ p: UnsafePointer<Float>, _ offset: Int) -> SIMD16<Float> {
    UnsafeRawPointer(p + offset).loadUnaligned(as: SIMD16<Float>.self)
}

enum SwiftSIMDKernels {
    static func l2Squared(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var i = 0
        while i &+ 32 <= d {
            let d0 = load16(a, i) - load16(b, i)
            let d1 = load16(a, i &+ 16) - load16(b, i &+ 16)
            s0 += d0 * d0  // not addProduct: without FMA that is a libm call per lane
            s1 += d1 * d1
            i &+= 32
        }
        if i &+ 16 <= d {
            let d0 = load16(a, i) - load16(b, i)
            s0 += d0 * d0
            i &+= 16
        }
        var tail: Float = 0
        while i < d {
            let t = a[i] - b[i]
            tail += t * t
            i &+= 1
        }
        return horizontalSum(s0 + s1) + tail
    }

    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var i = 0
        while i &+ 32 <= d {
            s0 += load16(a, i) * load16(b, i)
            s1 += load16(a, i &+ 16) * load16(b, i &+ 16)
            i &+= 32
        }
        if i &+ 16 <= d {
            s0 += load16(a, i) * load16(b, i)
            i &+= 16
        }
        var tail: Float = 0
        while i < d {
            tail += a[i] * b[i]
            i &+= 1
        }
        return horizontalSum(s0 + s1) + tail
    }

    static func l2SquaredMany(
        _ query: UnsafePointer<Float>, _ base: UnsafePointer<Float>, _ n: Int, _ d: Int, _ out: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<n { out[r] = l2Squared(query, base + r &* d, d) }
    }

    static func dotMany(
        _ query: UnsafePointer<Float>, _ base: UnsafePointer<Float>, _ n: Int, _ d: Int, _ out: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<n { out[r] = dot(query, base + r &* d, d) }
    }

    static func nextAtOrBelow(
        _ x: UnsafePointer<Float>, _ offsets: UnsafePointer<Float>?, _ start: Int, _ n: Int, _ threshold: Float
    ) -> Int {
        var i = start
        let limit = SIMD16<Float>(repeating: threshold)
        while i &+ 16 <= n {
            var v = load16(x, i)
            if let offsets { v += load16(offsets, i) }
            if any(v .<= limit) { break }
            i &+= 16
        }
        while i < n {
            if x[i] + (offsets?[i] ?? 0) <= threshold { return i }
            i &+= 1
        }
        return n
    }

    static func l2SquaredGather(
        _ query: UnsafePointer<Float>, _ base: UnsafePointer<Float>, _ slots: UnsafePointer<UInt32>, _ n: Int, _ d: Int,
        _ out: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<n { out[r] = l2Squared(query, base + Int(slots[r]) &* d, d) }
    }

    static func dotGather(
        _ query: UnsafePointer<Float>, _ base: UnsafePointer<Float>, _ slots: UnsafePointer<UInt32>, _ n: Int, _ d: Int,
        _ out: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<n { out[r] = dot(query, base + Int(slots[r]) &* d, d) }
    }
}

extension Float {
    /// The float whose high 16 bits are `bits` (bfloat16 widened exactly).
    @inline(__always)
    init(bfloat16 bits: UInt16) { self.init(bitPattern: UInt32(bits) << 16) }

    /// The nearest bfloat16 (round half to even), for finite values.
    @inline(__always)
    var bfloat16: UInt16 {
        let bits = bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}
