"""Recall@10 of an exhaustive scan over scalar codes, without and with exact re-ranking, to choose
the int8 code: FAISS SQ8's per-dimension range trained on a sample against one scale per vector
(which needs no training), and float16 / bfloat16 for reference. NumPy only; cosine (unit) data.
usage: code_recall.py BASE.fvecs QUERIES.fvecs [QUERY_COUNT]"""
import sys
import numpy as np
from vecs import read_vecs

base, queries = read_vecs(sys.argv[1], np.float32), read_vecs(sys.argv[2], np.float32)
queries = queries[: int(sys.argv[3]) if len(sys.argv) > 3 else 1000]
base = base / np.linalg.norm(base, axis=1, keepdims=True)
queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
k = 10
truth = np.argsort(-(queries @ base.T), axis=1)[:, :k]


def recall(found):
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(found, truth)])


def report(name, decoded):
    scores = queries @ decoded.T
    order = np.argsort(-scores, axis=1)
    line = f"{name:34s} recall@10 {recall(order[:, :k]):.4f}"
    for rerank in (1, 2):
        candidates = order[:, : rerank * k]
        exact = [c[np.argsort(-(base[c] @ q))[:k]] for c, q in zip(candidates, queries)]
        line += f"  re-ranked {rerank}x {recall(exact):.4f}"
    print(line)


sample = base[np.random.default_rng(0).choice(len(base), min(20000, len(base)), replace=False)]
low, high = sample.min(0), sample.max(0)
step = (high - low) / 255
report("int8, per-dimension range (SQ8)", low + np.clip(np.round((base - low) / step), 0, 255) * step)
largest = np.abs(base).max(1, keepdims=True)
report("int8, one scale per vector", np.round(base / largest * 127) * largest / 127)
report("float16", base.astype(np.float16).astype(np.float32))
bits = base.view(np.uint32)
report("bfloat16", ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).view(np.float32))
