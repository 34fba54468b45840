"""FAISS exact search (IndexFlatL2 / IndexFlatIP) measured the way `vectorsearch bench` measures
ours, and reported in the same JSON schema.

Single queries: one `search` call per query with OpenMP at 1 thread (a 1-row search spends
microseconds in Python against milliseconds of scan, so the loop does not favour us).
Batch: one `search` call with every query, OpenMP at --threads, best of --runs.

usage: flat_faiss.py --base B.fvecs --queries Q.fvecs --groundtruth G.ivecs --metric cosine|ip|l2
                     [--k 10] [--threads 2] [--runs 3] [--json OUT]
"""
import argparse, json, resource, time
import faiss
import numpy as np
from vecs import read_vecs



def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--groundtruth", required=True)
    p.add_argument("--metric", default="l2", choices=["l2", "ip", "cosine"])
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    a = p.parse_args()

    xb, xq = read_vecs(a.base, np.float32), read_vecs(a.queries, np.float32)
    gt = read_vecs(a.groundtruth, np.int32)
    if a.metric == "cosine":
        xb, xq = xb.copy(), xq.copy()
        faiss.normalize_L2(xb)
        faiss.normalize_L2(xq)
    d = xb.shape[1]

    t0 = time.perf_counter()
    index = faiss.IndexFlatL2(d) if a.metric == "l2" else faiss.IndexFlatIP(d)
    index.add(xb)
    build = time.perf_counter() - t0

    faiss.omp_set_num_threads(1)
    lat, found = [], []
    for i in range(len(xq)):
        q = xq[i:i + 1]
        t = time.perf_counter()
        _, ids = index.search(q, a.k)
        lat.append(time.perf_counter() - t)
        found.append(ids[0])
    faiss.omp_set_num_threads(a.threads)
    best = float("inf")
    for _ in range(a.runs):
        t = time.perf_counter()
        index.search(xq, a.k)
        best = min(best, time.perf_counter() - t)

    recall = float(np.mean([len(set(f[:a.k]) & set(g[:a.k])) / a.k for f, g in zip(found, gt)]))
    lat = np.sort(np.array(lat))
    report = {
        "version": 1, "index": "flat", "metric": a.metric, "k": a.k, "threads": a.threads,
        "n_base": int(xb.shape[0]), "n_queries": int(xq.shape[0]), "dimension": int(d),
        "build_seconds": build, "index_bytes": int(xb.nbytes),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "simd": faiss.get_compile_options(), "blas": "faiss-cpu " + faiss.__version__,
        "system": "faiss",
        "points": [{
            "params": {}, "recall": recall, "qps": len(xq) / float(lat.sum()),
            "batch_qps": len(xq) / best,
            "p50_ms": 1000 * float(lat[int(np.ceil(0.50 * len(lat))) - 1]),
            "p99_ms": 1000 * float(lat[int(np.ceil(0.99 * len(lat))) - 1]),
        }],
    }
    pt = report["points"][0]
    print(f"faiss {faiss.__version__} flat {a.metric}: {xb.shape[0]}x{d}, {len(xq)} queries; recall@{a.k} {recall:.4f}; "
          f"qps (1 thread) {pt['qps']:.1f}; batch qps ({a.threads} threads) {pt['batch_qps']:.1f}; "
          f"p50 {pt['p50_ms']:.3f} ms; p99 {pt['p99_ms']:.3f} ms")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
