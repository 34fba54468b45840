"""Peer engines measured like `vectorsearch bench`, reported in the same JSON schema.

HNSW: hnswlib, FAISS IndexHNSWFlat, USearch (M, efConstruction; sweep over ef).
IVF: FAISS IndexIVFFlat (nlist, training sample; sweep over nprobe). Build = train + add.

Each peer is timed in its own native loop: one batch call with 1 thread for "queries one at a time
on one thread" (hnswlib knn_query(Q, num_threads=1), FAISS with omp_set_num_threads(1), USearch
search(..., threads=1)), so no Python call overhead counts against it; then one batch call with
--threads threads. Builds use --threads threads (or --build-threads).
Memory: resident-set growth while building, minus the raw vectors, per vector.

Filtered track (--filter-selectivity 0.5,0.1,...): every base vector gets the same `bench_label` as
`vectorsearch bench --filter-selectivity` gives it (SplitMix64 of the row number, mod 100,000); each
selectivity s admits bench_label < s*100,000, with exact filtered ground truth by brute force here.
hnswlib filters with its filter callable (a Python list's __getitem__, the cheapest callable),
FAISS with an IDSelectorBitmap, USearch with a bitmap predicate in its C++ filtered_search (its
Python binding has none; see usearch_filtered.cpp).

usage: peers.py SYSTEM (--base B --queries Q [--groundtruth G] --metric cosine|ip|l2 | --dataset F.hdf5) [--k 10] [--threads 2] [--build-threads T] [--json OUT]
                [--m 16 --ef-construction 200 --sweep-ef 10,16,...]          (hnswlib, faiss, usearch)
                [--storage float32|float16|bfloat16|int8]                     (faiss, faiss-ivf, usearch)
                [--nlist N --train-size S --sweep-nprobe 1,2,4,...]          (faiss-ivf)
                [--codec pq|pq4fs|rabitq --pq-m M [--opq] --rerank R[,R...]]   (faiss-ivf: FAISS factory, RFlat k_factor R; a list sweeps each)
                [--nlist LEAVES --sweep-nprobe 1,2,4,...]                     (scann: leaves to search)
                [--filter-selectivity 0.5,0.1,0.01,0.001]
                [--metadata meta.jsonl --filter JSON [--filter JSON ...]]
"""
import argparse, json, time
import numpy as np
from vecs import read_vecs



def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def normalized_for_faiss(faiss, metric, x):
    """FAISS has no cosine metric: cosine data is normalised and searched by inner product."""
    if metric == "cosine":
        x = x.copy()
        faiss.normalize_L2(x)
    return x


class HNSWLib:
    index_kind, knob = "hnsw", "ef"

    def __init__(self, d, metric, n, a):
        m, efc = a.m, a.ef_construction
        import hnswlib
        self.version = getattr(hnswlib, "__version__", "0.8.0")
        self.index = hnswlib.Index(space={"cosine": "cosine", "ip": "ip", "l2": "l2"}[metric], dim=d)
        self.index.init_index(max_elements=n, M=m, ef_construction=efc, random_seed=100)

    def add(self, xb, threads):
        self.index.add_items(xb, np.arange(len(xb)), num_threads=threads)

    def search(self, xq, k, ef, threads, allowed=None):
        self.index.set_ef(max(ef, k))
        if allowed is None:
            labels, _ = self.index.knn_query(xq, k=k, num_threads=threads)
        else:
            labels, _ = self.index.knn_query(xq, k=k, num_threads=threads, filter=allowed.tolist().__getitem__)
        return labels


class FaissHNSW:
    index_kind, knob = "hnsw", "ef"

    def __init__(self, d, metric, n, a):
        m, efc = a.m, a.ef_construction
        import faiss
        self.faiss = faiss
        self.version = faiss.__version__
        self.metric = metric
        mt = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
        # --storage: float32 (IndexHNSWFlat), int8 (IndexHNSWSQ with SQ8: a per-dimension range
        # trained on the data) or float16 (SQfp16); FAISS has no bfloat16 scalar quantizer here.
        codes = {"int8": faiss.ScalarQuantizer.QT_8bit, "float16": faiss.ScalarQuantizer.QT_fp16}
        if a.storage == "float32":
            self.index = faiss.IndexHNSWFlat(d, m, mt)
        elif a.storage in codes:
            self.index = faiss.IndexHNSWSQ(d, codes[a.storage], m, mt)
        else:
            raise SystemExit(f"faiss: no {a.storage} storage for HNSW")
        self.index.hnsw.efConstruction = efc

    def prepare(self, x):
        return normalized_for_faiss(self.faiss, self.metric, x)

    def add(self, xb, threads):
        self.faiss.omp_set_num_threads(threads)
        x = self.prepare(xb)
        if not self.index.is_trained:
            self.index.train(x)
        self.index.add(x)

    def search(self, xq, k, ef, threads, allowed=None):
        self.faiss.omp_set_num_threads(threads)
        self.index.hnsw.efSearch = max(ef, k)
        if allowed is None:
            _, labels = self.index.search(self.prepare(xq), k)
        else:
            bits = np.packbits(allowed, bitorder="little")
            selector = self.faiss.IDSelectorBitmap(len(allowed), self.faiss.swig_ptr(bits))
            params = self.faiss.SearchParametersHNSW(sel=selector, efSearch=max(ef, k))
            _, labels = self.index.search(self.prepare(xq), k, params=params)
        return labels


class USearch:
    index_kind, knob = "hnsw", "ef"

    def __init__(self, d, metric, n, a):
        m, efc = a.m, a.ef_construction
        import usearch
        from usearch.index import Index
        self.version = usearch.__version__
        dtype = {"float32": "f32", "float16": "f16", "bfloat16": "bf16", "int8": "i8"}[a.storage]
        self.index = Index(ndim=d, metric={"cosine": "cos", "ip": "ip", "l2": "l2sq"}[metric], dtype=dtype,
                           connectivity=m, expansion_add=efc, expansion_search=64)
        self.filtered = None

    def add(self, xb, threads):
        self.index.add(np.arange(len(xb), dtype=np.uint64), xb, threads=threads)

    def search(self, xq, k, ef, threads, allowed=None):
        if allowed is None:
            self.index.expansion_search = max(ef, k)
            return self.index.search(xq, k, threads=threads).keys
        return self.prepare_filtered().search(xq, k, max(ef, k), threads, allowed)

    def prepare_filtered(self):
        if self.filtered is None:
            self.filtered = USearchFiltered(self.index, self.version)
        return self.filtered


class USearchFiltered:
    """USearch's filtered_search with a bitmap predicate, through usearch_filtered.cpp (setup.sh
    builds it against the same release's headers): the index is saved once and loaded there."""

    def __init__(self, index, version):
        import ctypes, os, tempfile
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".venv", f"usearch_filtered-{version}.so")
        self.lib = ctypes.CDLL(path)
        self.lib.usf_load.restype = ctypes.c_void_p
        self.lib.usf_load.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        self.lib.usf_search.argtypes = [ctypes.c_void_p, ctypes.c_void_p] + [ctypes.c_size_t] * 3 + [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
        with tempfile.TemporaryDirectory() as directory:
            saved = os.path.join(directory, "index.usearch")
            index.save(saved)
            self.handle = self.lib.usf_load(saved.encode(), os.cpu_count())
        if not self.handle:
            raise SystemExit("usearch: the saved index did not load in usearch_filtered")

    def search(self, xq, k, ef, threads, allowed):
        xq = np.ascontiguousarray(xq, dtype=np.float32)
        bits = np.packbits(allowed, bitorder="little")
        keys = np.empty((len(xq), k), dtype=np.uint64)
        if self.lib.usf_search(self.handle, xq.ctypes.data, len(xq), k, ef, bits.ctypes.data, threads, keys.ctypes.data):
            raise RuntimeError("usearch filtered_search failed")
        return keys


class FaissIVF:
    """IndexIVFFlat as FAISS users build it: an L2 quantizer for l2, an inner-product one for ip
    and cosine (vectors normalised); training samples at most 256 points per list, 10 iterations.
    --storage int8 / float16: IndexIVFScalarQuantizer with SQ8 / SQfp16 (codes of the vectors
    themselves, not residuals, trained on the same sample)."""
    index_kind, knob = "ivf", "nprobe"

    def __init__(self, d, metric, n, a):
        import faiss
        self.faiss = faiss
        self.version = faiss.__version__
        self.metric = metric
        self.nlist = a.nlist or max(1, round(4 * n ** 0.5))
        self.train_size = a.train_size
        self.seed = a.seed
        mt = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
        self.quantizer = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
        codes = {"int8": faiss.ScalarQuantizer.QT_8bit, "float16": faiss.ScalarQuantizer.QT_fp16}
        # One build serves every k_factor of --rerank (a list): the sweep sets it per pass.
        self.reranks = [int(r) for r in str(a.rerank).split(",")]
        self.rerank = max(self.reranks)
        if a.codec:
            # Compressed lists through FAISS's factory, re-ranked from float32 in RAM (RFlat,
            # k_factor = --rerank) unless --rerank 0.
            self.factory = {
                "pq": f"IVF{self.nlist},PQ{a.pq_m}", "pq4fs": f"IVF{self.nlist},PQ{a.pq_m}x4fs",
                "rabitq": f"IVF{self.nlist},RaBitQ"}[a.codec]
            if a.opq:
                self.factory = f"OPQ{a.pq_m}," + self.factory
            if self.rerank > 0:
                self.factory += ",RFlat"
            self.index = faiss.index_factory(d, self.factory, mt)
            if a.codec == "pq4fs":
                # FAISS's fast-scan factory codes the vectors, not their residuals: on L2 data (gen
                # 1M × 96) that caps recall@10 at 0.27, and residuals reach 0.99; on unit-length
                # MiniLM vectors it does better than residuals (0.897 against 0.880 at nprobe 32).
                # Each metric gets FAISS's better choice.
                faiss.extract_index_ivf(self.index).by_residual = metric == "l2"
        elif a.storage == "float32":
            self.index = faiss.IndexIVFFlat(self.quantizer, d, self.nlist, mt)
        elif a.storage in codes:
            self.index = faiss.IndexIVFScalarQuantizer(self.quantizer, d, self.nlist, codes[a.storage], mt, False)
        else:
            raise SystemExit(f"faiss-ivf: no {a.storage} storage")
        self.build_info = {"nlist": self.nlist}
        if a.codec:
            self.build_info.update(factory=self.factory, rerank=self.reranks,
                                   by_residual=bool(faiss.extract_index_ivf(self.index).by_residual))

    def prepare(self, x):
        return normalized_for_faiss(self.faiss, self.metric, x)

    def add(self, xb, threads):
        self.faiss.omp_set_num_threads(threads)
        xb = self.prepare(xb)
        sample = xb
        if self.train_size and self.train_size < len(xb):
            sample = xb[np.random.default_rng(self.seed).choice(len(xb), self.train_size, replace=False)]
        t = time.perf_counter()
        self.index.train(sample)
        self.build_info["train_seconds_x1000"] = round(1000 * (time.perf_counter() - t))
        self.index.add(xb)

    def search(self, xq, k, nprobe, threads, allowed=None):
        self.faiss.omp_set_num_threads(threads)
        if hasattr(self.index, "k_factor"):
            self.index.k_factor = self.rerank
        self.faiss.extract_index_ivf(self.index).nprobe = nprobe
        if allowed is None:
            _, labels = self.index.search(self.prepare(xq), k)
        else:
            bits = np.packbits(allowed, bitorder="little")
            selector = self.faiss.IDSelectorBitmap(len(allowed), self.faiss.swig_ptr(bits))
            params = self.faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
            _, labels = self.index.search(self.prepare(xq), k, params=params)
        return labels


class ScaNN:
    """ScaNN as its README recommends: a tree of about √N leaves, anisotropic 4-bit codes
    (score_ah(2, anisotropic_quantization_threshold=0.2); NaN, plain 4-bit codes, for L2), exact reordering of 100 candidates;
    the knob is leaves_to_search (--sweep-nprobe). Cosine data is normalised and searched by dot
    product. One thread: search_batched; threads: search_batched_parallel."""
    index_kind, knob = "scann", "leaves"

    def __init__(self, d, metric, n, a):
        import scann
        self.scann = scann
        self.version = getattr(scann, "__version__", "1.4.2")
        self.metric = metric
        self.leaves = a.nlist or max(1, round(n ** 0.5))
        self.build_info = {"leaves": self.leaves, "reorder": 100}

    def prepare(self, x):
        if self.metric == "cosine":
            x = x / np.linalg.norm(x, axis=1, keepdims=True)
        return np.ascontiguousarray(x, dtype=np.float32)

    def add(self, xb, threads):
        x = self.prepare(xb)
        builder = self.scann.scann_ops_pybind.builder(x, 10, "squared_l2" if self.metric == "l2" else "dot_product")
        builder = builder.tree(num_leaves=self.leaves, num_leaves_to_search=min(self.leaves, 16),
                               training_sample_size=len(x))
        # The anisotropic loss is for inner products; ScaNN's README sets the threshold to NaN for
        # squared L2 (0.2 there caps recall@10 at 0.37 on the gen 1M × 96 set).
        threshold = float("nan") if self.metric == "l2" else 0.2
        self.searcher = builder.score_ah(2, anisotropic_quantization_threshold=threshold).reorder(100).build()

    def search(self, xq, k, leaves, threads, allowed=None):
        if allowed is not None:
            raise SystemExit("scann: no filtered search here")
        q = self.prepare(xq)
        leaves = min(leaves, self.leaves)
        if threads == 1:
            labels, _ = self.searcher.search_batched(q, final_num_neighbors=k, leaves_to_search=leaves)
        else:
            labels, _ = self.searcher.search_batched_parallel(q, final_num_neighbors=k, leaves_to_search=leaves)
        return labels


SYSTEMS = {"hnswlib": HNSWLib, "faiss": FaissHNSW, "usearch": USearch, "faiss-ivf": FaissIVF, "scann": ScaNN}


def interpolate(points, targets):
    pts = sorted(points, key=lambda p: p["recall"])
    out = {}
    for t in targets:
        hi = next((i for i, p in enumerate(pts) if p["recall"] >= t), None)
        if hi is None:
            continue
        key = f"{t:.2f}"
        if hi == 0 or pts[hi]["recall"] == t:
            out[key] = {"qps": pts[hi]["qps"], "batch_qps": pts[hi]["batch_qps"]}
            continue
        lo, up = pts[hi - 1], pts[hi]
        f = (t - lo["recall"]) / (up["recall"] - lo["recall"])
        out[key] = {"qps": lo["qps"] + f * (up["qps"] - lo["qps"]),
                    "batch_qps": lo["batch_qps"] + f * (up["batch_qps"] - lo["batch_qps"])}
    return out


def bench_labels(n, label_range=100_000):
    """The label `vectorsearch bench --filter-selectivity` gives row i: SplitMix64 of i, mod range."""
    with np.errstate(over="ignore"):
        z = (np.arange(n, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return ((z ^ (z >> np.uint64(31))) % np.uint64(label_range)).astype(np.int64)


def matches(f, a):
    """The filter JSON form (as `vectorsearch` reads it) evaluated on one metadata object."""
    def equal(v, w):
        if v is None:
            return False
        if isinstance(v, list):
            return w in v
        return v == w and isinstance(v, bool) == isinstance(w, bool)

    def numeric(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    ops = {"$lt": lambda v, w: v < w, "$lte": lambda v, w: v <= w, "$gt": lambda v, w: v > w, "$gte": lambda v, w: v >= w}
    for key, cond in f.items():
        if key == "$and":
            ok = all(matches(g, a) for g in cond)
        elif key == "$or":
            ok = any(matches(g, a) for g in cond)
        elif key == "$not":
            ok = not matches(cond, a)
        elif not isinstance(cond, dict):
            ok = equal(a.get(key), cond)
        else:
            v = a.get(key)
            ok = True
            for op, w in cond.items():
                if op == "$eq":
                    ok &= equal(v, w)
                elif op == "$ne":
                    ok &= not equal(v, w)
                elif op in ops:
                    ok &= numeric(v) and ops[op](v, w)
                elif op == "$in":
                    ok &= any(equal(v, x) for x in w)
                elif op == "$nin":
                    ok &= not any(equal(v, x) for x in w)
                elif op == "$contains":
                    ok &= equal(v, w)
                elif op == "$exists":
                    ok &= (v is not None) == w
                else:
                    raise SystemExit(f"unknown operator {op}")
        if not ok:
            return False
    return True


def filtered_truth(xb, xq, allowed, metric, k):
    """Exact top-k among the allowed rows (row numbers), brute force in chunks of queries."""
    rows = np.nonzero(allowed)[0]
    if len(rows) == 0:
        return [set() for _ in range(len(xq))]
    base = xb[rows]
    if metric == "cosine":
        base = base / np.linalg.norm(base, axis=1, keepdims=True)
        xq = xq / np.linalg.norm(xq, axis=1, keepdims=True)
    norms = (base * base).sum(axis=1) if metric == "l2" else None
    out = []
    for start in range(0, len(xq), 100):
        scores = xq[start:start + 100] @ base.T
        dist = norms[None, :] - 2 * scores if metric == "l2" else -scores
        kk = min(k, len(rows))
        top = np.argpartition(dist, kk - 1, axis=1)[:, :kk] if kk < len(rows) else np.tile(np.arange(len(rows)), (len(dist), 1))
        for q, cand in enumerate(top):
            order = cand[np.argsort(dist[q, cand], kind="stable")]
            out.append(set(map(int, rows[order[:k]])))
    return out


def sweep_points(system, xq, k, values, threads, truth, allowed=None):
    """The knob's sweep; for a system with several re-ranking factors (faiss-ivf --rerank 5,10),
    the sweep at each, its points marked with the factor."""
    reranks = getattr(system, "reranks", None)
    if not reranks or len(reranks) == 1:
        return sweep_knob(system, xq, k, values, threads, truth, allowed)
    points = []
    for rerank in reranks:
        system.rerank = rerank
        for point in sweep_knob(system, xq, k, values, threads, truth, allowed):
            point["params"]["rerank"] = rerank
            points.append(point)
    return points


def sweep_knob(system, xq, k, values, threads, truth, allowed=None):
    if allowed is not None and hasattr(system, "prepare_filtered"):
        system.prepare_filtered()  # one-off setup, not timed
    points = []
    for value in values:
        try:
            t = time.perf_counter()
            labels = system.search(xq, k, value, 1, allowed)
            single = time.perf_counter() - t
            t = time.perf_counter()
            system.search(xq, k, value, threads, allowed)
            batch = time.perf_counter() - t
        except RuntimeError as error:  # hnswlib: fewer than k results at this ef
            print(f"  {system.knob}={value}: {error}")
            continue
        recall = float(np.mean([len(set(map(int, l)) & t) / len(t) if t else 1.0 for l, t in zip(labels, truth)]))
        points.append({"params": {system.knob: value}, "recall": recall, "qps": len(xq) / single, "batch_qps": len(xq) / batch,
                       "p50_ms": None, "p99_ms": None})
    return points


def read_hdf5(path):
    """train, test, neighbors and the metric of an ann-benchmarks file (as `vectorsearch bench --dataset` reads it)."""
    import h5py
    with h5py.File(path, "r") as f:
        distance = f.attrs["distance"]
        distance = distance.decode() if isinstance(distance, bytes) else str(distance)
        metric = {"euclidean": "l2", "angular": "cosine", "dot": "ip"}.get(distance)
        if metric is None:
            raise SystemExit(f"{path}: distance '{distance}' is not euclidean, angular or dot")
        neighbors = np.asarray(f["neighbors"], dtype=np.int32) if "neighbors" in f else None
        return (np.ascontiguousarray(f["train"], dtype=np.float32), np.ascontiguousarray(f["test"], dtype=np.float32),
                neighbors, metric)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("system", choices=sorted(SYSTEMS))
    p.add_argument("--base")
    p.add_argument("--queries")
    p.add_argument("--groundtruth")
    p.add_argument("--dataset", help="an ann-benchmarks HDF5 file: train, test, neighbors and the metric from its distance attribute")
    p.add_argument("--filter-selectivity")
    p.add_argument("--metadata")
    p.add_argument("--filter", action="append", default=[])
    p.add_argument("--metric", choices=["l2", "ip", "cosine"])
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--storage", choices=["float32", "float16", "bfloat16", "int8"], default="float32",
                   help="vector storage: faiss and faiss-ivf float32/float16/int8 (SQfp16, SQ8), usearch all four")
    p.add_argument("--sweep-ef", default="10,16,32,64,128,256,512")
    p.add_argument("--nlist", type=int)
    p.add_argument("--train-size", type=int)
    p.add_argument("--codec", choices=["pq", "pq4fs", "rabitq"], help="faiss-ivf: compressed lists (FAISS factory IVF…,PQm / PQmx4fs / RaBitQ)")
    p.add_argument("--pq-m", type=int, default=48, help="faiss-ivf --codec pq/pq4fs: sub-quantizers")
    p.add_argument("--opq", action="store_true", help="faiss-ivf --codec pq/pq4fs: an OPQ rotation first")
    p.add_argument("--rerank", default="10",
                   help="faiss-ivf --codec: RFlat k_factor, or a list swept on one build, e.g. 5,10,20 (0: no re-ranking)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--sweep-nprobe", default="1,2,4,8,16,32,64,128")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--build-threads", type=int, help="threads for building (default: --threads)")
    p.add_argument("--json")
    a = p.parse_args()

    truth_rows = None
    if a.dataset:
        if a.base or a.queries or a.groundtruth:
            p.error("--dataset holds the base, queries and ground truth: give it alone")
        xb, xq, truth_rows, a.metric = read_hdf5(a.dataset)
    else:
        if not (a.base and a.queries):
            p.error("give --base and --queries, or --dataset FILE.hdf5")
        xb, xq = read_vecs(a.base, np.float32), read_vecs(a.queries, np.float32)
        if a.groundtruth:
            truth_rows = read_vecs(a.groundtruth, np.int32)
    a.metric = a.metric or "l2"
    n, d = xb.shape
    before = rss_bytes()
    t0 = time.perf_counter()
    system = SYSTEMS[a.system](d, a.metric, n, a)
    system.add(xb, a.build_threads or a.threads)
    build = time.perf_counter() - t0
    index_bytes = rss_bytes() - before

    sweep = [int(x) for x in (a.sweep_ef if system.knob == "ef" else a.sweep_nprobe).split(",")]
    points = []
    if truth_rows is not None:
        truth = [set(map(int, g)) for g in truth_rows[:, :a.k]]
        points = sweep_points(system, xq, a.k, sweep, a.threads, truth)
    filtered = []
    if a.filter:
        meta = [json.loads(line) for line in open(a.metadata) if line.strip()]
    for f in a.filter:
        allowed = np.array([matches(json.loads(f), m) for m in meta])
        truth = filtered_truth(xb, xq, allowed, a.metric, a.k)
        run_points = sweep_points(system, xq, a.k, sweep, a.threads, truth, allowed)
        filtered.append({"filter": f, "target_selectivity": None, "match_count": int(allowed.sum()),
                         "points": run_points, "qps_at_recall": interpolate(run_points, [0.90, 0.95, 0.99])})
        print(f"{a.system} filter {f}: " + "; ".join(
            f"{system.knob}={p['params'][system.knob]} r={p['recall']:.4f} {p['qps']:.0f}/{p['batch_qps']:.0f}" for p in run_points))
    if a.filter_selectivity:
        labels = bench_labels(n)
        for s in [float(x) for x in a.filter_selectivity.split(",")]:
            bound = round(s * 100_000)
            allowed = labels < bound
            truth = filtered_truth(xb, xq, allowed, a.metric, a.k)
            run_points = sweep_points(system, xq, a.k, sweep, a.threads, truth, allowed)
            filtered.append({"filter": f'{{"bench_label": {{"$lt": {bound}}}}}', "target_selectivity": s,
                             "match_count": int(allowed.sum()), "points": run_points,
                             "qps_at_recall": interpolate(run_points, [0.90, 0.95, 0.99])})
            print(f"{a.system} filter {s}: " + "; ".join(
                f"{system.knob}={p['params'][system.knob]} r={p['recall']:.4f} {p['qps']:.0f}/{p['batch_qps']:.0f}" for p in run_points))
    report = {
        "version": 1, "system": a.system, "system_version": system.version, "index": system.index_kind, "storage": a.storage,
        "metric": a.metric,
        "k": a.k, "threads": a.threads, "n_base": n, "n_queries": len(xq), "dimension": d,
        "build_seconds": build, "index_bytes": index_bytes, "index_rss_bytes": index_bytes, "peak_rss_bytes": peak_rss_bytes(),
        "simd": "", "blas": "", "build": dict(getattr(system, "build_info", {"m": a.m, "ef_construction": a.ef_construction}), threads=a.threads),
        "points": points, "qps_at_recall": interpolate(points, [0.90, 0.95, 0.99]),
    }
    if filtered:
        report["filtered"] = filtered
    at = report["qps_at_recall"].get("0.95", {})
    print(f"{a.system} {system.version}: build {build:.2f}s, {(index_bytes - xb.nbytes) / n:.0f} B/vector beyond raw; "
          + "; ".join(f"{system.knob}={p['params'][system.knob]} r={p['recall']:.4f} {p['qps']:.0f}/{p['batch_qps']:.0f}" for p in points)
          + f"; at 0.95: {at.get('qps', float('nan')):.0f} q/s 1 thread, {at.get('batch_qps', float('nan')):.0f} batched")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
