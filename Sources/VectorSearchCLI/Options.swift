import ArgumentParser
import VectorSearch

/// Options shared by the commands that build an index (`build`, `bench`).
struct IndexOptions: ParsableArguments {
    @Option(help: "Index kind: flat (exact), ivf (inverted lists, approximate) or hnsw (graph, approximate).")
    var index: IndexKind = .flat

    @Option(help: "Metric: l2 (squared Euclidean), ip (inner product) or cosine.")
    var metric: Metric = .l2

    @Option(
        help: "Vector storage: float32, or codes scanned first and re-ranked from the float32 vectors: float16, bfloat16, int8 (every index kind).")
    var storage: VectorStorage = .float32

    @Option(help: "Metadata for filtered search: JSON Lines, one object per vector, in order or matched by an integer \"id\".")
    var metadata: String?

    @OptionGroup var parameters: BuildParameterOptions

    /// The attributes of each vector of `set` from `--metadata` (none without it).
    func attributes(for set: EmbeddingSet) throws -> [Attributes] {
        guard let metadata else { return [] }
        return try MetadataFile.read(metadata, ids: set.ids ?? (0..<set.vectors.count).map { VectorID($0) })
    }
}

/// Build parameters of each index kind (`build`, `bench`, `rag ingest`); a kind ignores the others'.
struct BuildParameterOptions: ParsableArguments {
    @Option(help: "Seed: HNSW level assignment (default 42), IVF training sample and k-means start (default 1234).")
    var seed: UInt64?

    @Option(help: "HNSW: links per node (M), 2 to 256.")
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

    @Option(
        help:
            "IVF: compressed lists, scanned on product-quantization codes and re-ranked (--rerank): pq (8 bits per slice) or pq4fs (4 bits, SIMD fast scan).")
    var codec: IVFCodec.Kind?

    @Option(name: .customLong("pq-m"), help: "IVF --codec: slices per vector (a divisor of the dimension); pq: bytes per vector, pq4fs: twice them.")
    var pqM: Int?

    @Flag(help: "IVF --codec: learn an OPQ rotation first (slower to train, codes lose less).")
    var opq = false

    @Flag(name: .customLong("no-residual"), help: "IVF --codec: code the vectors themselves, not their residuals against the list centroid.")
    var noResidual = false

    var hnsw: HNSWParameters {
        get throws {
            try HNSWParameters(
                m: m, efConstruction: efConstruction, seed: seed ?? HNSWParameters.default.seed,
                keepPrunedConnections: keepPrunedConnections)
        }
    }

    var ivf: IVFParameters {
        get throws {
            try IVFParameters(
                nlist: nlist, trainingSize: trainSize, iterations: kmeansIterations, seed: seed ?? IVFParameters.default.seed, codec: ivfCodec)
        }
    }

    /// The codec `--codec`, `--pq-m`, `--opq` and `--no-residual` ask for (nil without `--codec`).
    var ivfCodec: IVFCodec? {
        get throws {
            guard let codec else {
                if pqM != nil || opq || noResidual { throw CLIError("--pq-m, --opq and --no-residual go with --codec pq or pq4fs") }
                return nil
            }
            guard let pqM else { throw CLIError("--codec \(codec.rawValue) needs --pq-m (slices per vector, a divisor of the dimension)") }
            return try IVFCodec(codec, subquantizers: pqM, rotation: opq, residual: !noResidual)
        }
    }
}

/// Search settings of every index kind (`search`, `rag query`); a kind ignores the others'.
struct SearchSettingOptions: ParsableArguments {
    @Option(help: "HNSW: candidate list size (raised to k when smaller).")
    var ef: Int = SearchOptions.default.ef

    @Option(help: "IVF: lists scanned per query.")
    var nprobe: Int = SearchOptions.default.nprobe

    @Option(
        name: .customLong("filter-strategy"),
        help: "With a filter: force the exact scan (exact) or the index's own structure (index); default: the planner chooses.")
    var filterStrategy: FilterPlan.Strategy?

    @Option(help: "Quantized storage: re-score rerank × k candidates with the float32 vectors (0: keep the code scores).")
    var rerank: Int = SearchOptions.defaultRerank

    var options: SearchOptions { SearchOptions(ef: ef, nprobe: nprobe, filterStrategy: filterStrategy, rerank: rerank) }

    func validate() throws {
        guard ef >= 1 else { throw ValidationError("--ef must be at least 1") }
        guard (0...ParameterCheck.maximumRerank).contains(rerank) else {
            throw ValidationError("--rerank must be between 0 and \(ParameterCheck.maximumRerank)")
        }
        guard nprobe >= 1 else { throw ValidationError("--nprobe must be at least 1") }
        if filterStrategy == .unfiltered { throw ValidationError("--filter-strategy is exact or index") }
    }
}

/// Parses `--filter` JSON, naming the option in errors. A filter that does not parse is bad
/// input like any other (exit status 1), not a misuse of the command line (64, with the usage).
func parseFilter(_ json: String) throws -> Filter {
    do {
        return try Filter(json: json)
    } catch {
        throw CLIError("--filter: \(error)")
    }
}

extension IndexKind: ExpressibleByArgument {}
extension VectorStorage: ExpressibleByArgument {}
extension IVFCodec.Kind: ExpressibleByArgument {}

extension FilterPlan.Strategy: ExpressibleByArgument {}

extension Metric: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["l2", "ip", "cosine"] }
}

extension EmbeddingFormat: ExpressibleByArgument {}
