import Foundation
import Testing
import TestSupport
@testable import VectorSearch
import VectorSearchHDF5

private func temporaryFile(_ name: String) -> String { temporaryDirectory() + "/" + name }

/// The error's description, or nil (and a recorded issue) when `body` does not throw.
private func errorText(_ body: () throws -> Void) -> String? {
    do {
        try body()
        Issue.record("expected an error")
        return nil
    } catch {
        return "\(error)"
    }
}

/// A small dataset: 40 base vectors of dimension 5, 7 queries, exact top-4 by brute force.
private func smallDataset(metric: Metric) throws -> ANNBenchmarksDataset {
    var random = SplitMix64(seed: 11)
    let train = try VectorMatrix(dimension: 5, values: (0..<200).map { _ in random.nextUnit() * 2 - 1 })
    let test = try VectorMatrix(dimension: 5, values: (0..<35).map { _ in random.nextUnit() * 2 - 1 })
    var neighbors: [Int32] = []
    for q in 0..<test.count {
        let query = Array(test.values[(q * 5)..<(q * 5 + 5)])
        let order = (0..<train.count).sorted { a, b in
            func d(_ row: Int) -> Float {
                let v = Array(train.values[(row * 5)..<(row * 5 + 5)])
                return query.withUnsafeBufferPointer { x in
                    v.withUnsafeBufferPointer { ANNBenchmarksDataset.distance(x, $0, metric: metric) }
                }
            }
            return (d(a), a) < (d(b), b)
        }
        neighbors += order.prefix(4).map { Int32($0) }
    }
    let truth = try IntegerMatrix(dimension: 4, values: neighbors)
    return try ANNBenchmarksDataset(
        train: train, test: test, neighbors: truth,
        distances: ANNBenchmarksDataset.distances(train: train, test: test, neighbors: truth, metric: metric), metric: metric)
}

@Suite("HDF5 files")
struct HDF5Tests {
    @Test("every element type round-trips, contiguous and in compressed chunks", arguments: HDF5File.ElementType.allCases)
    func roundTrip(type: HDF5File.ElementType) throws {
        let path = temporaryFile("t.hdf5")
        let (rows, columns) = (13, 7)
        // Whole numbers 0...90 fit every type exactly, including uint8.
        let values: [Float] = (0..<(rows * columns)).map { Float($0) }
        let integers = values.map { Int32($0) }
        do {
            let file = try HDF5File.create(path)
            try file.write(values, rows: rows, columns: columns, to: "plain", as: type)
            try file.write(values, rows: rows, columns: columns, to: "chunked", as: type, chunkRows: 4)
            try file.write(integers, rows: rows, columns: columns, to: "integers", as: type)
            try file.write([Float](), rows: 0, columns: columns, to: "empty", as: type)
        }
        let file = try HDF5File.open(path)
        for name in ["plain", "chunked"] {
            let described = try file.describe(name)
            #expect(described.shape == [rows, columns] && described.type == type)
            let read = try file.readFloats(name)
            #expect(read.values == values && read.rows == rows && read.columns == columns)
        }
        if type != .float32, type != .float64 {
            #expect(try file.readInt32s("integers").values == integers)
        } else {
            #expect(throws: VectorSearchError.self) { try file.readInt32s("integers") }
        }
        let empty = try file.readFloats("empty")
        #expect(empty.values.isEmpty && empty.rows == 0 && empty.columns == columns)
    }

    @Test("fractional floats keep their bits in float32 and float64 files")
    func floatsExact() throws {
        let path = temporaryFile("f.h5")
        var random = SplitMix64(seed: 3)
        let values: [Float] = (0..<(9 * 33)).map { _ in random.nextUnit() * 200 - 100 }
        do {
            let file = try HDF5File.create(path)
            try file.write(values, rows: 9, columns: 33, to: "f32")
            try file.write(values, rows: 9, columns: 33, to: "f64", as: .float64)
        }
        let file = try HDF5File.open(path)
        #expect(try file.readFloats("f32").values == values)
        #expect(try file.readFloats("f64").values == values)
    }

    @Test("string attributes: variable-length (as h5py writes) read back", arguments: ["euclidean", "angular", "ünïcode ✓"])
    func attributes(value: String) throws {
        let path = temporaryFile("a.hdf5")
        do { try HDF5File.create(path).setStringAttribute("distance", value) }
        #expect(try HDF5File.open(path).stringAttribute("distance") == value)
        #expect(try HDF5File.open(path).stringAttribute("missing") == nil)
    }

    @Test("an ann-benchmarks dataset round-trips for each metric", arguments: [Metric.l2, .cosine, .innerProduct])
    func dataset(metric: Metric) throws {
        let path = temporaryFile("d.hdf5")
        let written = try smallDataset(metric: metric)
        try written.write(to: path)
        let read = try ANNBenchmarksDataset.read(path)
        #expect(read.train == written.train && read.test == written.test && read.metric == metric)
        #expect(read.neighbors == written.neighbors && read.distances == written.distances)
        #expect(try HDF5File.open(path).stringAttribute("distance") == ANNBenchmarksDataset.distanceName(metric))
        // Distances ascend along each row, as the neighbours are nearest first.
        let d: [Float] = try #require(read.distances)
        let ascending = (0..<read.test.count).allSatisfy { (q: Int) -> Bool in
            (0..<3).allSatisfy { (j: Int) -> Bool in d[q * 4 + j] <= d[q * 4 + j + 1] }
        }
        #expect(ascending)
    }

    @Test("ann-benchmarks distances: euclidean, 1 − cosine, −dot")
    func distances() {
        let a: [Float] = [3, 0, 0], b: [Float] = [0, 4, 0], c: [Float] = [6, 0, 0]
        func d(_ x: [Float], _ y: [Float], _ metric: Metric) -> Float {
            x.withUnsafeBufferPointer { p in y.withUnsafeBufferPointer { ANNBenchmarksDataset.distance(p, $0, metric: metric) } }
        }
        #expect(d(a, b, .l2) == 5 && d(a, c, .l2) == 3)
        #expect(d(a, b, .cosine) == 1 && d(a, c, .cosine) == 0)
        #expect(d(a, c, .innerProduct) == -18)
    }

    @Test("bad files and layouts are refused, naming the file and the dataset")
    func badFiles() throws {
        let good = try smallDataset(metric: .l2)
        func file(_ build: (HDF5File) throws -> Void) throws -> String {
            let path = temporaryFile("bad.hdf5")
            try build(try HDF5File.create(path))
            return path
        }
        func write(_ m: VectorMatrix, _ name: String, _ f: HDF5File) throws { try f.write(m.values, rows: m.count, columns: m.dimension, to: name) }

        let noTest = try file { f in
            try f.setStringAttribute("distance", "euclidean"); try write(good.train, "train", f)
        }
        let missing = errorText { _ = try ANNBenchmarksDataset.read(noTest) }
        #expect(missing?.contains(noTest) == true && missing?.contains("'test'") == true && missing?.contains("missing") == true)

        let noDistance = try file { f in
            try write(good.train, "train", f); try write(good.test, "test", f)
        }
        #expect(errorText { _ = try ANNBenchmarksDataset.read(noDistance) }?.contains("'distance'") == true)

        for name in ["jaccard", "hamming", "cityblock"] {
            let path = try file { f in
                try f.setStringAttribute("distance", name); try write(good.train, "train", f); try write(good.test, "test", f)
            }
            let text = errorText { _ = try ANNBenchmarksDataset.read(path) }
            #expect(text?.contains(name) == true && text?.contains(path) == true)
        }

        let wrongColumns = try file { f in
            try f.setStringAttribute("distance", "angular"); try write(good.train, "train", f)
            try f.write([Float](repeating: 1, count: 12), rows: 3, columns: 4, to: "test")
        }
        #expect(errorText { _ = try ANNBenchmarksDataset.read(wrongColumns) }?.contains("'test' has 4 columns") == true)

        let wrongRows = try file { f in
            try f.setStringAttribute("distance", "euclidean"); try write(good.train, "train", f); try write(good.test, "test", f)
            try f.write([Int32](repeating: 0, count: 8), rows: 2, columns: 4, to: "neighbors")
        }
        #expect(errorText { _ = try ANNBenchmarksDataset.read(wrongRows) }?.contains("'neighbors' has 2 rows") == true)

        let outOfRange = try file { f in
            try f.setStringAttribute("distance", "euclidean"); try write(good.train, "train", f); try write(good.test, "test", f)
            try f.write([Int32](repeating: 40, count: 7 * 4), rows: 7, columns: 4, to: "neighbors")
        }
        #expect(errorText { _ = try ANNBenchmarksDataset.read(outOfRange) }?.contains("not a row of 'train'") == true)

        let floatNeighbors = try file { f in
            try f.setStringAttribute("distance", "euclidean"); try write(good.train, "train", f); try write(good.test, "test", f)
            try f.write([Float](repeating: 1, count: 7 * 4), rows: 7, columns: 4, to: "neighbors")
        }
        #expect(errorText { _ = try ANNBenchmarksDataset.read(floatNeighbors) }?.contains("not integers") == true)

        var values = good.train.values
        values[5 * 5 + 2] = .nan
        let nan = try file { f in
            try f.setStringAttribute("distance", "euclidean"); try f.write(values, rows: 40, columns: 5, to: "train"); try write(good.test, "test", f)
        }
        let nanText = errorText { _ = try ANNBenchmarksDataset.read(nan) }
        #expect(nanText?.contains("'train'") == true && nanText?.contains("row 5, column 2") == true)

        let attributeIsNumber = try file { f in try write(good.train, "distance-as-dataset", f) }
        #expect(errorText { _ = try HDF5File.open(attributeIsNumber).readFloats("nothing") }?.contains("'nothing': missing") == true)
    }

    @Test("a file that is not HDF5, or is cut short, gives an error, not a crash")
    func damagedFiles() throws {
        let notHDF5 = temporaryFile("x.hdf5")
        try Data("not an hdf5 file at all".utf8).write(to: URL(fileURLWithPath: notHDF5))
        #expect(errorText { _ = try ANNBenchmarksDataset.read(notHDF5) }?.contains("not an HDF5 file") == true)
        #expect(errorText { _ = try ANNBenchmarksDataset.read(notHDF5 + ".absent") }?.contains("no such file") == true)

        let path = temporaryFile("whole.hdf5")
        try smallDataset(metric: .cosine).write(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for keep in [bytes.count / 2, bytes.count - 100, 600] {
            let cut = temporaryFile("cut.hdf5")
            try bytes.prefix(keep).write(to: URL(fileURLWithPath: cut))
            #expect(errorText { _ = try ANNBenchmarksDataset.read(cut) }?.contains(cut) == true, "kept \(keep) of \(bytes.count) bytes")
        }
    }
}
