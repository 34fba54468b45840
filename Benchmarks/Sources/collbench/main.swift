// Collection benchmark behind BENCHMARKS.md (issue 21): ingest throughput, one-document update
// latency (durable on return), memory, checkpoint and open times of a DocumentCollection.
//   collbench DOCS.jsonl EMBEDDINGS DIR [INDEX=hnsw] [UPDATES=1000] [BATCH=1000] [rows-only]
// DOCS.jsonl holds {"id", "text", metadata...} per line, EMBEDDINGS one vector per document (any
// format EmbeddingFile reads). DIR is replaced. Prints one JSON object. `rows-only` measures the
// write path alone at scale: no index is built (no checkpoint, no query), as an update needs none.
// An IVF collection takes its lists and k-means sample from COLLBENCH_NLIST and COLLBENCH_TRAIN
// (default: automatic, as `rag ingest`); COLLBENCH_QUERIES sets the number of timed queries (200).
import Foundation
import VectorSearch
import VectorSearchRAG

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Resident set size now, in MB (from /proc/self/statm).
func residentMB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
        let pages = text.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
    else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1e6
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data("usage: collbench DOCS.jsonl EMBEDDINGS DIR [INDEX=hnsw] [UPDATES=1000] [BATCH=1000]\n".utf8))
    exit(64)
}
let kind = IndexKind(rawValue: arguments.count > 4 ? arguments[4] : "hnsw") ?? .hnsw
let updates = arguments.count > 5 ? Int(arguments[5]) ?? 1000 : 1000
let batch = arguments.count > 6 ? Int(arguments[6]) ?? 1000 : 1000
let rowsOnly = arguments.count > 7 && arguments[7] == "rows-only"
let directory = arguments[3]

let entries = try DocumentFile.read(arguments[1])
let vectors = try EmbeddingFile.read(arguments[2]).vectors
precondition(entries.count == vectors.count, "\(entries.count) documents, \(vectors.count) vectors")
try? FileManager.default.removeItem(atPath: directory)

let environment = ProcessInfo.processInfo.environment
let ivf = try IVFParameters(
    nlist: environment["COLLBENCH_NLIST"].flatMap { Int($0) }, trainingSize: environment["COLLBENCH_TRAIN"].flatMap { Int($0) })
let collection = try DocumentCollection.create(at: directory, dimension: vectors.dimension, index: kind, ivf: ivf)
collection.checkpointInterval = Int.max  // ingest measured alone; the checkpoint after it, on its own
var start = now()
for first in stride(from: 0, to: entries.count, by: batch) {
    let rows = first..<min(first + batch, entries.count)
    var matrix = VectorMatrix(dimension: vectors.dimension)
    for row in rows { try matrix.append(vectors[row]) }
    try collection.add(rows.map { entries[$0].document }, embeddings: matrix)
}
let ingestSeconds = now() - start
var checkpointSeconds = 0.0, openSeconds = 0.0, firstQuerySeconds = 0.0
var queryTimes: [Double] = [], vectorQueryTimes: [Double] = []
if !rowsOnly {
    start = now()
    try collection.checkpoint()
    checkpointSeconds = now() - start

    start = now()
    let reopened = try DocumentCollection.open(at: directory)
    openSeconds = now() - start
    start = now()
    _ = try reopened.retrieve(vector: vectors[0], text: entries[0].document.text, options: RetrievalOptions(k: 10, hybrid: true))
    firstQuerySeconds = now() - start
    for q in 0..<(environment["COLLBENCH_QUERIES"].flatMap { Int($0) } ?? 200) {
        let row = (q * 7919) % entries.count
        let t = now()
        _ = try reopened.retrieve(vector: vectors[row], text: entries[row].document.text, options: RetrievalOptions(k: 10, hybrid: true))
        queryTimes.append(now() - t)
        let u = now()
        _ = try reopened.retrieve(vector: vectors[row], options: RetrievalOptions(k: 10))
        vectorQueryTimes.append(now() - u)
    }
    // Updates from here checkpoint as a writer does by default.
    collection.checkpointInterval = 1_000
}

// One-document updates: new text, metadata and vector, each durable when the call returns.
let memoryBefore = residentMB()
var updateTimes: [Double] = []
var random = SystemRandomNumberGenerator()
for u in 0..<updates {
    let row = Int.random(in: 0..<entries.count, using: &random)
    var document = entries[row].document
    document.text += " (revised \(u))"
    document.metadata["revision"] = .int(Int64(u))
    let vector = vectors[row].map { $0 + Float.random(in: -0.01...0.01, using: &random) }
    let t = now()
    try collection.replace([document], embeddings: VectorMatrix(dimension: vectors.dimension, values: vector))
    updateTimes.append(now() - t)
}
let memoryAfter = residentMB()
updateTimes.sort()
queryTimes.sort()
vectorQueryTimes.sort()
let info = try collection.info()
let report: [String: Any] = [
    "documents": entries.count, "index": rowsOnly ? "none (rows only)" : kind.rawValue, "dimension": vectors.dimension,
    "ivf_nlist": ivf.nlist ?? 0, "ivf_training_size": ivf.trainingSize ?? 0,
    // Ingest as the peers count it: the index built too (our checkpoint; LanceDB's index builds;
    // Chroma builds while adding). The rows alone, durable and searchable exactly, separately.
    "ingest_seconds": ingestSeconds + checkpointSeconds, "ingest_docs_per_second": Double(entries.count) / (ingestSeconds + checkpointSeconds),
    "rows_seconds": ingestSeconds, "rows_docs_per_second": Double(entries.count) / ingestSeconds,
    "checkpoint_seconds": checkpointSeconds, "open_seconds": openSeconds, "first_hybrid_query_seconds": firstQuerySeconds,
    "query_p50_ms": percentile(vectorQueryTimes, 0.5) * 1e3, "query_p99_ms": percentile(vectorQueryTimes, 0.99) * 1e3,
    "hybrid_query_p50_ms": percentile(queryTimes, 0.5) * 1e3, "hybrid_query_p99_ms": percentile(queryTimes, 0.99) * 1e3,
    "updates": updates, "update_p50_ms": percentile(updateTimes, 0.5) * 1e3, "update_p99_ms": percentile(updateTimes, 0.99) * 1e3,
    "update_max_ms": (updateTimes.last ?? 0) * 1e3, "rss_before_updates_mb": memoryBefore, "rss_after_updates_mb": memoryAfter,
    "database_bytes": info.databaseBytes, "checkpoint_bytes": info.checkpointBytes,
    "disk_bytes_per_document": Double(info.databaseBytes + info.checkpointBytes) / Double(entries.count),
]
print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
