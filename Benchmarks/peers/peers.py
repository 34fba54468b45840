"""Peer engines measured like `vectorsearch bench`, reported in the same JSON schema.

HNSW: hnswlib, FAISS IndexHNSWFlat, USearch (M, efConstruction; sweep over ef).
IVF: FAISS IndexIVFFlat (nlist, training sample; sweep over nprobe). Build = train + add.

Each peer is timed in its own native loop: one batch call with 1 thread for "queries one at a time
on one thread" (hnswlib knn_query(Q, num_threads=1), FAISS with omp_set_num_threads(1), USearch
search(..., threads=1)), so no Python call overhead counts against it; then one batch call with
--threads threads. Builds use --threads threads.
Memory: resident-set growth while building, minus the raw vectors, per vector.

usage: peers.py SYSTEM --base B --queries Q --groundtruth G --metric cosine|ip|l2 [--k 10] [--threads 2] [--json OUT]
                [--m 16 --ef-construction 200 --sweep-ef 10,16,...]          (hnswlib, faiss, usearch)
                [--nlist N --train-size S --sweep-nprobe 1,2,4,...]          (faiss-ivf)
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

    def search(self, xq, k, ef, threads):
        self.index.set_ef(max(ef, k))
        labels, _ = self.index.knn_query(xq, k=k, num_threads=threads)
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
        self.index = faiss.IndexHNSWFlat(d, m, mt)
        self.index.hnsw.efConstruction = efc

    def prepare(self, x):
        return normalized_for_faiss(self.faiss, self.metric, x)

    def add(self, xb, threads):
        self.faiss.omp_set_num_threads(threads)
        self.index.add(self.prepare(xb))

    def search(self, xq, k, ef, threads):
        self.faiss.omp_set_num_threads(threads)
        self.index.hnsw.efSearch = max(ef, k)
        _, labels = self.index.search(self.prepare(xq), k)
        return labels


class USearch:
    index_kind, knob = "hnsw", "ef"

    def __init__(self, d, metric, n, a):
        m, efc = a.m, a.ef_construction
        import usearch
        from usearch.index import Index
        self.version = usearch.__version__
        self.index = Index(ndim=d, metric={"cosine": "cos", "ip": "ip", "l2": "l2sq"}[metric], dtype="f32",
                           connectivity=m, expansion_add=efc, expansion_search=64)

    def add(self, xb, threads):
        self.index.add(np.arange(len(xb), dtype=np.uint64), xb, threads=threads)

    def search(self, xq, k, ef, threads):
        self.index.expansion_search = max(ef, k)
        return self.index.search(xq, k, threads=threads).keys


class FaissIVF:
    """IndexIVFFlat as FAISS users build it: an L2 quantizer for l2, an inner-product one for ip
    and cosine (vectors normalised); training samples at most 256 points per list, 10 iterations."""
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
        self.index = faiss.IndexIVFFlat(self.quantizer, d, self.nlist, mt)
        self.build_info = {"nlist": self.nlist}

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

    def search(self, xq, k, nprobe, threads):
        self.faiss.omp_set_num_threads(threads)
        self.index.nprobe = nprobe
        _, labels = self.index.search(self.prepare(xq), k)
        return labels


SYSTEMS = {"hnswlib": HNSWLib, "faiss": FaissHNSW, "usearch": USearch, "faiss-ivf": FaissIVF}


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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("system", choices=sorted(SYSTEMS))
    p.add_argument("--base", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--groundtruth", required=True)
    p.add_argument("--metric", default="l2", choices=["l2", "ip", "cosine"])
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--sweep-ef", default="10,16,32,64,128,256,512")
    p.add_argument("--nlist", type=int)
    p.add_argument("--train-size", type=int)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--sweep-nprobe", default="1,2,4,8,16,32,64,128")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json")
    a = p.parse_args()

    xb, xq = read_vecs(a.base, np.float32), read_vecs(a.queries, np.float32)
    gt = read_vecs(a.groundtruth, np.int32)[:, :a.k]
    n, d = xb.shape
    before = rss_bytes()
    t0 = time.perf_counter()
    system = SYSTEMS[a.system](d, a.metric, n, a)
    system.add(xb, a.threads)
    build = time.perf_counter() - t0
    index_bytes = rss_bytes() - before

    points = []
    sweep = a.sweep_ef if system.knob == "ef" else a.sweep_nprobe
    for value in [int(x) for x in sweep.split(",")]:
        t = time.perf_counter()
        labels = system.search(xq, a.k, value, 1)
        single = time.perf_counter() - t
        t = time.perf_counter()
        system.search(xq, a.k, value, a.threads)
        batch = time.perf_counter() - t
        recall = float(np.mean([len(set(map(int, l)) & set(map(int, g))) / a.k for l, g in zip(labels, gt)]))
        points.append({"params": {system.knob: value}, "recall": recall, "qps": len(xq) / single, "batch_qps": len(xq) / batch,
                       "p50_ms": None, "p99_ms": None})
    report = {
        "version": 1, "system": a.system, "system_version": system.version, "index": system.index_kind, "metric": a.metric,
        "k": a.k, "threads": a.threads, "n_base": n, "n_queries": len(xq), "dimension": d,
        "build_seconds": build, "index_bytes": index_bytes, "index_rss_bytes": index_bytes, "peak_rss_bytes": peak_rss_bytes(),
        "simd": "", "blas": "", "build": dict(getattr(system, "build_info", {"m": a.m, "ef_construction": a.ef_construction}), threads=a.threads),
        "points": points, "qps_at_recall": interpolate(points, [0.90, 0.95, 0.99]),
    }
    at = report["qps_at_recall"].get("0.95", {})
    print(f"{a.system} {system.version}: build {build:.2f}s, {(index_bytes - xb.nbytes) / n:.0f} B/vector beyond raw; "
          + "; ".join(f"{system.knob}={p['params'][system.knob]} r={p['recall']:.4f} {p['qps']:.0f}/{p['batch_qps']:.0f}" for p in points)
          + f"; at 0.95: {at.get('qps', float('nan')):.0f} q/s 1 thread, {at.get('batch_qps', float('nan')):.0f} batched")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
