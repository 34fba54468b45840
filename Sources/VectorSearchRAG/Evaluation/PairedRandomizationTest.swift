import VectorSearch

/// Fisher's paired randomization test, as ranx and Smucker et al. (CIKM 2007) use for IR
/// metrics: under the null hypothesis the two systems' per-query scores are exchangeable, so
/// each query's difference keeps or flips its sign at random; the p-value is the share of
/// such flips whose mean difference is at least as far from 0 as the observed one.
enum PairedRandomizationTest {
    /// Two-sided p-value for per-query scores `a` and `b` (same queries, same order), with
    /// `permutations` random sign flips from a fixed seed (so a report is reproducible); the
    /// observed assignment counts as one of them, so p is never 0.
    static func pValue(_ a: [Double], _ b: [Double], permutations: Int, seed: UInt64 = 20_261_207) -> Double {
        precondition(a.count == b.count, "paired scores")
        let differences = zip(b, a).map { $0 - $1 }
        let observed = abs(differences.reduce(0, +))
        // Rounding in the sums must not make an identical total look larger or smaller.
        let tolerance = 1e-9 * max(1, differences.reduce(0) { $0 + abs($1) })
        if observed <= tolerance { return 1 }
        var generator = SplitMix64(seed: seed)
        var atLeast = 0
        for _ in 0..<permutations {
            var sum = 0.0
            var bits = generator.next(), used = 0
            for difference in differences {
                if used == 64 {
                    bits = generator.next()
                    used = 0
                }
                sum += bits & 1 == 0 ? difference : -difference
                bits >>= 1
                used += 1
            }
            if abs(sum) >= observed - tolerance { atLeast += 1 }
        }
        return Double(atLeast + 1) / Double(permutations + 1)
    }
}
