import Foundation
import Testing
@testable import VectorSearch

@Suite("Product quantization and OPQ")
struct ProductQuantizerTests {
    func matrix(_ n: Int, _ d: Int, seed: UInt64, scales: [Float]? = nil) throws -> VectorMatrix {
        var generator = SplitMix64(seed: seed)
        let values = (0..<(n * d)).map { i in (Float(generator.next() >> 40) / Float(1 << 24) - 0.5) * (scales?[i % d] ?? 1) }
        return try VectorMatrix(dimension: d, values: values)
    }

    @Test("the short-row nearest-centroid kernels agree with a plain loop on every level, at odd dimensions, ties to the lowest")
    func nearestCentroidKernels() throws {
        for level in SIMDLevel.supported {
            for (d, k) in [(1, 16), (3, 8), (7, 24), (8, 256), (17, 272), (33, 32), (64, 16), (2, 512)] {
                let data = try matrix(37, d, seed: UInt64(d * 1000 + k))
                // Two equal centroids (the last a copy of the middle one): the lower number wins.
                let random = try matrix(k, d, seed: UInt64(k))
                var values = (0..<k).flatMap { random[$0] }
                for t in 0..<d { values[(k - 1) * d + t] = values[(k / 2) * d + t] }
                let centroids = try VectorMatrix(dimension: d, values: values)
                guard let found = KMeans.nearestForShortRows(data, centroids, threads: 2, level: level) else {
                    #expect(level == .portable || (level == .avx2 && k % 8 != 0), "\(level) d \(d) k \(k) has a kernel")
                    continue
                }
                for i in 0..<data.count {
                    let distances = (0..<k).map { Distance.l2Squared(data[i], centroids[$0]) }
                    let best = distances.min()!
                    let label = Int(found[i].id)
                    #expect(abs(distances[label] - best) <= 1e-5 * max(1, best), "\(level) d \(d) k \(k) row \(i)")
                    #expect(abs(found[i].distance - distances[label]) <= 1e-4 * max(1, best))
                    #expect(label != k - 1, "the duplicate's lower number is chosen")
                }
            }
        }
        #expect(KMeans.nearestForShortRows(try matrix(4, 65, seed: 1), try matrix(16, 65, seed: 2), threads: 1) == nil)
    }

    @Test("codes are each slice's nearest centroid, decoding gives the centroids, tables sum to exact distances", arguments: [(15, 5), (7, 7), (16, 4)])
    func codesAgainstBruteForce(d: Int, m: Int) throws {
        let data = try matrix(300, d, seed: 1)
        let pq = try ProductQuantizer.train(data, subquantizers: m, bits: 4, iterations: 5, threads: 2)
        #expect(pq.codeSize == m && pq.centroidCount == 16 && pq.codebooks.count == m * 16 * (d / m))
        let codes = try pq.encode(data)
        let decoded = try pq.decode(codes)
        let ds = d / m
        for i in 0..<data.count {
            let row = data[i]
            for j in 0..<m {
                // The nearest of slice j's centroids, by a plain loop (ties: the lower number).
                let distances = (0..<16).map { c in
                    (0..<ds).reduce(Float(0)) { sum, t in
                        let diff = row[j * ds + t] - pq.codebooks[(j * 16 + c) * ds + t]
                        return sum + diff * diff
                    }
                }
                let best = distances.indices.min { distances[$0] < distances[$1] || (distances[$0] == distances[$1] && $0 < $1) }!
                #expect(abs(distances[Int(codes[i * m + j])] - distances[best]) <= 1e-6 * max(1, distances[best]))
            }
        }
        let query = try matrix(1, d, seed: 2)[0]
        for metric in [Metric.l2, .innerProduct] {
            let table = try pq.distanceTable(query, metric: metric)
            for i in 0..<20 {
                let adc = (0..<m).reduce(Float(0)) { $0 + table[$1 * 16 + Int(codes[i * m + $1])] }
                let exact = metric == .l2 ? Distance.l2Squared(query, decoded[i]) : Distance.innerProduct(query, decoded[i])
                #expect(abs(adc - exact) < 1e-4)
            }
        }
        let mse = try pq.meanSquaredError(data)
        let reference = (0..<data.count).reduce(0.0) { $0 + Double(Distance.l2Squared(data[$1], decoded[$1])) } / Double(data.count)
        #expect(abs(mse - reference) < 1e-6 * max(1, reference))
    }

    @Test("more centroids lose less; as many centroids as rows lose nothing; empty input encodes to nothing")
    func error() throws {
        let data = try matrix(400, 12, seed: 3)
        let coarse = try ProductQuantizer.train(data, subquantizers: 4, bits: 2).meanSquaredError(data)
        let fine = try ProductQuantizer.train(data, subquantizers: 4, bits: 6).meanSquaredError(data)
        #expect(fine < 0.5 * coarse)
        let few = try matrix(16, 6, seed: 4)
        #expect(try ProductQuantizer.train(few, subquantizers: 3, bits: 4).meanSquaredError(few) < 1e-10)
        #expect(try ProductQuantizer.train(data, subquantizers: 4, bits: 2).encode(VectorMatrix(dimension: 12)).isEmpty)
    }

    @Test("bad shapes and inputs are refused with a reason")
    func refusals() throws {
        let data = try matrix(64, 10, seed: 5)
        #expect(throws: VectorSearchError.invalidParameter(name: "subquantizers", value: "3", requirement: "a divisor of the dimension 10")) {
            try ProductQuantizer.train(data, subquantizers: 3)
        }
        #expect(throws: VectorSearchError.self) { try ProductQuantizer.train(data, subquantizers: 5, bits: 0) }
        #expect(throws: VectorSearchError.self) { try ProductQuantizer.train(data, subquantizers: 5, bits: 9) }
        #expect(throws: VectorSearchError.self) { try ProductQuantizer.train(data, subquantizers: 5, bits: 8) }  // 64 rows < 256
        var values = Array(repeating: Float(0), count: 640)
        values[17] = .nan
        #expect(throws: VectorSearchError.nonFiniteValue(row: 1, column: 7)) {
            try ProductQuantizer.train(try VectorMatrix(dimension: 10, values: values), subquantizers: 5, bits: 2)
        }
        let pq = try ProductQuantizer.train(data, subquantizers: 5, bits: 3)
        #expect(throws: VectorSearchError.self) { try pq.decode([0, 1, 2]) }  // not whole codes
        #expect(throws: VectorSearchError.self) { try pq.decode([0, 1, 2, 3, 8]) }  // 8 ≥ 2^3 centroids
        #expect(throws: VectorSearchError.self) { try pq.encode(try matrix(2, 5, seed: 6)) }
        #expect(throws: VectorSearchError.self) { try pq.distanceTable([1, 2], metric: .l2) }
        #expect(throws: VectorSearchError.self) { try ProductQuantizer(dimension: 10, subquantizers: 5, bits: 3, codebooks: [1]) }
    }

    @Test("OPQ: the rotation is orthogonal, codes of rotated data lose less than plain PQ on correlated data, and errors fall")
    func opq() throws {
        // Variance concentrated in a few directions, turned by a random rotation: slices of the
        // raw coordinates share it badly, the learned rotation can even it out.
        let d = 16, n = 2_000
        let scales: [Float] = (0..<d).map { $0 < 4 ? 4 : 0.25 }
        let raw = try matrix(n, d, seed: 7, scales: scales)
        let turn = try LinearAlgebra.orthogonalProcrustes(
            OptimizedProductQuantizer.crossProduct(try matrix(64, d, seed: 8), try matrix(64, d, seed: 9)), n: d)
        let data = try OptimizedProductQuantizer.rotate(raw, by: turn)
        let plain = try ProductQuantizer.train(data, subquantizers: 4, bits: 4, iterations: 20).meanSquaredError(data)
        let opq = try OptimizedProductQuantizer.train(
            data, subquantizers: 4, bits: 4, settings: .init(iterations: 10, quantizerIterations: 4), threads: 2)
        let rotated = try opq.meanSquaredError(data)
        #expect(rotated < 0.9 * plain, "OPQ \(rotated) against PQ \(plain)")
        #expect(opq.errors.last! < opq.errors.first!)
        // The default of one k-means step per alternation.
        let quick = try OptimizedProductQuantizer.train(data, subquantizers: 4, bits: 4, settings: .init(iterations: 5))
        let quickError = try quick.meanSquaredError(data)
        #expect(quick.errors.count == 6 && quickError < plain)
        let r = opq.rotation
        for i in 0..<d {
            for j in 0..<d {
                let dot = (0..<d).reduce(Float(0)) { $0 + r[$1 * d + i] * r[$1 * d + j] }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-4)
            }
        }
        // Distances survive the rotation.
        let rows = try opq.rotate(data)
        #expect(abs(Distance.l2Squared(rows[0], rows[1]) - Distance.l2Squared(data[0], data[1])) < 1e-4)
        #expect(throws: VectorSearchError.self) { try OptimizedProductQuantizer.train(data, subquantizers: 3) }
        #expect(throws: VectorSearchError.self) { try opq.rotate(try matrix(2, 8, seed: 10)) }
    }
}
