#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64: a tiny, fast generator with a fixed algorithm, so seeds reproduce everywhere
/// (the standard library's generator makes no such promise).
package struct SplitMix64: RandomNumberGenerator {
    /// The golden-ratio step the state advances by.
    package static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= Self.increment
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform float in (0, 1].
    mutating func nextUnit() -> Float {
        Float(next() >> 40 + 1) / Float(1 << 24)
    }

    /// A standard normal sample (Box–Muller).
    mutating func nextGaussian() -> Float {
        let u = nextUnit(), v = nextUnit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
