#!/usr/bin/env python3
"""Collection peers for collbench: Chroma and LanceDB as durable document stores with vectors.
Mirrors Benchmarks/Sources/collbench: batched ingest with precomputed embeddings (plus, for
LanceDB, its index builds), open and first query, 200 k=10 queries, one-document updates timed
per call, resident memory around the updates, and the store's size on disk. Prints one JSON object.
usage: collection_peers.py ENGINE DOCS.jsonl EMBEDDINGS.fvecs DIR [UPDATES=1000] [BATCH=1000]
  ENGINE is chroma or lancedb; DIR is replaced.
(collection_peers.py --cold ENGINE DIR EMBEDDINGS.fvecs is the fresh-process open + first query.)
Not named collections.py: that would shadow the standard library's module for every script here."""
import json, math, os, shutil, subprocess, sys, time

T0 = time.monotonic()  # the cold child reports its import time from here

import numpy as np

QUERIES = 200
K = 10
TABLE = "documents"


def now():
    return time.monotonic()


def resident_mb():
    """Resident set size now, in MB, from /proc/self/statm (as collbench reads it)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGESIZE") / 1e6


def percentile(sorted_values, p):
    # Same rank rule as collbench, so the p99 of 200 samples is the same sample for both.
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, math.ceil(len(sorted_values) * p) - 1)]


def read_fvecs(path):
    raw = np.fromfile(path, dtype=np.int32)
    d = int(raw[0])
    return np.ascontiguousarray(raw.reshape(-1, d + 1)[:, 1:].view(np.float32))


def read_docs(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def directory_bytes(path):
    # Apparent file sizes, as collbench's database + checkpoint bytes are.
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def metadata_of(doc):
    return {k: v for k, v in doc.items() if k not in ("id", "text")}


class Chroma:
    name = "chroma"

    def __init__(self):
        import chromadb
        from chromadb.config import Settings
        self.chromadb, self.Settings = chromadb, Settings
        self.version = chromadb.__version__

    def client(self, directory):
        # Telemetry off: no network here, and it would only add noise to the timings.
        return self.chromadb.PersistentClient(path=directory, settings=self.Settings(anonymized_telemetry=False))

    def create(self, directory, docs, vectors, batch):
        self.writer = self.client(directory)
        collection = self.writer.create_collection(TABLE, metadata={"hnsw:space": "cosine"}, embedding_function=None)
        start = now()
        for first in range(0, len(docs), batch):
            rows = docs[first:first + batch]
            collection.add(ids=[str(d["id"]) for d in rows], embeddings=vectors[first:first + batch],
                           documents=[d["text"] for d in rows],
                           metadatas=[{k: v for k, v in metadata_of(d).items() if v is not None} or None for d in rows])
        return now() - start, 0.0, {}

    def close_writer(self):
        self.writer.close()
        del self.writer

    def open(self, directory):
        self.reader = self.client(directory)
        self.collection = self.reader.get_collection(TABLE, embedding_function=None)

    def query(self, vector):
        result = self.collection.query(query_embeddings=[vector], n_results=K)
        return [int(i) for i in result["ids"][0]]

    hybrid = None  # local Chroma has where_document filters only; its hybrid Search API is Cloud-only

    def update(self, doc, vector):
        # Returns once the record is committed to Chroma's log in SQLite (rollback journal, fsynced);
        # the HNSW files are written only every sync_threshold records and rebuilt from that log.
        self.collection.upsert(ids=[str(doc["id"])], embeddings=[vector], documents=[doc["text"]],
                               metadatas=[{k: v for k, v in metadata_of(doc).items() if v is not None}])

    def close(self):
        self.reader.close()


class LanceDB:
    name = "lancedb"

    def __init__(self):
        # Its hybrid legs log a deprecation warning per query about the score column otherwise.
        os.environ.setdefault("LANCEDB_LOG", "error")
        import lancedb, pyarrow
        from lancedb.index import FTS, BTree, IvfPq
        self.lancedb, self.pa = lancedb, pyarrow
        self.FTS, self.BTree, self.IvfPq = FTS, BTree, IvfPq
        self.version = lancedb.__version__

    def schema(self, docs, dimension):
        pa = self.pa
        fields = [pa.field("id", pa.int64()), pa.field("text", pa.string())]
        keys = []
        for d in docs:
            keys += [k for k in metadata_of(d) if k not in keys]
        for key in keys:
            fields.append(pa.field(key, pa.array([d.get(key) for d in docs]).type))
        if "revision" not in keys:  # the updates add it; the schema is fixed at creation
            fields.append(pa.field("revision", pa.int64()))
        fields.append(pa.field("vector", pa.list_(pa.float32(), dimension)))
        return pa.schema(fields)

    def rows(self, docs, vectors):
        pa = self.pa
        columns = {f.name: [d.get(f.name) for d in docs] for f in self.table_schema if f.name != "vector"}
        flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
        columns["vector"] = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
        return pa.Table.from_pydict(columns, schema=self.table_schema)

    def create(self, directory, docs, vectors, batch):
        self.table_schema = self.schema(docs, vectors.shape[1])
        db = self.lancedb.connect(directory)
        table = db.create_table(TABLE, schema=self.table_schema)
        start = now()
        for first in range(0, len(docs), batch):
            table.add(self.rows(docs[first:first + batch], vectors[first:first + batch]))
        adds = now() - start
        parts = {}
        # IVF_PQ: LanceDB's default vector index (what create_index picks without a config),
        # here trained for cosine; queries name cosine too, as an index only serves its own metric.
        t = now()
        table.create_index("vector", config=self.IvfPq(distance_type="cosine"))
        parts["vector_index_seconds"] = now() - t
        # Native FTS on text; create_index(config=FTS()) is what create_fts_index now wraps.
        t = now()
        table.create_index("text", config=self.FTS())
        parts["fts_index_seconds"] = now() - t
        # Scalar index on the upsert key, which LanceDB advises for merge_insert.
        t = now()
        table.create_index("id", config=self.BTree())
        parts["id_index_seconds"] = now() - t
        self.index_types = {i.name: i.index_type for i in table.list_indices()}
        return adds, sum(parts.values()), parts

    def close_writer(self):
        pass  # a LanceDB connection holds no lock or cache worth dropping

    def open(self, directory):
        self.db = self.lancedb.connect(directory)
        self.table = self.db.open_table(TABLE)
        self.columns = [f.name for f in self.table.schema if f.name != "vector"]  # what a document is
        self.table_schema = self.table.schema

    def query(self, vector):
        result = (self.table.search(vector, vector_column_name="vector").distance_type("cosine")
                  .select(self.columns + ["_distance"]).limit(K).to_arrow())
        return result.column("id").to_pylist()

    def hybrid(self, vector, text):
        # LanceDB's hybrid: vector + FTS legs fused by its default reciprocal-rank reranker.
        result = (self.table.search(query_type="hybrid", vector_column_name="vector").vector(vector).text(text)
                  .distance_type("cosine").select(self.columns).limit(K).to_arrow())
        return result.column("id").to_pylist()

    def update(self, doc, vector):
        # merge_insert on the key is LanceDB's upsert; each call commits a new table version by
        # rename, without fsync, so it is durable against a process crash, not a power loss.
        (self.table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()
         .execute(self.rows([doc], vector.reshape(1, -1))))

    def close(self):
        pass


ENGINES = {"chroma": Chroma, "lancedb": LanceDB}


def cold(engine_name, directory, embeddings):
    """Runs in a fresh interpreter: imports, opens the store, one k=10 vector query."""
    engine = ENGINES[engine_name]()
    imported = now()
    vector = read_fvecs(embeddings)[0]
    start = now()
    engine.open(directory)
    opened = now()
    ids = engine.query(vector)
    done = now()
    engine.close()
    print(json.dumps({"import_seconds": imported - T0, "open_seconds": opened - start,
                      "first_query_seconds": done - opened, "after_import_seconds": done - start,
                      "top_id": ids[0] if ids else None}))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--cold":
        return cold(*sys.argv[2:5])
    if len(sys.argv) < 5 or sys.argv[1] not in ENGINES:
        sys.exit(__doc__)
    engine_name, docs_path, embeddings, directory = sys.argv[1:5]
    updates = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    batch = int(sys.argv[6]) if len(sys.argv) > 6 else 1000

    docs = read_docs(docs_path)
    vectors = read_fvecs(embeddings)
    assert len(docs) == len(vectors), f"{len(docs)} documents, {len(vectors)} vectors"
    n, dimension = len(vectors), vectors.shape[1]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)

    engine = ENGINES[engine_name]()
    adds_seconds, index_seconds, index_parts = engine.create(directory, docs, vectors, batch)
    ingest_seconds = adds_seconds + index_seconds
    engine.close_writer()

    # Fresh process: interpreter start, imports, open and first query, on the just-ingested store.
    start = now()
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--cold", engine_name, directory, embeddings],
                           check=True, capture_output=True, text=True)
    cold_wall = now() - start
    cold_report = json.loads(child.stdout.strip().splitlines()[-1])

    start = now()
    engine.open(directory)
    open_seconds = now() - start
    start = now()
    engine.query(vectors[0])
    first_query_seconds = now() - start

    query_times, self_hits = [], 0
    for q in range(QUERIES):
        row = (q * 7919) % n
        t = now()
        ids = engine.query(vectors[row])
        query_times.append(now() - t)
        self_hits += bool(ids) and ids[0] == docs[row]["id"]
    hybrid_times, hybrid_hits = [], 0
    if engine.hybrid:
        for q in range(QUERIES):
            row = (q * 7919) % n
            t = now()
            ids = engine.hybrid(vectors[row], docs[row]["text"])
            hybrid_times.append(now() - t)
            hybrid_hits += bool(ids) and ids[0] == docs[row]["id"]

    # One-document updates: new text, metadata and vector, each call timed to its return.
    rng = np.random.default_rng(2024)
    memory_before = resident_mb()
    update_times = []
    updated = {}
    for u in range(updates):
        row = int(rng.integers(n))
        doc = dict(docs[row])
        doc["text"] = doc["text"] + f" (revised {u})"
        doc["revision"] = u
        vector = (vectors[row] + rng.uniform(-0.01, 0.01, dimension)).astype(np.float32)
        t = now()
        engine.update(doc, vector)
        update_times.append(now() - t)
        updated[row] = vector
    memory_after = resident_mb()
    # An updated document found by its new vector shows the update took (checked, not timed).
    updated_hits = sum(engine.query(v)[:1] == [docs[row]["id"]] for row, v in list(updated.items())[:20])
    engine.close()

    query_times.sort()
    hybrid_times.sort()
    update_times.sort()
    disk = directory_bytes(directory)
    report = {
        "engine": engine.name, "version": engine.version, "documents": n, "dimension": dimension,
        "ingest_seconds": ingest_seconds, "ingest_add_seconds": adds_seconds, "index_build_seconds": index_seconds,
        "ingest_docs_per_second": n / ingest_seconds,
        "open_seconds": open_seconds, "first_query_seconds": first_query_seconds,
        "cold_open_first_query_seconds": cold_wall,
        "cold_open_first_query_after_import_seconds": cold_report["after_import_seconds"],
        "cold_import_seconds": cold_report["import_seconds"],
        "cold_first_query_found_own_document": cold_report["top_id"] == docs[0]["id"],
        "query_p50_ms": percentile(query_times, 0.5) * 1e3, "query_p99_ms": percentile(query_times, 0.99) * 1e3,
        "self_top1_rate": self_hits / QUERIES,
        "updates": updates, "update_p50_ms": percentile(update_times, 0.5) * 1e3,
        "update_p99_ms": percentile(update_times, 0.99) * 1e3, "update_max_ms": (update_times[-1] if update_times else 0) * 1e3,
        "updated_top1_checked": min(len(updated), 20), "updated_top1_hits": updated_hits,
        "rss_before_updates_mb": memory_before, "rss_after_updates_mb": memory_after,
        "disk_bytes": disk, "disk_bytes_per_document": disk / n,
    }
    report.update(index_parts)
    if hybrid_times:
        report.update({"hybrid_query_p50_ms": percentile(hybrid_times, 0.5) * 1e3,
                       "hybrid_query_p99_ms": percentile(hybrid_times, 0.99) * 1e3,
                       "hybrid_self_top1_rate": hybrid_hits / QUERIES})
    if hasattr(engine, "index_types"):
        report["indices"] = engine.index_types
    print(json.dumps(report, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
