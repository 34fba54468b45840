import CVectorKernels
import Foundation

/// What one shard of an index split over several machines is: which rows of which dataset it
/// holds, and of which build, written beside its index file as `INDEX.shard.json` by
/// `vectorsearch build --shard I/N`. A router checks the shards it is given against each other
/// (``compatible(with:)``) so that shards of different builds never answer one query together.
public struct ShardManifest: Codable, Sendable, Equatable {
    /// This shard's number, 0-based, and how many shards the build has.
    public var shard: Int
    public var shards: Int
    /// The rows of the dataset it holds, `first ..< end` (their ids are the global row numbers).
    public var first: Int
    public var end: Int
    /// The dataset: its file's name, rows, dimension and a fingerprint of sampled rows.
    public var dataset: Dataset
    public var kind: IndexKind
    public var metric: Metric
    /// The build parameters, as the CLI describes them.
    public var parameters: String
    /// The fingerprint of the shared trained quantizer (IVF shards built with one), else nil.
    public var quantizer: String?
    /// One value for every shard of one build: the dataset, the shard count, the kind, metric,
    /// parameters and quantizer, hashed.
    public var build: String

    public struct Dataset: Codable, Sendable, Equatable {
        public var file: String
        public var rows: Int
        public var dimension: Int
        public var fingerprint: String

        public init(file: String, rows: Int, dimension: Int, fingerprint: String) {
            self.file = file
            self.rows = rows
            self.dimension = dimension
            self.fingerprint = fingerprint
        }
    }

    /// The manifest of shard `shard` of `shards` over `dataset`.
    public init(
        shard: Int, of shards: Int, dataset: Dataset, kind: IndexKind, metric: Metric, parameters: String, quantizer: String? = nil
    ) throws {
        guard shards >= 1, (0..<shards).contains(shard) else {
            throw VectorSearchError.invalidParameter(name: "shard", value: "\(shard)/\(shards)", requirement: "I/N with 0 ≤ I < N")
        }
        guard shards <= max(dataset.rows, 1) else {
            throw VectorSearchError.invalidParameter(
                name: "shard", value: "\(shard)/\(shards)", requirement: "at most one shard per row (the dataset has \(dataset.rows))")
        }
        (self.shard, self.shards, self.dataset, self.kind, self.metric) = (shard, shards, dataset, kind, metric)
        (self.parameters, self.quantizer) = (parameters, quantizer)
        (first, end) = Self.rows(shard: shard, of: shards, count: dataset.rows)
        let identity =
            "\(dataset.rows) \(dataset.dimension) \(dataset.fingerprint) \(shards) \(kind.rawValue) \(metric.rawValue) \(parameters) \(quantizer ?? "-")"
        build = Self.fingerprint(Array(identity.utf8))
    }

    /// The rows of shard `shard` of `shards` over `count` rows: as even as integers allow.
    public static func rows(shard: Int, of shards: Int, count: Int) -> (first: Int, end: Int) {
        (shard * count / shards, (shard + 1) * count / shards)
    }

    /// The rows a dataset fingerprint reads: up to 64, evenly spaced, the first and last among them.
    public static func fingerprintRows(count: Int) -> [Int] {
        guard count > 0 else { return [] }
        let samples = min(count, 64)
        return (0..<samples).map { samples == 1 ? 0 : $0 * (count - 1) / (samples - 1) }
    }

    /// A dataset's fingerprint from its size and the rows ``fingerprintRows(count:)`` names, in order.
    public static func datasetFingerprint(rows: Int, dimension: Int, sampled: [Float]) -> String {
        var bytes = Array("\(rows) \(dimension) ".utf8)
        sampled.withUnsafeBytes { bytes.append(contentsOf: $0) }
        return fingerprint(bytes)
    }

    /// Eight hex digits: the CRC-32 index files use.
    static func fingerprint(_ bytes: [UInt8]) -> String {
        let crc = bytes.withUnsafeBytes { Checksum.crc32($0) }
        return String(crc, radix: 16).leftPadded(to: 8)
    }

    /// Why `self` and `other` cannot answer together, or nil when they are two shards of one build.
    public func incompatibility(with other: ShardManifest) -> String? {
        if build != other.build {
            return
                "shard \(shard)/\(shards) is of build \(build) and shard \(other.shard)/\(other.shards) of build \(other.build) (another dataset, shard count, index kind, metric, parameters or quantizer)"
        }
        if shard == other.shard { return "shard \(shard)/\(shards) is given twice" }
        return nil
    }

    /// The manifest beside the index file at `indexPath`, or nil when there is none.
    public static func read(besideIndex indexPath: String) throws -> ShardManifest? {
        let path = Self.path(besideIndex: indexPath)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let manifest = try JSONDecoder().decode(ShardManifest.self, from: Data(try RegularFile.readAll(path)))
            guard manifest.shards >= 1, (0..<manifest.shards).contains(manifest.shard), manifest.first <= manifest.end else {
                throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "shard numbers out of range")
            }
            return manifest
        } catch let error as DecodingError {
            throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "not a shard manifest: \(error)")
        }
    }

    /// Writes the manifest beside the index file at `indexPath` (atomically).
    public func write(besideIndex indexPath: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let file = try AtomicFileWriter(path: Self.path(besideIndex: indexPath))
        try file.write(contentsOf: Array(try encoder.encode(self)) + [UInt8(ascii: "\n")])
        try file.commit()
    }

    public static func path(besideIndex indexPath: String) -> String { indexPath + ".shard.json" }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
