#!/usr/bin/env python3
"""Checks `vectorsearch rag eval` against pytrec_eval (trec_eval's own code).

    python3 Benchmarks/eval-vs-pytrec.py QRELS RUN REPORT.json [--tolerance 1e-6]

RUN and REPORT.json are what `rag eval --run RUN --json REPORT.json` wrote. Every configuration
(the run file's tag) is scored by pytrec_eval from the run file alone, and every metric of every
query is compared with the report's per-query value: hit_rate@k = success_k, recall@k = recall_k,
precision@k = P_k, ndcg@k = ndcg_cut_k, map@k = map_cut_k, and mrr@k = recip_rank of the run cut
to its first k documents. Queries the run has no line for score 0 (trec_eval -c). Exit status 1
when any value differs by more than the tolerance. Needs `pip install pytrec-eval-terrier`
(Benchmarks/peers/setup-eval.sh makes a venv with it).
"""
import argparse
import collections
import csv
import json
import sys

import pytrec_eval


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("qrels")
    parser.add_argument("run")
    parser.add_argument("report")
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()

    qrels = collections.defaultdict(dict)
    with open(args.qrels, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            qrels[row["query-id"]][row["corpus-id"]] = int(row["score"])
    runs = collections.defaultdict(lambda: collections.defaultdict(list))
    with open(args.run, encoding="utf-8") as f:
        for line in f:
            qid, _, doc, rank, score, tag = line.split()
            runs[tag][qid].append((int(rank), doc, float(score)))
    with open(args.report, encoding="utf-8") as f:
        report = json.load(f)
    if report.get("schema") != "vectorsearch-rag-eval/1":
        sys.exit(f"{args.report}: not a vectorsearch-rag-eval/1 report")
    cutoffs = report["cutoffs"]
    names = {"hit_rate": "success", "recall": "recall", "precision": "P", "ndcg": "ndcg_cut", "map": "map_cut"}
    measures = {f"{m}.{','.join(map(str, cutoffs))}" for m in names.values()}

    worst, checked, failures = 0.0, 0, 0
    for configuration in report["configurations"]:
        tag = configuration["name"].replace(" ", "_")
        run = {q: {doc: score for _, doc, score in sorted(docs)} for q, docs in runs[tag].items()}
        scores = pytrec_eval.RelevanceEvaluator(dict(qrels), measures).evaluate(run)
        for k in cutoffs:  # MRR@k: trec_eval's recip_rank over the first k documents
            cut = {q: {doc: score for _, doc, score in sorted(docs)[:k]} for q, docs in runs[tag].items()}
            for q, values in pytrec_eval.RelevanceEvaluator(dict(qrels), {"recip_rank"}).evaluate(cut).items():
                scores[q][f"mrr@{k}"] = values["recip_rank"]
        for q, ours in configuration["per_query"].items():
            theirs = scores.get(q, {})
            for metric, value in ours.items():
                measure, k = metric.split("@")
                key = metric if measure == "mrr" else f"{names[measure]}_{k}"
                reference = theirs.get(key, 0.0)
                difference = abs(value - reference)
                worst = max(worst, difference)
                checked += 1
                if difference > args.tolerance:
                    failures += 1
                    if failures <= 10:
                        print(f"{tag} {q} {metric}: ours {value!r}, pytrec_eval {reference!r}")
        print(f"{tag}: {len(configuration['per_query'])} queries checked")
    print(f"{checked} values compared, largest difference {worst:.3g}, {failures} beyond {args.tolerance:g}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
