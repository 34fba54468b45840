import Dispatch
import Foundation
import Testing
import TestSupport
@testable import VectorSearch

/// Deterministic pseudo-random floats for tests.
func randomMatrix(rows: Int, dimension: Int, seed: UInt64) -> VectorMatrix {
    var random = SplitMix64(seed: seed)
    let values = (0..<(rows * dimension)).map { _ in random.nextGaussian() }
    return try! VectorMatrix(dimension: dimension, values: values)
}

/// Brute-force reference in Double: all vectors scored, sorted best first, ties by smaller id.
func referenceSearch(
    base: VectorMatrix, ids: [VectorID], query: [Float], metric: Metric, k: Int
) -> [(id: VectorID, score: Double)] {
    let q = query.map(Double.init)
    let qNorm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
    var scored: [(id: VectorID, score: Double)] = []
    for row in 0..<base.count {
        let x = base[row].map(Double.init)
        let score: Double
        switch metric {
        case .l2: score = zip(x, q).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        case .innerProduct: score = zip(x, q).reduce(0) { $0 + $1.0 * $1.1 }
        case .cosine:
            let xNorm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            score = zip(x, q).reduce(0) { $0 + $1.0 * $1.1 } / (xNorm * qNorm)
        }
        scored.append((ids[row], score))
    }
    scored.sort { a, b in
        if a.score != b.score { return metric == .l2 ? a.score < b.score : a.score > b.score }
        return a.id < b.id
    }
    return Array(scored.prefix(k))
}

extension Array where Element == Float {
    func writeBytes(to path: String, prefix: [UInt8] = []) {
        var data = Data(prefix)
        withUnsafeBytes { data.append(contentsOf: $0) }
        _ = FileManager.default.createFile(atPath: path, contents: data)
    }
}

func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// A matrix from literal rows (for expectations).
func rows(_ values: [[Float]]) -> VectorMatrix { try! VectorMatrix(values) }

/// Saves two damaged copies of the index file at `path` next to it: one with a bit flipped in its
/// last section (which must be `lastSection`), one cut in half. `load` must refuse both, the
/// first with a checksum error naming the section.
func expectDamagedCopiesRefused(of path: String, lastSection: String, load: (String) throws -> Void) throws {
    var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    let damaged = path + ".damaged"
    defer { cleanup(damaged) }
    bytes[bytes.count - 5] ^= 0x10
    _ = FileManager.default.createFile(atPath: damaged, contents: Data(bytes))
    #expect(throws: VectorSearchError.corruptIndex(path: damaged, reason: "checksum mismatch in section '\(lastSection)'")) {
        try load(damaged)
    }
    _ = FileManager.default.createFile(atPath: damaged, contents: Data(bytes.prefix(bytes.count / 2)))
    #expect(throws: VectorSearchError.self) { try load(damaged) }
}

/// One writer adds `writes` vectors of dimension 8 (ids 10,000…, every other one removed again)
/// while three readers each run `searches` rounds of one query and the whole batch at k = 5.
/// Returns how many rounds got an error or fewer than 5 results.
func searchFailuresDuringWrites<Index: VectorIndex>(
    _ index: Index, queries: VectorMatrix, parameters: Index.SearchParameters, writes: Int, searches: Int
) -> Int {
    let failures = ManagedCounter()
    DispatchQueue.concurrentPerform(iterations: 4) { worker in
        if worker == 0 {
            for round in 0..<writes {
                let id = VectorID(10_000 + round)
                try? index.add(randomMatrix(rows: 1, dimension: 8, seed: id)[0], id: id)
                if round % 2 == 0 { index.remove(ids: [id]) }
            }
        } else {
            for _ in 0..<searches {
                guard let hits = try? index.search(queries[worker], k: 5, parameters: parameters), hits.count == 5,
                    let batch = try? index.search(batch: queries, k: 5, parameters: parameters, filter: nil, threads: nil),
                    batch.allSatisfy({ $0.count == 5 })
                else { failures.increment(); continue }
            }
        }
    }
    return failures.value
}

final class ManagedCounter: @unchecked Sendable {
    private let lock = Lock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
