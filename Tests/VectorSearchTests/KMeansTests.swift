import Testing
@testable import VectorSearch

@Suite("KMeans")
struct KMeansTests {
    /// Plain Lloyd in Double: nearest centroid by brute force (ties to the smaller index), then means.
    func referenceLloyd(_ data: VectorMatrix, _ start: VectorMatrix, iterations: Int) -> (centroids: [[Double]], inertia: [Double]) {
        let points = (0..<data.count).map { data[$0].map(Double.init) }
        var centroids = (0..<start.count).map { start[$0].map(Double.init) }
        var inertia: [Double] = []
        for _ in 0..<iterations {
            var sums = centroids.map { $0.map { _ in 0.0 } }, sizes = [Int](repeating: 0, count: centroids.count), total = 0.0
            for p in points {
                let distances = centroids.map { c in zip(p, c).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
                let best = distances.indices.min { distances[$0] < distances[$1] || (distances[$0] == distances[$1] && $0 < $1) }!
                total += distances[best]
                sizes[best] += 1
                for j in p.indices { sums[best][j] += p[j] }
            }
            inertia.append(total)
            for c in centroids.indices where sizes[c] > 0 { centroids[c] = sums[c].map { $0 / Double(sizes[c]) } }
        }
        return (centroids, inertia)
    }

    @Test("Lloyd iterations match a scalar reference from the same start")
    func matchesReference() throws {
        let data = randomMatrix(rows: 300, dimension: 7, seed: 21)
        let start = try VectorMatrix(dimension: 7, values: (0..<5).flatMap { data[$0 * 37] })
        let result = try KMeans.refine(data, from: start, iterations: 6)
        let reference = referenceLloyd(data, start, iterations: 6)
        for c in 0..<5 {
            for (a, b) in zip(result.centroids[c], reference.centroids[c]) { #expect(abs(Double(a) - b) < 1e-4, "centroid \(c)") }
        }
        for (a, b) in zip(result.inertia, reference.inertia) { #expect(abs(a - b) <= 1e-4 * b) }
    }

    @Test("inertia never increases on clustered data, and reaches the clusters")
    func inertiaDecreases() throws {
        for initialization in KMeansInitialization.allCases {
            let data = try SyntheticData.clustered(count: 2000, queries: 0, dimension: 12, clusters: 8, seed: 4).base
            let result = try KMeans.train(data, parameters: KMeansParameters(k: 8, iterations: 15, initialization: initialization, seed: 3))
            #expect(result.inertia.count == 15 || (result.converged && result.inertia.count < 15))
            for (earlier, later) in zip(result.inertia, result.inertia.dropFirst()) {
                #expect(later <= earlier * (1 + 1e-6), "\(initialization): \(result.inertia)")
            }
            #expect(result.inertia.last! < result.inertia.first!)
            #expect(result.trainingCount == 2000)
        }
    }

    @Test("assign gives the brute-force nearest centroid")
    func assignment() throws {
        let data = randomMatrix(rows: 500, dimension: 9, seed: 8)
        let centroids = randomMatrix(rows: 20, dimension: 9, seed: 9)  // 500 queries: the sgemm path
        let (labels, distances) = try KMeans.assign(data, to: centroids)
        for i in 0..<500 {
            let all = (0..<20).map { Distance.l2Squared(data[i], centroids[$0]) }
            let best = all.indices.min { all[$0] < all[$1] }!
            #expect(labels[i] == best)
            #expect(abs(distances[i] - all[best]) <= 1e-3 * max(1, all[best]))
        }
    }

    @Test("empty clusters are repaired by splitting a populated one")
    func emptyClusters() throws {
        let data = try SyntheticData.clustered(count: 600, queries: 0, dimension: 6, clusters: 3, seed: 2).base
        // Two identical starting centroids: the second gets no points in the first assignment.
        let start = try VectorMatrix(dimension: 6, values: data[0] + data[0] + data[300] + data[599])
        let result = try KMeans.refine(data, from: start, iterations: 10)
        let labels = try KMeans.assign(data, to: result.centroids).labels
        #expect(Set(labels).count == 4, "every cluster ends with points")
    }

    @Test("the same seed gives the same centroids; sampling caps the training set")
    func determinism() throws {
        let data = randomMatrix(rows: 3000, dimension: 5, seed: 1)
        let parameters = try KMeansParameters(k: 10, iterations: 4, maxPointsPerCentroid: 50, seed: 77)
        let a = try KMeans.train(data, parameters: parameters), b = try KMeans.train(data, parameters: parameters)
        #expect(a.centroids == b.centroids)
        #expect(a.trainingCount == 500)
        let other = try KMeans.train(data, parameters: KMeansParameters(k: 10, iterations: 4, maxPointsPerCentroid: 50, seed: 78))
        #expect(other.centroids != a.centroids)
        let threads1 = try KMeans.train(data, parameters: parameters, threads: 1)
        for (x, y) in zip(threads1.centroids.values, a.centroids.values) { #expect(abs(x - y) < 1e-5) }
    }

    @Test("bad parameters and input give clear errors")
    func badInput() throws {
        let data = randomMatrix(rows: 5, dimension: 3, seed: 1)
        #expect(throws: VectorSearchError.invalidArgument("k-means needs at least k = 6 points, got 5")) {
            try KMeans.train(data, parameters: KMeansParameters(k: 6))
        }
        #expect(throws: VectorSearchError.invalidParameter(name: "k-means k", value: "0", requirement: "at least 1")) { try KMeansParameters(k: 0) }
        #expect(throws: VectorSearchError.nonFiniteValue(row: 1, column: 2)) {
            try KMeans.train(VectorMatrix([[1, 2, 3], [1, 2, .nan]]), parameters: KMeansParameters(k: 1))
        }
        #expect(throws: VectorSearchError.dimensionMismatch(expected: 3, actual: 2, row: nil)) {
            try KMeans.assign(data, to: VectorMatrix([[1, 2]]))
        }
    }
}
