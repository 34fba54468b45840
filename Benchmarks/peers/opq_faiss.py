#!/usr/bin/env python3
"""FAISS's OPQ and plain PQ on the first TRAIN rows of BASE, as `vsbench opq` does for ours:
training seconds and the training rows' mean squared reconstruction error, one JSON line each.

    python opq_faiss.py BASE.fvecs M [NITER=50] [TRAIN] [--threads N]

OPQ is `faiss.OPQMatrix(d, M)` with its defaults (niter 50, niter_pq 4, niter_pq_0 40, at most
65,536 training points) or NITER; its error is that of a `ProductQuantizer(d, M, 8)` trained
(25 k-means iterations, FAISS's default) on the rotated rows, and its time includes that training.
"""
import argparse
import json
import time

import faiss
import numpy as np

from vecs import read_vecs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("m", type=int)
    parser.add_argument("niter", type=int, nargs="?", default=50)
    parser.add_argument("train", type=int, nargs="?", default=0)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    x = read_vecs(args.base, np.float32)
    if args.train:
        x = x[: args.train]
    n, d = x.shape

    def mse(pq, rows):
        decoded = pq.decode(pq.compute_codes(rows))
        return float(((rows.astype(np.float64) - decoded) ** 2).sum() / len(rows))

    start = time.perf_counter()
    pq = faiss.ProductQuantizer(d, args.m, 8)
    pq.train(x)
    seconds = time.perf_counter() - start
    print(json.dumps({"engine": "faiss", "method": "pq", "m": args.m, "rows": n, "seconds": seconds, "mse": mse(pq, x)}), flush=True)

    start = time.perf_counter()
    opq = faiss.OPQMatrix(d, args.m)
    opq.niter = args.niter
    opq.train(x)
    rotated = opq.apply_py(x)
    pq = faiss.ProductQuantizer(d, args.m, 8)
    pq.train(rotated)
    seconds = time.perf_counter() - start
    print(json.dumps({"engine": "faiss", "method": "opq", "m": args.m, "rows": n, "iterations": args.niter, "seconds": seconds,
                      "mse": mse(pq, rotated)}), flush=True)


if __name__ == "__main__":
    main()
