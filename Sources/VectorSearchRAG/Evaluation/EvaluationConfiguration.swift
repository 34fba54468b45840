import VectorSearch

/// One way of retrieving that ``RetrievalEvaluator`` scores: which index answers (the
/// collection's own, or one built over the same chunks for the comparison), the retrieval
/// settings (search settings, hybrid, MMR, a filter) and whether the query adapter is applied.
public struct EvaluationConfiguration: Sendable {
    /// The index a configuration searches.
    public enum Index: Sendable, Equatable, CustomStringConvertible {
        /// The collection's own index (with its log applied).
        case collection
        /// An exact scan, built in memory over the collection's chunks.
        case exact
        /// An HNSW graph built in memory over the collection's chunks.
        case hnsw(HNSWParameters)
        /// IVF lists trained and filled in memory over the collection's chunks.
        case ivf(IVFParameters)

        public var description: String {
            switch self {
            case .collection: "collection"
            case .exact: "exact"
            case .hnsw: "hnsw"
            case .ivf: "ivf"
            }
        }
    }

    /// The name reports and run files use (the run file's tag).
    public var name: String
    public var index: Index
    /// Search settings (`ef`, `nprobe`, `rerank`), hybrid, MMR, filter, candidates; its `k` is
    /// ignored (the evaluator asks for as many as its largest cutoff needs).
    public var retrieval: RetrievalOptions
    /// Apply the collection's query adapter (``DocumentCollection/queryAdapter``).
    public var adapter: Bool

    public init(name: String, index: Index = .collection, retrieval: RetrievalOptions = RetrievalOptions(), adapter: Bool = false) {
        self.name = name
        self.index = index
        self.retrieval = retrieval
        self.adapter = adapter
    }

    /// A configuration from its command-line form: comma-separated settings, each `key=value`
    /// or a bare flag, `filter=` last since its JSON may hold commas:
    ///
    ///     name=hnsw64,index=hnsw,ef=64
    ///     name=hybrid-adapted,hybrid,adapter,filter={"section": {"$eq": 2}}
    ///
    /// Keys: `name`, `index` (`collection`, `exact`, `hnsw`, `ivf`), `ef`, `nprobe`, `rerank`,
    /// `m`, `ef-construction`, `nlist` (for the indexes built here), `hybrid`, `mmr` (λ),
    /// `candidates`, `adapter`, `filter` (JSON).
    public init(parsing spec: String) throws {
        var rest = Substring(spec)
        var pairs: [(String, String?)] = []
        while !rest.isEmpty {
            if rest.hasPrefix("filter=") {
                pairs.append(("filter", String(rest.dropFirst("filter=".count))))
                break
            }
            let item = rest.prefix { $0 != "," }
            rest = rest.dropFirst(item.count).drop { $0 == "," }
            guard !item.isEmpty else { continue }
            if let equals = item.firstIndex(of: "=") {
                pairs.append((String(item[..<equals]), String(item[item.index(after: equals)...])))
            } else {
                pairs.append((String(item), nil))
            }
        }
        func fail(_ reason: String) -> VectorSearchError { .invalidArgument("configuration \"\(spec)\": \(reason)") }
        var name: String?, indexName = "collection"
        var options = RetrievalOptions(), adapter = false
        var m: Int?, efConstruction: Int?, nlist: Int?
        for (key, value) in pairs {
            func number<T: LosslessStringConvertible>(_: T.Type) throws -> T {
                guard let value, let number = T(value) else { throw fail("\(key) needs a number, as \(key)=8") }
                return number
            }
            switch key {
            case "name": name = value
            case "index":
                guard let value, ["collection", "exact", "hnsw", "ivf"].contains(value) else {
                    throw fail("index is one of collection, exact, hnsw, ivf")
                }
                indexName = value
            case "ef": options.search.ef = try number(Int.self)
            case "nprobe": options.search.nprobe = try number(Int.self)
            case "rerank": options.search.rerank = try number(Int.self)
            case "m": m = try number(Int.self)
            case "ef-construction": efConstruction = try number(Int.self)
            case "nlist": nlist = try number(Int.self)
            case "candidates": options.candidates = try number(Int.self)
            case "mmr": options.mmrLambda = try number(Double.self)
            case "hybrid": options.hybrid = true
            case "adapter": adapter = true
            case "filter":
                guard let value, !value.isEmpty else { throw fail("filter needs JSON, as filter={\"year\": {\"$gte\": 2020}}") }
                options.filter = try Filter(json: value)
            default:
                throw fail(
                    "unknown setting \"\(key)\" (known: name, index, ef, nprobe, rerank, m, ef-construction, nlist, candidates, mmr, hybrid, adapter, filter)")
            }
        }
        let index: Index
        switch indexName {
        case "exact": index = .exact
        case "hnsw": index = .hnsw(try HNSWParameters(m: m ?? 16, efConstruction: efConstruction ?? 200))
        case "ivf": index = .ivf(try IVFParameters(nlist: nlist))
        default: index = .collection
        }
        if indexName != "hnsw", m != nil || efConstruction != nil { throw fail("m and ef-construction build an index=hnsw") }
        if indexName != "ivf", nlist != nil { throw fail("nlist builds an index=ivf") }
        if let lambda = options.mmrLambda, !(0...1).contains(lambda) { throw fail("mmr (λ) must be in 0...1") }
        self.init(name: name ?? spec, index: index, retrieval: options, adapter: adapter)
    }

    /// The settings as reports show them, e.g. `index=hnsw ef=64 hybrid`.
    public var summary: String {
        var parts = ["index=\(index)"]
        switch index {
        case .hnsw(let p): parts.append("m=\(p.m) ef-construction=\(p.efConstruction) ef=\(retrieval.search.ef)")
        case .ivf(let p): parts.append((p.nlist.map { "nlist=\($0) " } ?? "") + "nprobe=\(retrieval.search.nprobe)")
        case .collection: parts.append("ef=\(retrieval.search.ef) nprobe=\(retrieval.search.nprobe)")
        case .exact: break
        }
        if retrieval.hybrid { parts.append("hybrid") }
        if let lambda = retrieval.mmrLambda { parts.append("mmr=\(lambda)") }
        if retrieval.filter != nil { parts.append("filter") }
        if adapter { parts.append("adapter") }
        return parts.joined(separator: " ")
    }
}
