#!/usr/bin/env python3
"""Prints pytrec_eval's values for the small graded example that
Tests/VectorSearchRAGTests/EvaluationTests.swift checks RetrievalMetric against (the run's ties
and a query with no relevant document included). Run with pytrec-eval-terrier installed."""
import json

import pytrec_eval

qrels = {
    "q1": {"d1": 2, "d2": 1, "d3": 0, "d4": 1, "d7": 3},
    "q2": {"d5": 0},
    "q3": {"d6": 1},
}
run = {
    "q1": {"d3": 0.9, "d1": 0.8, "dX": 0.8, "d2": 0.5, "d9": 0.4, "d7": 0.4, "d4": 0.1},
    "q2": {"d5": 0.7, "d1": 0.2},
    "q3": {"d8": 0.3, "d6": 0.3, "d0": 0.3},
}
cutoffs = [1, 3, 5, 10]
names = {"hit_rate": "success", "recall": "recall", "precision": "P", "ndcg": "ndcg_cut", "map": "map_cut"}
measures = {f"{m}.{','.join(map(str, cutoffs))}" for m in names.values()}
scores = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
out = {}
for q in sorted(qrels):
    # trec_eval's order: score descending, then document id descending
    ranked = sorted(run[q], key=lambda d: (-run[q][d], [-ord(c) for c in d]))
    values = {}
    for ours, theirs in names.items():
        for k in cutoffs:
            values[f"{ours}@{k}"] = scores[q][f"{theirs}_{k}"]
    for k in cutoffs:
        cut = {q: {d: run[q][d] for d in ranked[:k]}}
        values[f"mrr@{k}"] = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(cut)[q]["recip_rank"]
    out[q] = {"ranking": ranked, "values": values}
print(json.dumps(out, indent=1, sort_keys=True))
