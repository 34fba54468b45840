/// Reproducible synthetic datasets for tests and benchmarks.
public enum SyntheticData {
    /// Base and query vectors drawn from the same mixture of Gaussian clusters: centres from
    /// N(0, 1) per component, points at a centre plus N(0, `spread`²) noise. The same seed
    /// always gives the same vectors, on every machine.
    public static func clustered(
        count: Int, queries: Int, dimension: Int, clusters: Int, seed: UInt64, spread: Float = 0.35
    ) throws -> (base: VectorMatrix, queries: VectorMatrix) {
        guard count >= 0, queries >= 0, dimension > 0, clusters > 0 else {
            throw VectorSearchError.invalidArgument("count, queries, dimension and clusters must be positive")
        }
        var random = SplitMix64(seed: seed)
        var centres = [Float](repeating: 0, count: clusters * dimension)
        for i in centres.indices { centres[i] = random.nextGaussian() }
        func draw(_ n: Int) throws -> VectorMatrix {
            var values = [Float](repeating: 0, count: n * dimension)
            for row in 0..<n {
                let centre = Int(random.next() % UInt64(clusters)) * dimension
                for j in 0..<dimension {
                    values[row * dimension + j] = centres[centre + j] + spread * random.nextGaussian()
                }
            }
            return try VectorMatrix(dimension: dimension, values: values)
        }
        let base = try draw(count)
        return (base, try draw(queries))
    }
}

/// SplitMix64: a tiny, fast generator with a fixed algorithm, so seeds reproduce everywhere
/// (the standard library's generator makes no such promise).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
