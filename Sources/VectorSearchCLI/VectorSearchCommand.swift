import ArgumentParser
import VectorSearch

@main
struct VectorSearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorsearch",
        abstract: "Build, search and benchmark vector indexes.",
        version: VectorSearchLibrary.version,
        subcommands: [
            InfoCommand.self, GenerateCommand.self, GroundTruthCommand.self,
            BuildCommand.self, SearchCommand.self, BenchCommand.self, KMeansCommand.self, EmbedCommand.self, ConvertCommand.self, RAGCommand.self,
        ]
    )
}

/// Options shared by the commands that build an index (`build`, `bench`).
struct IndexOptions: ParsableArguments {
    @Option(help: "Index kind: flat (exact), ivf (inverted lists, approximate) or hnsw (graph, approximate).")
    var index: IndexKindArgument = .flat

    @Option(help: "Metric: l2 (squared Euclidean), ip (inner product) or cosine.")
    var metric: Metric = .l2

    @Option(help: "Metadata for filtered search: JSON Lines, one object per vector, in order or matched by an integer \"id\".")
    var metadata: String?

    @Option(help: "Seed: HNSW level assignment (default 42), IVF training sample and k-means start (default 1234).")
    var seed: UInt64?

    @Option(help: "HNSW: links per node (M).")
    var m: Int = HNSWParameters.default.m

    @Option(name: .customLong("ef-construction"), help: "HNSW: candidate list size while building.")
    var efConstruction: Int = HNSWParameters.default.efConstruction

    @Flag(inversion: .prefixedNo, help: "HNSW: fill free links with the closest candidates the heuristic pruned.")
    var keepPrunedConnections = HNSWParameters.default.keepPrunedConnections

    @Option(help: "IVF: number of lists (default: about 4·√N).")
    var nlist: Int?

    @Option(name: .customLong("train-size"), help: "IVF: train k-means on a random sample of this many vectors (default: all, at most 256 per list).")
    var trainSize: Int?

    @Option(name: .customLong("kmeans-iterations"), help: "IVF: k-means iterations.")
    var kmeansIterations: Int = IVFParameters.default.iterations

    var hnswParameters: HNSWParameters {
        get throws {
            try HNSWParameters(
                m: m, efConstruction: efConstruction, seed: seed ?? HNSWParameters.default.seed,
                keepPrunedConnections: keepPrunedConnections)
        }
    }

    var ivfParameters: IVFParameters {
        get throws {
            try IVFParameters(nlist: nlist, trainingSize: trainSize, iterations: kmeansIterations, seed: seed ?? IVFParameters.default.seed)
        }
    }
}

extension IndexOptions {
    /// The attributes of each vector of `set` from `--metadata` (none without it).
    func attributes(for set: EmbeddingSet) throws -> [Attributes] {
        guard let metadata else { return [] }
        return try MetadataFile.read(metadata, ids: set.ids ?? (0..<set.vectors.count).map { VectorID($0) })
    }
}

/// Parses `--filter` JSON, naming the option in errors.
func parseFilter(_ json: String) throws -> Filter {
    do {
        return try Filter(json: json)
    } catch {
        throw ValidationError("--filter: \(error)")
    }
}

enum IndexKindArgument: String, ExpressibleByArgument, CaseIterable {
    case flat, ivf, hnsw
}

/// The query-time knob of each index kind; the one the index does not use is ignored.
struct SearchKnobs {
    var ef = HNSWSearchParameters.default.ef
    var nprobe = IVFSearchParameters.default.nprobe
    /// HNSW with a filter: force the exact scan or the graph walk (nil: the planner picks).
    var filterStrategy: FilterPlan.Strategy?

    var hnsw: HNSWSearchParameters { get throws { try HNSWSearchParameters(ef: ef, filterStrategy: filterStrategy) } }
}

extension FilterPlan.Strategy: ExpressibleByArgument {}

extension Metric: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["l2", "ip", "cosine"] }
}

extension EmbeddingFormat: ExpressibleByArgument {}

/// Turns library errors into one clear line and a non-zero exit instead of a stack dump.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
