import Testing
@testable import VectorSearch

@Suite("Distance kernels against a scalar reference")
struct KernelTests {
    static let dimensions = [1, 3, 7, 15, 16, 17, 31, 33, 64, 100, 128, 384, 1000]

    static func reference(_ a: [Float], _ b: [Float]) -> (l2: Double, dot: Double, magnitude: Double) {
        var l2 = 0.0, dot = 0.0, magnitude = 0.0
        for (x, y) in zip(a.map(Double.init), b.map(Double.init)) {
            l2 += (x - y) * (x - y)
            dot += x * y
            magnitude += abs(x * y) + x * x + y * y
        }
        return (l2, dot, magnitude)
    }

    @Test("one-to-one kernels at every supported SIMD level", arguments: SIMDLevel.supported)
    func oneToOne(level: SIMDLevel) throws {
        let kernels = try #require(DistanceKernels(level: level))
        for d in Self.dimensions {
            let m = randomMatrix(rows: 2, dimension: d, seed: UInt64(d))
            let a = m[0], b = m[1]
            let ref = Self.reference(a, b)
            let tolerance = 1e-6 * ref.magnitude + 1e-7
            #expect(abs(Double(kernels.l2Squared(a, b, d)) - ref.l2) <= tolerance, "l2 d=\(d) \(level)")
            #expect(abs(Double(kernels.dot(a, b, d)) - ref.dot) <= tolerance, "dot d=\(d) \(level)")
            #expect(kernels.l2Squared(a, a, d) == 0, "l2 of a vector with itself, d=\(d)")
        }
    }

    @Test("one-to-many kernels equal one-to-one calls", arguments: SIMDLevel.supported)
    func oneToMany(level: SIMDLevel) throws {
        let kernels = try #require(DistanceKernels(level: level))
        for d in Self.dimensions {
            let rows = 37
            let base = randomMatrix(rows: rows, dimension: d, seed: 100 + UInt64(d))
            let query = randomMatrix(rows: 1, dimension: d, seed: 200 + UInt64(d))[0]
            var l2 = [Float](repeating: -1, count: rows), dot = [Float](repeating: -1, count: rows)
            base.withUnsafeBufferPointer { b in
                kernels.l2SquaredMany(query, b.baseAddress, rows, d, &l2)
                kernels.dotMany(query, b.baseAddress, rows, d, &dot)
            }
            for r in 0..<rows {
                let ref = Self.reference(query, base[r])
                let tolerance = 1e-6 * ref.magnitude + 1e-7
                #expect(abs(Double(l2[r]) - ref.l2) <= tolerance, "l2Many d=\(d) row \(r)")
                #expect(abs(Double(dot[r]) - ref.dot) <= tolerance, "dotMany d=\(d) row \(r)")
            }
        }
    }

    @Test("bfloat16 sketch kernels equal a scalar reference", arguments: SIMDLevel.supported)
    func sketchDot(level: SIMDLevel) throws {
        let kernels = try #require(DistanceKernels(level: level))
        for p in [1, 7, 15, 16, 17, 31, 32, 33, 80, 176] {
            let rows = 13
            let values = randomMatrix(rows: rows, dimension: p, seed: 500 + UInt64(p)).values
            let sketches = values.map(\.bfloat16)
            let query = randomMatrix(rows: 1, dimension: p, seed: 600 + UInt64(p))[0]
            var out = [Float](repeating: .nan, count: rows)
            kernels.sketchDotMany(query, sketches, rows, p, &out)
            for r in 0..<rows {
                let widened = sketches[(r * p)..<((r + 1) * p)].map { Double(Float(bfloat16: $0)) }
                let ref = Self.reference(query, widened.map { Float($0) })
                #expect(abs(Double(out[r]) - ref.dot) <= 1e-6 * ref.magnitude + 1e-7, "p=\(p) row \(r) \(level)")
            }
        }
    }

    @Test("bfloat16 rounds to nearest, ties to even, and widens exactly")
    func bfloat16() {
        for value: Float in [0, 1, -1, 0.1, 3.14159, -1e-20, 65504, 1e30] {
            let widened = Float(bfloat16: value.bfloat16)
            #expect(abs(widened - value) <= abs(value) / 256, "\(value)")
            #expect(Float(bfloat16: widened.bfloat16) == widened)
        }
        // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: even mantissa wins; just above it rounds up.
        #expect(Float(bfloat16: Float(1 + 1.0 / 256).bfloat16) == 1)
        #expect(Float(bfloat16: Float(bitPattern: Float(1 + 1.0 / 256).bitPattern + 1).bfloat16) == 1 + 1.0 / 128)
    }

    @Test("gather kernels equal one-to-one calls on the picked rows", arguments: SIMDLevel.supported)
    func gather(level: SIMDLevel) throws {
        let kernels = try #require(DistanceKernels(level: level))
        for d in Self.dimensions {
            let base = randomMatrix(rows: 40, dimension: d, seed: 300 + UInt64(d))
            let query = randomMatrix(rows: 1, dimension: d, seed: 400 + UInt64(d))[0]
            for n in [0, 1, 3, 4, 5, 8, 9, 17, 33] {
                let slots = (0..<n).map { UInt32(($0 * 7 + 3) % 40) }
                var l2 = [Float](repeating: -1, count: max(n, 1)), dot = [Float](repeating: -1, count: max(n, 1))
                base.withUnsafeBufferPointer { b in
                    kernels.l2SquaredGather(query, b.baseAddress, slots, n, d, &l2)
                    kernels.dotGather(query, b.baseAddress, slots, n, d, &dot)
                }
                for i in 0..<n {
                    let ref = Self.reference(query, base[Int(slots[i])])
                    let tolerance = 1e-6 * ref.magnitude + 1e-7
                    #expect(abs(Double(l2[i]) - ref.l2) <= tolerance, "l2 gather d=\(d) n=\(n) i=\(i) \(level)")
                    #expect(abs(Double(dot[i]) - ref.dot) <= tolerance, "dot gather d=\(d) n=\(n) i=\(i) \(level)")
                }
            }
        }
    }

    @Test("the SIMD threshold scan finds exactly the scalar answer", arguments: SIMDLevel.supported)
    func thresholdScan(level: SIMDLevel) throws {
        let kernels = try #require(DistanceKernels(level: level))
        for n in [0, 1, 5, 15, 16, 17, 40, 100] {
            let values = randomMatrix(rows: 1, dimension: max(n, 1), seed: UInt64(n))[0].prefix(n).map { $0 }
            let offsets = randomMatrix(rows: 1, dimension: max(n, 1), seed: UInt64(n) + 9)[0].prefix(n).map { $0 }
            for threshold: Float in [-3, -1, 0, 0.5, 2, .infinity] {
                for start in Set([0, n / 2, max(n - 1, 0), n]) {
                    let plain = (start..<n).first { values[$0] <= threshold } ?? n
                    let shifted = (start..<n).first { values[$0] + offsets[$0] <= threshold } ?? n
                    #expect(kernels.nextAtOrBelow(values, nil, start, n, threshold) == plain)
                    #expect(kernels.nextAtOrBelow(values, offsets, start, n, threshold) == shifted)
                }
            }
        }
    }

    @Test("the best level is the one the CPU reports (checked against the kernel's /proc/cpuinfo flags)")
    func detectedLevel() throws {
        #expect(DistanceKernels.best.level == SIMDLevel.detected)
        #expect(SIMDLevel.supported.first == SIMDLevel.detected && SIMDLevel.supported.last == .portable)
        #if arch(x86_64)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagsLine = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let expected: SIMDLevel = flags.contains("avx512f") ? .avx512 : flags.contains("avx2") && flags.contains("fma") ? .avx2 : .portable
        #expect(SIMDLevel.detected == expected, "cpuinfo flags say \(expected)")
        #else
        #expect(SIMDLevel.detected == .portable)
        #endif
    }

    @Test("public Distance functions")
    func publicDistance() {
        let a: [Float] = [3, 4, 0], b: [Float] = [0, 4, 3]
        #expect(Distance.l2Squared(a, b) == 18)
        #expect(Distance.innerProduct(a, b) == 16)
        #expect(abs(Distance.cosine(a, b) - 16.0 / 25.0) < 1e-6)
        #expect(Distance.norm(a) == 5)
        #expect(Distance.cosine(a, [0, 0, 0]) == 0)
    }
}

@Suite("Top-k selection")
struct TopKTests {
    func select(_ distances: [Float], ids: [VectorID], k: Int) -> [Scored] {
        var storage = [Scored](repeating: Scored(id: 0, distance: 0), count: max(k, 1))
        return storage.withUnsafeMutableBufferPointer { buffer in
            var heap = TopKHeap(storage: buffer.baseAddress!, capacity: k)
            distances.withUnsafeBufferPointer { d in
                ids.withUnsafeBufferPointer { i in
                    heap.offer(distances: d.baseAddress!, count: d.count, ids: CandidateIDs(ids: i.baseAddress), kernels: .best)
                }
            }
            let n = heap.sortBestFirst()
            return Array(buffer[0..<n])
        }
    }

    @Test("the reservoir keeps what the heap keeps, ties included, at every capacity and stream length")
    func reservoirMatchesHeap() {
        var random = SplitMix64(seed: 5)
        for capacity in [0, 1, 2, 3, 7, 40, 100] {
            let full = TopKReservoir.bufferFactor * capacity  // the first cut comes at this many
            for n in [0, 1, capacity, max(0, full - 1), full, full + 1, 3 * full + 2, 1_000] {
                // Few distinct distances, so many ties; ids unique, in shuffled order.
                let distances = (0..<n).map { _ in Float(random.next() % 13) }
                var ids = (0..<n).map { VectorID($0) }
                for i in stride(from: n - 1, to: 0, by: -1) { ids.swapAt(i, Int(random.next() % UInt64(i + 1))) }
                var heapStorage = [Scored](repeating: Scored(id: 0, distance: 0), count: max(capacity, 1))
                var reservoirStorage = [Scored](repeating: Scored(id: 0, distance: 0), count: max(TopKReservoir.bufferFactor * capacity, 1))
                let fromHeap = heapStorage.withUnsafeMutableBufferPointer { buffer in
                    var heap = TopKHeap(storage: buffer.baseAddress!, capacity: capacity)
                    for i in 0..<n { heap.push(distance: distances[i], id: ids[i]) }
                    return Array(buffer[0..<heap.sortBestFirst()])
                }
                let fromReservoir = reservoirStorage.withUnsafeMutableBufferPointer { buffer in
                    var reservoir = TopKReservoir(storage: buffer.baseAddress!, capacity: capacity)
                    for i in 0..<n { reservoir.push(distance: distances[i], id: ids[i]) }
                    return Array(buffer[0..<reservoir.finish()])
                }
                let sorted = fromReservoir.sorted { TopKHeap.isWorse($1, than: $0) }
                #expect(sorted == fromHeap, "capacity \(capacity), \(n) candidates")
                #expect(fromHeap.count == min(capacity, n))
            }
        }
    }

    @Test("internal candidates and public results share one layout, so heaps are published in place")
    func layout() {
        #expect(MemoryLayout<Scored>.size == MemoryLayout<Neighbor>.size)
        #expect(MemoryLayout<Scored>.stride == MemoryLayout<Neighbor>.stride)
        #expect(MemoryLayout<Scored>.alignment == MemoryLayout<Neighbor>.alignment)
        #expect(MemoryLayout<Scored>.offset(of: \.id) == MemoryLayout<Neighbor>.offset(of: \.id))
        #expect(MemoryLayout<Scored>.offset(of: \.distance) == MemoryLayout<Neighbor>.offset(of: \.score))
        var results = [Neighbor](repeating: Neighbor(id: 0, score: 0), count: 2)
        results.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.asCandidates(capacity: 2) { candidates in
                candidates[0] = Scored(id: 7, distance: -0.5)
                candidates[1] = Scored(id: 9, distance: -0.25)
                var query: [Float] = [2, 0]
                Metric.innerProduct.publish(candidates, count: 2, query: &query, dimension: 2, kernels: .best)
            }
        }
        #expect(results == [Neighbor(id: 7, score: 0.5), Neighbor(id: 9, score: 0.25)])
    }

    @Test("matches a full sort with ties broken by smaller id")
    func matchesSort() {
        var random = SplitMix64(seed: 7)
        for n in [0, 1, 2, 10, 33, 500] {
            // Few distinct values, so many ties.
            let distances = (0..<n).map { _ in Float(random.next() % 7) }
            let ids = (0..<n).map { _ in random.next() % 1_000_000 }
            let expected = zip(distances, ids).sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            for k in [0, 1, 3, 10, n, n + 5] {
                let got = select(distances, ids: ids, k: k)
                #expect(got.count == min(k, n))
                #expect(got.map(\.id) == expected.prefix(k).map(\.1), "n=\(n) k=\(k)")
                #expect(got.map(\.distance) == expected.prefix(k).map(\.0))
            }
        }
    }
}
